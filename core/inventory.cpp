#include "core/inventory.hpp"

#include <algorithm>

namespace pgha {

const char* to_string(Role role) {
  switch (role) {
    case Role::etcd: return "etcd";
    case Role::patroni: return "patroni";
    case Role::haproxy: return "haproxy";
    case Role::keepalived: return "keepalived";
    case Role::pgbouncer: return "pgbouncer";
    case Role::pgbackrest: return "pgbackrest";
  }
  return "?";
}

const std::vector<Role>& all_roles() {
  static const std::vector<Role> roles = {Role::etcd,       Role::patroni,   Role::haproxy,
                                          Role::keepalived, Role::pgbouncer, Role::pgbackrest};
  return roles;
}

std::optional<Role> role_from_string(const std::string& name) {
  for (Role r : all_roles()) {
    if (name == to_string(r)) return r;
  }
  return std::nullopt;
}

Mark Inventory::where(const std::string& path) const {
  auto it = marks.find(path);
  return it == marks.end() ? Mark{} : it->second;
}

bool has_role(const Node& node, Role role) {
  return std::find(node.roles.begin(), node.roles.end(), role) != node.roles.end();
}

std::vector<const Node*> Inventory::nodes_with(Role role) const {
  std::vector<const Node*> out;
  for (const auto& n : nodes) {
    if (has_role(n, role)) out.push_back(&n);
  }
  return out;
}

const Node* Inventory::find_node(const std::string& name) const {
  for (const auto& n : nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

}  // namespace pgha
