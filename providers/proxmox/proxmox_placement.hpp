// Which Proxmox host each inventory node's VM goes to. Pure: the provider feeds it the online hosts
// and the VMs that already exist, and acts on the answer.
//
// The rule (anti-affinity, the point of HA): no two database nodes share a host while there are
// enough hosts. Existing VMs stay where they are and count. Each new database node goes to the host
// with the fewest database nodes, then the fewest of this cluster's VMs, then the earliest in the
// inventory's host list; other nodes go to the host with the fewest of this cluster's VMs. With more
// database nodes than hosts they are spread as evenly as possible and `shares_hosts` is set.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace pgha::pve {

struct PlacementNode {
  std::string node;          // inventory node name
  bool database = false;     // carries the patroni role
  std::string current_host;  // where its VM already is; "" when it has none
};

struct Placement {
  std::map<std::string, std::string> host_of;  // node -> host, for every input node
  bool shares_hosts = false;                   // two database nodes ended up on one host
};

// Errors: bad_input when `hosts` is empty while some node still needs a host.
Result<Placement> place_nodes(const std::vector<PlacementNode>& nodes, const std::vector<std::string>& hosts);

}  // namespace pgha::pve
