#include "providers/proxmox/proxmox_placement.hpp"

#include <tuple>

namespace pgha::pve {

namespace {

struct Load {
  int database = 0;
  int total = 0;
};

}  // namespace

Result<Placement> place_nodes(const std::vector<PlacementNode>& nodes,
                              const std::vector<std::string>& hosts) {
  Placement out;
  std::map<std::string, Load> load;
  for (const auto& h : hosts) load[h];
  for (const auto& n : nodes) {
    if (n.current_host.empty()) continue;
    out.host_of[n.node] = n.current_host;
    Load& l = load[n.current_host];
    l.total++;
    if (n.database) l.database++;
  }

  // Database nodes first, so they get the spread; then the rest fill in.
  for (bool database : {true, false}) {
    for (const auto& n : nodes) {
      if (!n.current_host.empty() || n.database != database) continue;
      if (hosts.empty()) {
        return Error(ErrorKind::bad_input, "no usable Proxmox host for node " + n.node);
      }
      const std::string* best = nullptr;
      std::tuple<int, int, size_t> best_key;
      for (size_t i = 0; i < hosts.size(); ++i) {
        const Load& l = load[hosts[i]];
        auto key = std::make_tuple(database ? l.database : 0, l.total, i);
        if (best == nullptr || key < best_key) {
          best = &hosts[i];
          best_key = key;
        }
      }
      out.host_of[n.node] = *best;
      Load& l = load[*best];
      l.total++;
      if (database) l.database++;
    }
  }
  for (const auto& [host, l] : load) {
    if (l.database > 1) out.shares_hosts = true;
  }
  return out;
}

}  // namespace pgha::pve
