// etcd quorum, then Patroni: leader first, replicas after, then the dynamic configuration.
#include <nlohmann/json.hpp>

#include "roles/engine.hpp"
#include "roles/parallel.hpp"
#include "roles/patroni_api.hpp"
#include "roles/remote.hpp"

namespace pgha {
namespace {

// How often a gate looks again. Each look is one or two SSH round trips (tens of ms).
constexpr std::chrono::milliseconds kGatePoll(250);

std::string patroni_url(const Inventory& inv, const Node& node, const std::string& path) {
  return "http://" + node.address + ":" + std::to_string(inv.ports.patroni_api) + path;
}

// Escapes a value for a double-quoted string in a curl config file.
std::string curl_config_string(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

Status converge_etcd(EngineContext& ctx) {
  auto members = nodes_with_role(ctx, Role::etcd);
  if (members.empty()) return {};
  // All members start together: a lone new member waits for its peers before it serves.
  if (auto s = for_each_node(members, [](NodeHandle& n) { return ensure_role_units(n, Role::etcd); }); !s)
    return s;
  NodeHandle& probe = *members.front();
  const size_t want = members.size();
  return poll_until("etcd cluster", std::chrono::seconds(ctx.timeouts.etcd_s), kGatePoll,
                    [&](std::string& why) {
                      auto r = probe.shell->run("ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:" +
                                                std::to_string(ctx.inv.ports.etcd_client) +
                                                " --command-timeout=3s member list -w json && ETCDCTL_API=3 "
                                                "etcdctl --endpoints=http://127.0.0.1:" +
                                                std::to_string(ctx.inv.ports.etcd_client) +
                                                " --command-timeout=3s endpoint health --cluster");
                      if (!r) {
                        why = r.error().describe();
                        return false;
                      }
                      if (r->exit_code != 0) {
                        why = tail_lines(r->err.empty() ? r->out : r->err, 3);
                        return false;
                      }
                      auto nl = r->out.find('\n');
                      auto j = nlohmann::json::parse(r->out.substr(0, nl), nullptr, false);
                      size_t have = j.is_object() && j.contains("members") ? j["members"].size() : 0;
                      if (have != want) {
                        why = std::to_string(have) + " of " + std::to_string(want) + " etcd members present";
                        return false;
                      }
                      return true;
                    });
}

Status converge_patroni(EngineContext& ctx) {
  auto nodes = nodes_with_role(ctx, Role::patroni);
  if (nodes.empty()) return {};
  // Every member starts at once: with an empty DCS they race for the initialize key, one bootstraps
  // and the others wait for its leader key and clone it (Patroni's own protocol); with data they
  // elect the healthiest. Either way no member is held back waiting for another.
  if (auto s = for_each_node(nodes, [](NodeHandle& n) { return ensure_role_units(n, Role::patroni); }); !s)
    return s;

  // The gate: one leader, every replica running with lag 0, and — because Patroni's "running" does not
  // prove streaming — pg_stat_replication on the leader lists every replica.
  const size_t want = nodes.size();
  NodeHandle* leader = nullptr;
  Status gate = poll_until(
      "Patroni cluster", std::chrono::seconds(ctx.timeouts.patroni_s), kGatePoll, [&](std::string& w) {
        auto c = read_patroni_cluster(ctx);
        if (!c) {
          w = "no Patroni REST API answers";
          return false;
        }
        leader = nullptr;
        if (const PatroniMember* m = c->leader()) {
          for (auto& n : ctx.nodes) {
            if (n.node->name == m->name) leader = &n;
          }
        }
        if (!leader) {
          w = c->leader() ? "leader " + c->leader()->name + " is not in the inventory"
                          : "no Patroni leader yet";
          return false;
        }
        w = patroni_unhealthy_reason(*c, want);
        if (!w.empty()) return false;
        auto q = run_sql(*leader, "patroni:gate",
                         "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming';");
        if (!q) {
          w = q.error().describe();
          return false;
        }
        if (trim(q->out) != std::to_string(want - 1)) {
          w = trim(q->out) + " of " + std::to_string(want - 1) + " replicas streaming to " +
              leader->node->name;
          return false;
        }
        return true;
      });
  if (!gate) return gate;
  ctx.leader = leader;

  // bootstrap.dcs is read only once; later inventory changes to timing or replication mode reach
  // the running cluster through PATCH /config, and only when they differ.
  auto cfg = must(*leader->shell, "patroni:config",
                  "curl -s -f --max-time 5 " + patroni_url(ctx.inv, *leader->node, "/config"));
  if (!cfg) return cfg.error();
  auto have = nlohmann::json::parse(cfg->out, nullptr, false);
  const auto& t = ctx.inv.timing;
  const bool sync = ctx.inv.replication.mode == ReplicationMode::sync_mode;
  nlohmann::json want_cfg = {{"ttl", t.ttl},
                             {"loop_wait", t.loop_wait},
                             {"retry_timeout", t.retry_timeout},
                             {"primary_start_timeout", t.primary_start_timeout},
                             {"maximum_lag_on_failover", t.maximum_lag_on_failover},
                             {"synchronous_mode", sync},
                             {"synchronous_mode_strict", sync && ctx.inv.replication.strict},
                             {"failsafe_mode", true}};
  nlohmann::json patch = nlohmann::json::object();
  for (auto& [k, v] : want_cfg.items()) {
    if (!have.is_object() || !have.contains(k) || have[k] != v) patch[k] = v;
  }
  if (!patch.empty()) {
    auto r =
        must(*leader->shell, "patroni:config",
             "curl -s -f --max-time 10 -K - -X PATCH -H 'Content-Type: application/json' --data-binary " +
                 shell_quote(patch.dump()) + " " + patroni_url(ctx.inv, *leader->node, "/config"),
             "user = \"admin:" + curl_config_string(ctx.secrets.admin_password) + "\"\n");
    if (!r) return r.error();
    leader->did(ChangeKind::dcs_patch, patch.dump(), "patched Patroni dynamic config: " + patch.dump());
  }
  return {};
}

}  // namespace pgha
