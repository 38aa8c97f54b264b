#include "providers/proxmox/proxmox_routes.hpp"

namespace pgha::pve {

std::string describe(const HostRoute& r) {
  const std::string from = "template " + std::to_string(r.template_vmid);
  if (r.own) return "clone from " + r.template_host + "'s own " + from;
  std::string out = "clone from " + from + " on " + r.template_host;
  if (!r.target.empty()) return out + " with target " + r.target + " (" + r.why + ")";
  if (r.migrate_to.empty()) return out;
  return out + ", then migrate to " + r.migrate_to + " (" + r.why + "; targetstorage " +
         (r.target_storage.empty() ? r.storage : r.target_storage) + ")";
}

std::string describe_unobserved(const ProxmoxSettings& s, const std::string& host) {
  auto own = s.templates.find(host);
  if (own != s.templates.end())
    return "clone from " + host + "'s own template " + std::to_string(own->second);
  const std::string storage =
      s.full_clone && !s.storage.empty() ? "storage " + s.storage : "the template's disk storage";
  return "on " + host + " from template " + std::to_string(s.template_vmid) + ": clone with target " + host +
         " if " + storage + " is shared, else clone on the template's host and migrate to " + host +
         " (neither if the template is on " + host + ")";
}

}  // namespace pgha::pve
