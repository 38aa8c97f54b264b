#include "core/node_os.hpp"

namespace pgha {

const std::vector<NodeOs>& node_oses() {
  static const std::vector<NodeOs> table = {
      {"debian12", "bookworm", "Debian 12 (bookworm)", 15},
      {"debian13", "trixie", "Debian 13 (trixie)", 17},
  };
  return table;
}

std::vector<std::string> node_os_ids() {
  std::vector<std::string> ids;
  for (const auto& os : node_oses()) ids.push_back(os.id);
  return ids;
}

const NodeOs* find_node_os(std::string_view id) {
  for (const auto& os : node_oses()) {
    if (os.id == id) return &os;
  }
  return nullptr;
}

const NodeOs* find_node_os_shipping(int postgres_version) {
  for (const auto& os : node_oses()) {
    if (os.postgres_version == postgres_version) return &os;
  }
  return nullptr;
}

std::string debian_suite_of(const std::string& image) {
  const size_t colon = image.rfind(':');
  const std::string repo = colon == std::string::npos ? image : image.substr(0, colon);
  const std::string suite = colon == std::string::npos ? "" : image.substr(colon + 1);
  bool word = (repo == "debian" || repo.ends_with("/debian")) && !suite.empty() && suite != "latest";
  for (char c : suite) word = word && c >= 'a' && c <= 'z';
  return word ? suite : "";
}

std::string os_of_base_image(const std::string& base_image) {
  const std::string suite = debian_suite_of(base_image);
  for (const auto& os : node_oses()) {
    if (!suite.empty() && os.suite == suite) return os.id;
  }
  return "";
}

const NodeOs& node_os(const Inventory& inv, const Node& node) {
  if (const NodeOs* os = find_node_os(node.os)) return *os;
  if (inv.provider.type == ProviderType::docker) {
    if (const NodeOs* os = find_node_os(os_of_base_image(inv.provider.docker.base_image))) return *os;
  }
  return node_oses().front();
}

}  // namespace pgha
