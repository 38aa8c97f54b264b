#include "providers/proxmox/proxmox_state.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace pgha::pve {

namespace fs = std::filesystem;

namespace {
const char* kFile = "proxmox-vms.json";
}

Result<VmRecords> load_vm_records(const std::string& state_dir) {
  VmRecords out;
  if (state_dir.empty()) return out;
  fs::path path = fs::path(state_dir) / kFile;
  std::error_code ec;
  if (!fs::exists(path, ec)) return out;
  std::ifstream in(path);
  if (!in) return Error(ErrorKind::io, "cannot read " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (!doc.is_object() || !doc.contains("vms") || !doc["vms"].is_object()) {
    return Error(ErrorKind::bad_input, path.string() + ": not a pgha proxmox state file");
  }
  for (const auto& [node, vm] : doc["vms"].items()) {
    if (!vm.is_object() || !vm.value("vmid", nlohmann::json()).is_number_integer()) continue;
    out[node] = VmRecord{vm["vmid"].get<int>(), vm.value("host", "")};
  }
  return out;
}

Status save_vm_records(const std::string& state_dir, const VmRecords& records) {
  if (state_dir.empty()) return {};
  std::error_code ec;
  fs::create_directories(state_dir, ec);
  if (ec) return Error(ErrorKind::io, "cannot create " + state_dir + ": " + ec.message());
  nlohmann::json doc = {{"vms", nlohmann::json::object()}};
  for (const auto& [node, vm] : records) doc["vms"][node] = {{"vmid", vm.vmid}, {"host", vm.host}};
  fs::path path = fs::path(state_dir) / kFile;
  fs::path temp = path;
  temp += ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << doc.dump(2) << "\n";
    if (!out) return Error(ErrorKind::io, "cannot write " + temp.string());
  }
  fs::rename(temp, path, ec);
  if (ec) return Error(ErrorKind::io, "cannot rename " + temp.string() + ": " + ec.message());
  return {};
}

}  // namespace pgha::pve
