// Subnet, gateway, VIP and node addresses.
#include <map>
#include <optional>

#include "core/inventory_rules.hpp"
#include "core/net_addr.hpp"

namespace pgha {

namespace {

// Reports an address that is not inside the subnet's usable host range; subnet may be absent
// (already reported), and then only the address's form is checked.
std::optional<uint32_t> check_address(RuleContext& c, Mark at, const std::string& what,
                                      const std::string& text, const std::optional<Subnet>& subnet) {
  auto ip = parse_ipv4(text);
  if (!ip) {
    c.error(at, what + " '" + text + "' is not an IPv4 address");
    return std::nullopt;
  }
  if (!subnet) return ip;
  std::string cidr = c.inv().network.subnet;
  if (!subnet->contains(*ip)) {
    c.error(at, what + " " + text + " is outside network.subnet " + cidr);
  } else if (*ip == subnet->network()) {
    c.error(at, what + " " + text + " is the network address of " + cidr);
  } else if (*ip == subnet->broadcast()) {
    c.error(at, what + " " + text + " is the broadcast address of " + cidr);
  }
  return ip;
}

std::optional<Subnet> check_subnet(RuleContext& c) {
  const std::string& cidr = c.inv().network.subnet;
  Mark at = c.at({"network.subnet", "network"});
  auto subnet = parse_cidr(cidr);
  if (!subnet) {
    c.error(at, "network.subnet '" + cidr + "' is not an IPv4 CIDR like 10.42.0.0/24");
    return std::nullopt;
  }
  if (subnet->prefix < 8 || subnet->prefix > 30) {
    c.error(at, "network.subnet " + cidr + " must have a prefix length between /8 and /30");
    return std::nullopt;
  }
  if (subnet->has_host_bits()) {
    c.error(at, "network.subnet " + cidr + " has host bits set; did you mean '" +
                    format_ipv4(subnet->network()) + "/" + std::to_string(subnet->prefix) + "'?");
    return std::nullopt;
  }
  return subnet;
}

}  // namespace

void check_network(RuleContext& c) {
  const Inventory& inv = c.inv();
  auto subnet = check_subnet(c);
  std::optional<uint32_t> gateway;
  if (!inv.network.gateway.empty()) {
    gateway = check_address(c, c.at({"network.gateway", "network.subnet", "network"}), "network.gateway",
                            inv.network.gateway, subnet);
  }
  std::map<uint32_t, size_t> owners;  // address -> node index
  for (size_t i = 0; i < inv.nodes.size(); ++i) {
    const Node& n = inv.nodes[i];
    std::string p = node_path(i);
    if (n.address.empty()) {
      c.error(c.at({p + ".address", p + ".name", p}), "node " + n.name + " has no address");
      continue;
    }
    Mark at = c.at({p + ".address", p});
    auto ip = check_address(c, at, "address of node " + n.name, n.address, subnet);
    if (!ip) continue;
    if (auto [it, inserted] = owners.emplace(*ip, i); !inserted) {
      c.error(at, "address " + n.address + " of " + p + " (" + n.name + ") is also used by " +
                      node_path(it->second) + " (" + inv.nodes[it->second].name + ")");
    }
    if (gateway && *ip == *gateway) c.error(at, "address of node " + n.name + " is the gateway " + n.address);
  }
  if (inv.network.vip.empty()) return;
  Mark at = c.at({"network.vip", "network"});
  auto vip = check_address(c, at, "network.vip", inv.network.vip, subnet);
  if (!vip) return;
  if (auto it = owners.find(*vip); it != owners.end()) {
    c.error(at,
            "network.vip " + inv.network.vip + " is also the address of node " + inv.nodes[it->second].name);
  }
  if (gateway && *vip == *gateway) c.error(at, "network.vip " + inv.network.vip + " is also the gateway");
  if (inv.network.interface.empty())
    c.error(c.at({"network.interface", "network"}), "network.interface is empty");
}

}  // namespace pgha
