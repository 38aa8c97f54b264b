// A no-op `up`: the plan found nothing to change, so no phase runs; every health gate the phases end
// at is still checked, in one pass. etcd and Patroni are judged from the plan's own observation (no
// round trip when they pass), pgBackRest's check runs on the leader, and each node asks its HAProxy
// ports, its PgBouncer and the VIP in one command, its queries side by side.
#include <sstream>

#include "roles/engine.hpp"
#include "roles/parallel.hpp"
#include "roles/plan.hpp"
#include "roles/remote.hpp"

namespace pgha {
namespace {

constexpr std::chrono::milliseconds kEdgePoll(250);

struct EdgeCheck {
  std::string what;  // "HAProxy write port on pg1"
  std::string host;  // where psql connects, from the node itself
  int port = 0;
  std::string expect;  // pg_is_in_recovery(): "f" on the primary, "t" on a replica
};

// The gates of converge_haproxy, converge_pgbouncer and converge_keepalived, for one node.
std::vector<EdgeCheck> edge_checks(EngineContext& ctx, const NodeHandle& n, bool vip_from_here) {
  const Inventory& inv = ctx.inv;
  std::vector<EdgeCheck> out;
  const std::string& name = n.node->name;
  if (has_role(*n.node, Role::haproxy)) {
    out.push_back({"HAProxy write port on " + name, "127.0.0.1", inv.ports.haproxy_write, "f"});
    if (inv.nodes_with(Role::patroni).size() > 1)
      out.push_back({"HAProxy read port on " + name, "127.0.0.1", inv.ports.haproxy_read, "t"});
  }
  if (has_role(*n.node, Role::pgbouncer))
    out.push_back({"PgBouncer on " + name, "127.0.0.1", inv.ports.pgbouncer, "f"});
  if (vip_from_here)
    out.push_back({"the VIP " + inv.network.vip, inv.network.vip, inv.ports.haproxy_write, "f"});
  return out;
}

// One command runs the node's checks side by side; each prints "index<TAB>answer". The superuser's
// password arrives on stdin, as in query_tcp(). On the leader the first attempt also runs
// pgBackRest's check (about a second: it switches WAL and waits for its archive) beside them;
// `backup_ok` says whether it passed.
Status check_edge(EngineContext& ctx, NodeHandle& n, const std::vector<EdgeCheck>& checks, bool with_backup,
                  bool& backup_ok) {
  if (checks.empty() && !with_backup) return {};
  std::string queries =
      "IFS= read -r PGPASSWORD; export PGPASSWORD PGCONNECT_TIMEOUT=5; "
      "q() { r=$(psql -X -q -tA -v ON_ERROR_STOP=1 -h \"$2\" -p \"$3\" -U postgres -d postgres "
      "-c 'SELECT pg_is_in_recovery();' 2>&1 | tr '\\n\\t' '  '); printf '%s\\t%s\\n' \"$1\" \"$r\"; }; ";
  for (size_t i = 0; i < checks.size(); ++i)
    queries += "q " + std::to_string(i) + " " + shell_quote(checks[i].host) + " " +
               std::to_string(checks[i].port) + " & ";
  const std::string backup =
      "{ runuser -u postgres -- pgbackrest --stanza=" + shell_quote(ctx.inv.cluster_name) +
      " --log-level-console=warn check >/dev/null 2>&1; printf 'backup\\t%s\\n' $?; } & ";
  bool first = true;
  backup_ok = !with_backup;
  return poll_until("the services seen from " + n.node->name, std::chrono::seconds(ctx.timeouts.service_s),
                    kEdgePoll, [&](std::string& why) {
                      const bool backup_now = with_backup && first;
                      first = false;
                      auto r = n.shell->run(queries + (backup_now ? backup : "") + "wait",
                                            ctx.secrets.superuser_password + "\n");
                      if (!r) {
                        why = r.error().describe();
                        return false;
                      }
                      std::vector<std::string> answers(checks.size(), "(no answer)");
                      std::istringstream lines(r->out);
                      for (std::string line; std::getline(lines, line);) {
                        auto t = line.find('\t');
                        if (t == std::string::npos) continue;
                        const std::string key = line.substr(0, t), value = trim(line.substr(t + 1));
                        if (key == "backup") {
                          backup_ok = value == "0";
                        } else if (size_t i = std::stoul(key); i < answers.size()) {
                          answers[i] = value;
                        }
                      }
                      for (size_t i = 0; i < checks.size(); ++i) {
                        if (answers[i] != checks[i].expect) {
                          why = checks[i].what + " answered '" + answers[i] + "', expected '" +
                                checks[i].expect + "'";
                          return false;
                        }
                      }
                      return true;
                    });
}

}  // namespace

Status verify_cluster(EngineContext& ctx, const ClusterView& seen) {
  auto etcd = nodes_with_role(ctx, Role::etcd);
  if (!etcd.empty()) {
    if (auto s = etcd_gate(ctx, etcd, &seen); !s) return s;
  }
  auto patroni = nodes_with_role(ctx, Role::patroni);
  if (!patroni.empty()) {
    NodeHandle* leader = nullptr;
    if (auto s = patroni_gate(ctx, patroni, &seen, leader); !s) return s;
    ctx.leader = leader;
  }
  NodeHandle* vip_node = nullptr;
  if (!ctx.inv.network.vip.empty()) {
    auto keepalived = nodes_with_role(ctx, Role::keepalived);
    if (!keepalived.empty()) vip_node = keepalived.front();
  }
  NodeHandle* backup_node =
      ctx.leader && has_role(*ctx.leader->node, Role::pgbackrest) ? ctx.leader : nullptr;
  bool backup_ok = true;
  std::vector<NodeHandle*> all;
  for (auto& n : ctx.nodes) all.push_back(&n);
  if (auto s = for_each_node(all,
                             [&](NodeHandle& n) {
                               bool ok = true;
                               Status st = check_edge(ctx, n, edge_checks(ctx, n, &n == vip_node),
                                                      &n == backup_node, ok);
                               if (&n == backup_node) backup_ok = ok;
                               return st;
                             });
      !s)
    return s;
  // A failed check goes through the pgBackRest phase itself: it creates a stanza that is missing,
  // and a check that fails again stops `up` with the command's own error.
  if (!backup_ok) return converge_pgbackrest(ctx);
  return {};
}

}  // namespace pgha
