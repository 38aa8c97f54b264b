// Cluster identity, nodes and role placement.
#include <map>

#include "core/inventory_rules.hpp"
#include "core/node_os.hpp"

namespace pgha {

namespace {

// Lowercase letters, digits and '-', starting with a letter, not ending with '-'.
bool dns_label(const std::string& s, size_t max_len) {
  if (s.empty() || s.size() > max_len || s[0] < 'a' || s[0] > 'z' || s.back() == '-') return false;
  for (char ch : s) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) return false;
  }
  return true;
}

void check_node_os(RuleContext& c);

// Where a node's roles were decided: its own roles: key, else defaults.roles, else the node.
Mark roles_mark(const RuleContext& c, size_t i) {
  std::string p = node_path(i);
  return c.at({p + ".roles", "defaults.roles", p, "nodes", "instances"});
}

std::vector<size_t> nodes_with(const Inventory& inv, Role role) {
  std::vector<size_t> out;
  for (size_t i = 0; i < inv.nodes.size(); ++i) {
    if (has_role(inv.nodes[i], role)) out.push_back(i);
  }
  return out;
}

void check_resources(RuleContext& c, size_t i) {
  const Node& n = c.inv().nodes[i];
  std::string p = node_path(i);
  struct Limit {
    const char* field;
    const char* default_field;
    int value;
    int min;
  };
  for (const Limit& l : {Limit{"cpu", "defaults.cpu", n.resources.cpu, 1},
                         Limit{"memory_mb", "defaults.memory_mb", n.resources.memory_mb, 512},
                         Limit{"disk_gb", "defaults.disk_gb", n.resources.disk_gb, 5}}) {
    if (l.value < l.min) {
      c.error(c.at({p + "." + l.field, l.default_field, p}),
              std::string(l.field) + " of node " + n.name + " is " + std::to_string(l.value) +
                  "; it must be at least " + std::to_string(l.min));
    }
  }
}

}  // namespace

void check_cluster(RuleContext& c) {
  const Inventory& inv = c.inv();
  if (inv.cluster_name.empty()) {
    c.error(c.at({"cluster.name", "cluster"}), "cluster.name is required");
  } else if (!dns_label(inv.cluster_name, 31)) {
    c.error(c.at({"cluster.name"}),
            "cluster name '" + inv.cluster_name +
                "' is not a DNS label: use up to 31 lowercase letters, digits and '-', "
                "starting with a letter");
  }
  check_node_os(c);
}

namespace {

// One OS for every node, and the PostgreSQL version that OS ships (pgha installs Debian's packages).
void check_node_os(RuleContext& c) {
  const Inventory& inv = c.inv();
  const std::string version = std::to_string(inv.postgres_version);
  if (!find_node_os_shipping(inv.postgres_version)) {
    std::string shipped;
    for (const auto& os : node_oses())
      shipped += (shipped.empty() ? "" : ", ") + os.name + " ships " + std::to_string(os.postgres_version);
    c.error(c.at({"cluster.postgres_version"}), "PostgreSQL " + version + " is not supported: " + shipped);
    return;
  }
  const bool docker = inv.provider.type == ProviderType::docker;
  const std::string image_os = docker ? os_of_base_image(inv.provider.docker.base_image) : "";
  const NodeOs* first = nullptr;
  Mark said;
  for (size_t i = 0; i < inv.nodes.size(); ++i) {
    const Node& n = inv.nodes[i];
    const std::string p = node_path(i);
    if (docker && !n.os.empty() && !image_os.empty() && n.os != image_os) {
      // Said once where the value is written: defaults.os stands for every node that does not override it.
      const Mark at = c.at({p + ".os", "defaults.os", "provider.docker.base_image"});
      if (at.line != said.line || at.col != said.col) {
        c.error(at, "os " + n.os + " (node " + n.name + ") disagrees with provider.docker.base_image " +
                        inv.provider.docker.base_image + ", which is " + find_node_os(image_os)->name);
      }
      said = at;
      continue;
    }
    const NodeOs& os = node_os(inv, n);
    if (!first) {
      first = &os;
      if (os.postgres_version != inv.postgres_version) {
        c.error(c.at({"cluster.postgres_version"}),
                "PostgreSQL " + version + " is not what " + os.name + " ships (" +
                    std::to_string(os.postgres_version) + "): set cluster.postgres_version: " +
                    std::to_string(os.postgres_version) + ", or run nodes on the OS that ships " + version +
                    (docker ? " (provider.docker.base_image)" : " (defaults.os)"));
      }
    } else if (&os != first) {
      c.error(c.at({p + ".os", p}), "node " + n.name + " runs " + os.name + " but " + inv.nodes[0].name +
                                        " runs " + first->name + ": every node of a cluster runs one OS");
    }
  }
}

}  // namespace

void check_nodes(RuleContext& c) {
  const Inventory& inv = c.inv();
  if (inv.nodes.empty()) {
    c.error(c.at({"nodes", "instances"}), "no nodes: declare at least one under nodes:");
    return;
  }
  std::map<std::string, size_t> names;
  for (size_t i = 0; i < inv.nodes.size(); ++i) {
    const Node& n = inv.nodes[i];
    std::string p = node_path(i);
    if (n.name.empty()) {
      c.error(c.at({p + ".name", p}), p + " has no name");
    } else if (!dns_label(n.name, 63)) {
      c.error(c.at({p + ".name", p}),
              "node name '" + n.name +
                  "' is not a DNS label: use lowercase letters, digits and '-', starting "
                  "with a letter");
    } else if (auto [it, inserted] = names.emplace(n.name, i); !inserted) {
      c.error(c.at({p + ".name", p}),
              "duplicate node name '" + n.name + "' (also " + node_path(it->second) + ")");
    }
    if (n.roles.empty()) c.error(roles_mark(c, i), "node " + n.name + " has no roles");
    check_resources(c, i);
  }
}

void check_roles(RuleContext& c) {
  const Inventory& inv = c.inv();
  if (inv.nodes.empty()) return;
  auto etcd = nodes_with(inv, Role::etcd);
  Mark etcd_at = etcd.empty() ? roles_mark(c, 0) : roles_mark(c, etcd.front());
  if (etcd.empty()) {
    c.error(etcd_at, "no node carries the etcd role: Patroni needs an etcd cluster");
  } else if (etcd.size() < 3) {
    c.warning(etcd_at, "only " + std::to_string(etcd.size()) + " etcd member" +
                           (etcd.size() == 1 ? "" : "s") +
                           ": losing one loses quorum and Patroni demotes the primary; use at least 3");
  } else if (etcd.size() % 2 == 0) {
    c.warning(etcd_at, std::to_string(etcd.size()) + " etcd members tolerate no more failures than " +
                           std::to_string(etcd.size() - 1) + "; use an odd number");
  }
  auto patroni = nodes_with(inv, Role::patroni);
  if (patroni.empty()) c.error(roles_mark(c, 0), "no node carries the patroni role: there is no database");
  if (inv.replication.mode == ReplicationMode::sync_mode && patroni.size() < 3) {
    c.error(c.at({"replication.mode", "replication"}),
            "replication mode sync needs at least 3 patroni nodes, found " + std::to_string(patroni.size()));
  }
  auto keepalived = nodes_with(inv, Role::keepalived);
  if (!keepalived.empty() && inv.network.vip.empty()) {
    std::string p = node_path(keepalived.front());
    c.error(c.at({p + ".roles", "defaults.roles", "network", p}),
            "node " + inv.nodes[keepalived.front()].name +
                " carries the keepalived role but network.vip is not set; set a VIP or drop the role");
  }
}

}  // namespace pgha
