// A no-op `up`: the plan found nothing to change, so no phase runs; every health gate the phases end
// at is still checked, in one pass. etcd and Patroni are judged from the plan's own observation (no
// round trip when they pass), and each node asks its HAProxy ports, its PgBouncer and the VIP in one
// command (one psql that connects to each in turn), the leader running pgBackRest's check beside it.
#include <cctype>
#include <sstream>

#include "core/pgbouncer_auth.hpp"
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
  std::string expect;           // pg_is_in_recovery(): "f" on the primary, "t" on a replica
  bool as_lookup_role = false;  // PgBouncer refuses superusers: it logs in as its lookup role
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
  if (vip_from_here)
    out.push_back({"the VIP " + inv.network.vip, inv.network.vip, inv.ports.haproxy_write, "f"});
  // Last: check_edge gives it its own password.
  if (has_role(*n.node, Role::pgbouncer))
    out.push_back({"PgBouncer on " + name, "127.0.0.1", inv.ports.pgbouncer, "f", true});
  return out;
}

// One command asks all of the node's checks: a single psql that connects to each in turn (every
// process and connection costs CPU, and on a 2-core machine the checks of all nodes run at once),
// printing "@i" before the answer of check i. The first check's password arrives on stdin, as in
// query_tcp(), and the script follows it; the PgBouncer check, always last, names its user and its
// password (hex, derived) in the script's \c, which also travels on stdin. On the leader the first attempt
// also runs pgBackRest's check (about a second: it switches WAL and waits for its archive) beside it;
// `backup_ok` says whether it passed.
Status check_edge(EngineContext& ctx, NodeHandle& n, const std::vector<EdgeCheck>& checks, bool with_backup,
                  bool& backup_ok) {
  if (checks.empty() && !with_backup) return {};
  const std::string lookup_password = pgbouncer_lookup_password(ctx.secrets);
  auto user_of = [](const EdgeCheck& c) {
    return std::string(c.as_lookup_role ? kPgbouncerLookupRole : "postgres");
  };
  std::string script;
  for (size_t i = 0; i < checks.size(); ++i) {
    script += "\\echo @" + std::to_string(i) + "\n";
    if (i > 0)
      script += "\\c \"host=" + checks[i].host + " port=" + std::to_string(checks[i].port) +
                " user=" + user_of(checks[i]) + " dbname=postgres" +
                (checks[i].as_lookup_role ? " password=" + lookup_password : "") + "\"\n";
    script += "SELECT pg_is_in_recovery();\n";
  }
  const std::string& first_password =
      !checks.empty() && checks[0].as_lookup_role ? lookup_password : ctx.secrets.superuser_password;
  std::string command = "IFS= read -r PGPASSWORD; export PGPASSWORD PGCONNECT_TIMEOUT=5; ";
  if (!checks.empty())
    command += "psql -X -q -tA -d " +
               shell_quote("host=" + checks[0].host + " port=" + std::to_string(checks[0].port) +
                           " user=" + user_of(checks[0]) + " dbname=postgres") +
               " -f - <&3 2>&1 & ";
  const std::string backup =
      "{ runuser -u postgres -- pgbackrest --stanza=" + shell_quote(ctx.inv.cluster_name) +
      " --log-level-console=warn check >/dev/null 2>&1 </dev/null; echo @backup $?; } & ";
  bool first = true;
  backup_ok = !with_backup;
  return poll_until(
      "the services seen from " + n.node->name, std::chrono::seconds(ctx.timeouts.service_s), kEdgePoll,
      [&](std::string& why) {
        const bool backup_now = with_backup && first;
        first = false;
        // psql runs in the background, so its stdin is given explicitly (a background job's is /dev/null).
        auto r = n.shell->run("exec 3<&0; " + command + (backup_now ? backup : "") + "wait",
                              first_password + "\n" + script);
        if (!r) {
          why = r.error().describe();
          return false;
        }
        std::vector<std::string> answers(checks.size());
        std::string* at = answers.empty() ? nullptr : &answers[0];  // psql's own error, if it never connects
        std::istringstream lines(r->out);
        for (std::string line; std::getline(lines, line);) {
          if (line.rfind("@backup ", 0) == 0) {
            backup_ok = trim(line.substr(8)) == "0";
          } else if (line.rfind("@", 0) == 0 && line.size() > 1 &&
                     std::isdigit(static_cast<unsigned char>(line[1]))) {
            size_t i = std::stoul(line.substr(1));
            at = i < answers.size() ? &answers[i] : nullptr;
          } else if (at) {
            *at += (at->empty() ? "" : " ") + trim(line);
          }
        }
        for (size_t i = 0; i < checks.size(); ++i) {
          if (answers[i] != checks[i].expect) {
            why = checks[i].what + " answered '" + answers[i] + "', expected '" + checks[i].expect + "'";
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
