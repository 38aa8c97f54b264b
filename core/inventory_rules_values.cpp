// The grammars of values that reach configs, commands and mount points (core/value_grammar.hpp):
// interface names, Patroni tag keys, image references, Proxmox property values, login names.
#include <algorithm>
#include <regex>
#include <set>

#include "core/inventory_rules.hpp"
#include "core/net_addr.hpp"
#include "core/value_grammar.hpp"

namespace pgha {

namespace {

// A Proxmox property value is spliced into "key=value,key=value" strings (net0, ipconfig0): a ',' or
// '=' in it would add a property. These are the identifier shapes Proxmox itself accepts.
bool proxmox_word(const std::string& s) {
  static const std::regex word(R"([A-Za-z][A-Za-z0-9_.-]{0,62})");
  return std::regex_match(s, word);
}

bool login_name(const std::string& s) {
  static const std::regex name(R"([a-z_][a-z0-9_-]{0,31})");
  return std::regex_match(s, name);
}

void check_interface(RuleContext& c) {
  const std::string& name = c.inv().network.interface;
  if (name.empty() || valid_interface_name(name)) return;  // empty: check_network's message
  c.error(c.at({"network.interface", "network"}), "network.interface '" + name +
                                                      "' is not a Linux interface name keepalived can carry "
                                                      "(1-15 characters, no '/', ':', whitespace or any of "
                                                      "\" ' # ! $ { } \\ `, not '.' or '..')");
}

void check_tags(RuleContext& c) {
  const Inventory& inv = c.inv();
  for (size_t i = 0; i < inv.nodes.size(); ++i) {
    std::string p = node_path(i);
    for (const auto& [key, value] : inv.nodes[i].tags) {
      const std::string at = p + ".tags." + key;
      if (!valid_identifier(key)) {
        c.error(c.at({at, p + ".tags", p}), "Patroni tag key '" + key + "' of node " + inv.nodes[i].name +
                                                " is not an identifier ([A-Za-z_][A-Za-z0-9_]*)");
        continue;
      }
      // The tags Patroni itself reads are typed by its validator (patroni/validator.py, "tags"):
      // a string there makes `patroni --validate-config` fail and the member misbehave.
      static const std::set<std::string> booleans = {"nofailover", "clonefrom", "noloadbalance", "nosync"};
      if (booleans.count(key) && value != "true" && value != "false") {
        c.error(c.at({at, p + ".tags", p}), "Patroni tag " + key + " of node " + inv.nodes[i].name +
                                                " is a boolean (true or false), not '" + value + "'");
      }
      const std::string& named = value;  // a structured binding cannot be captured (clang 14)
      if (key == "replicatefrom" &&
          std::none_of(inv.nodes.begin(), inv.nodes.end(), [&](const Node& n) { return n.name == named; })) {
        c.error(c.at({at, p + ".tags", p}), "Patroni tag replicatefrom of node " + inv.nodes[i].name +
                                                " names '" + value +
                                                "', which is not a node of the inventory");
      }
    }
  }
}

void check_images(RuleContext& c) {
  const DockerSettings& d = c.inv().provider.docker;
  if (c.inv().provider.type != ProviderType::docker) return;
  for (const auto& [key, value] : {std::pair<const char*, const std::string&>{"base_image", d.base_image},
                                   std::pair<const char*, const std::string&>{"image", d.image}}) {
    if (value.empty() || valid_image_reference(value)) continue;
    std::string path = std::string("provider.docker.") + key;
    c.error(c.at({path, "provider.docker", "provider"}),
            path + " '" + value + "' is not a Docker image reference ([registry/]name[:tag][@digest])");
  }
}

void check_proxmox_values(RuleContext& c) {
  const Inventory& inv = c.inv();
  if (inv.provider.type != ProviderType::proxmox) return;
  const ProxmoxSettings& x = inv.provider.proxmox;
  auto at = [&](const std::string& path) { return c.at({path, "provider.proxmox", "provider"}); };
  if (!x.bridge.empty() && !(proxmox_word(x.bridge) && valid_interface_name(x.bridge))) {
    c.error(at("provider.proxmox.bridge"), "provider.proxmox.bridge '" + x.bridge +
                                               "' is not a bridge name (a letter, then letters, digits, "
                                               "'_', '.' or '-'; at most 15 characters)");
  }
  if (!x.storage.empty() && !proxmox_word(x.storage)) {
    c.error(at("provider.proxmox.storage"),
            "provider.proxmox.storage '" + x.storage +
                "' is not a Proxmox storage id (a letter, then letters, digits, '_', '.' or '-')");
  }
  for (size_t i = 0; i < x.nodes.size(); ++i) {
    std::string path = "provider.proxmox.nodes[" + std::to_string(i) + "]";
    if (!proxmox_word(x.nodes[i])) {
      c.error(at(path), path + " '" + x.nodes[i] +
                            "' is not a Proxmox node name (a letter, then letters, digits, '_', '.' or '-')");
    }
  }
  if (!x.ciuser.empty() && !login_name(x.ciuser)) {
    c.error(at("provider.proxmox.ciuser"),
            "provider.proxmox.ciuser '" + x.ciuser + "' is not a login name ([a-z_][a-z0-9_-], at most 32)");
  }
  if (!x.nameserver.empty() && !parse_ipv4(x.nameserver)) {
    c.error(at("provider.proxmox.nameserver"),
            "provider.proxmox.nameserver '" + x.nameserver + "' is not an IPv4 address");
  }
}

void check_static_values(RuleContext& c) {
  const Inventory& inv = c.inv();
  if (inv.provider.type != ProviderType::static_hosts) return;
  const StaticSettings& s = inv.provider.static_hosts;
  if (!s.user.empty() && !login_name(s.user)) {
    c.error(c.at({"provider.static.user", "provider.static", "provider"}),
            "provider.static.user '" + s.user + "' is not a login name ([a-z_][a-z0-9_-], at most 32)");
  }
}

}  // namespace

void check_values(RuleContext& c) {
  check_interface(c);
  check_tags(c);
  check_images(c);
  check_proxmox_values(c);
  check_static_values(c);
}

}  // namespace pgha
