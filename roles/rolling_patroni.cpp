// The roll's cluster over SSH: Patroni's REST API through curl on the member itself, PostgreSQL
// through psql as the local superuser; and `up`'s phase that uses it.
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/pg_extensions.hpp"
#include "core/pg_settings.hpp"
#include "roles/cluster_ops.hpp"
#include "roles/engine.hpp"
#include "roles/plan.hpp"
#include "roles/progress.hpp"
#include "roles/remote.hpp"
#include "roles/rolling.hpp"

namespace pgha {
namespace {

class PatroniRollCluster : public RollCluster {
 public:
  explicit PatroniRollCluster(EngineContext& ctx) : ctx_(ctx) {}

  Result<PatroniCluster> cluster() override {
    auto c = read_patroni_cluster(ctx_);
    if (!c) return Error(ErrorKind::remote_failure, "no Patroni REST API answers");
    return std::move(*c);
  }
  // PostgreSQL's own pending_restart, or Patroni's: Patroni also reports one for a standby it started
  // with pg_control's higher max_connections (or the like) than its configuration asks.
  Result<bool> pending_restart(const std::string& member) override {
    auto n = node(member);
    if (!n) return n.error();
    auto r = run_sql(**n, "postgres:pending", "SELECT count(*) FROM pg_settings WHERE pending_restart;");
    if (!r) return r.error();
    if (trim(r->out) != "0") return true;
    auto c = cluster();
    if (!c) return c.error();
    for (const auto& m : c->members)
      if (m.name == member) return m.pending_restart;
    return false;
  }
  Result<std::map<std::string, std::pair<std::string, bool>>> settings(
      const std::string& member, const std::vector<std::string>& names) override {
    auto n = node(member);
    if (!n) return n.error();
    // Names come from the settings table (validated), so they are plain identifiers.
    std::string list;
    for (const auto& name : names) list += (list.empty() ? "'" : ", '") + name + "'";
    auto r = run_sql(**n, "postgres:settings",
                     "SELECT name, setting, pending_restart FROM pg_settings WHERE name IN (" + list + ");");
    if (!r) return r.error();
    std::map<std::string, std::pair<std::string, bool>> out;
    std::istringstream lines(r->out);
    for (std::string line; std::getline(lines, line);) {
      auto a = line.find('|'), b = line.rfind('|');
      if (a == std::string::npos || a == b) continue;
      out[line.substr(0, a)] = {line.substr(a + 1, b - a - 1), line.substr(b + 1) == "t"};
    }
    return out;
  }
  Result<std::set<std::string>> streaming(const std::string& leader) override {
    auto n = node(leader);
    if (!n) return n.error();
    auto r = run_sql(**n, "postgres:streaming",
                     "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming';");
    if (!r) return r.error();
    std::set<std::string> out;
    std::istringstream lines(r->out);
    for (std::string line; std::getline(lines, line);) out.insert(trim(line));
    return out;
  }
  Status restart(const std::string& member) override {
    return post(member, "/restart", "{}", "patroni:restart");
  }
  Status restart_patroni(const std::string& member) override {
    auto n = node(member);
    if (!n) return n.error();
    wait_until_no_writes_routed_to(ctx_, member);  // a former leader: see engine.hpp
    auto r = must(*(*n)->shell, "patroni:service-restart", "systemctl restart patroni.service");
    if (!r) return r.error();
    return {};
  }
  Status switchover(const std::string& leader, const std::string& candidate) override {
    nlohmann::json body = {{"leader", leader}};
    if (!candidate.empty()) body["candidate"] = candidate;
    return post(leader, "/switchover", body.dump(), "patroni:switchover");
  }
  std::string log_tail(const std::string& member) override {
    auto n = node(member);
    if (!n) return "";
    auto r = (*n)->shell->run("journalctl -u patroni.service -n 12 --no-pager -o cat 2>/dev/null");
    return r && r->exit_code == 0 ? tail_lines(r->out, 12) : "";
  }
  void pause(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }

 private:
  Result<NodeHandle*> node(const std::string& name) {
    for (auto& n : ctx_.nodes) {
      if (n.node->name == name && n.shell) return &n;
    }
    return Error(ErrorKind::not_found, name + " is not a reachable node of the inventory");
  }
  // POST to the member's own Patroni with the admin credentials on stdin. Patroni answers a restart
  // or switchover once it is done (or has failed: 503), so the call waits that long.
  Status post(const std::string& member, const std::string& path, const std::string& body,
              const std::string& step) {
    auto n = node(member);
    if (!n) return n.error();
    auto r =
        must(*(*n)->shell, step,
             "curl -s -S -f --max-time 180 -K - -X POST -H 'Content-Type: application/json' --data-binary " +
                 shell_quote(body) + " " + Reach(ctx_.inv).patroni_curl((*n)->node->address, path),
             patroni_admin_curl_config(ctx_.secrets));
    if (!r) return r.error();
    return {};
  }

  EngineContext& ctx_;
};

// Leader first when the leader runs a setting that a standby needs at least as high as its primary
// above what the inventory now asks: it must restart with the lower value before the standbys can.
Status choose_order(RollCluster& rc, const Inventory& inv, RollOptions& opts) {
  const auto want = dcs_parameters(inv);
  std::vector<std::string> names;
  for (const auto& [name, value] : want)
    if (standby_needs_at_least_primary(name)) names.push_back(name);
  auto c = rc.cluster();
  if (!c) return c.error().with("step rolling-restart");
  if (!c->leader() || names.empty()) return {};
  auto running = rc.settings(c->leader()->name, names);
  if (!running) return running.error().with("step rolling-restart").with("host " + c->leader()->name);
  for (const auto& [name, value] : *running)
    if (lowers_standby_minimum(name, value.first, want.at(name))) opts.order = RollOrder::leader_first;
  return {};
}

}  // namespace

std::unique_ptr<RollCluster> patroni_roll_cluster(EngineContext& ctx) {
  return std::make_unique<PatroniRollCluster>(ctx);
}

Status converge_postgres(EngineContext& ctx, PrimaryRestart primary) {
  auto nodes = nodes_with_role(ctx, Role::patroni);
  if (nodes.empty()) return {};
  PatroniRollCluster rc(ctx);
  RollOptions opts;
  opts.primary = primary;
  opts.replication = ctx.inv.replication.mode;
  opts.gate = std::chrono::seconds(ctx.timeouts.patroni_s);
  // Every member shows what the inventory asks (or has it pending a restart).
  WantedSettings wanted;
  // shared_preload_libraries as the DCS has it: the user's list with the extensions' libraries.
  std::map<std::string, std::string> cluster = ctx.inv.pg_parameters;
  if (!extension_preloads(ctx.inv).empty())
    cluster["shared_preload_libraries"] = dcs_parameters(ctx.inv)["shared_preload_libraries"];
  for (NodeHandle* n : nodes) {
    std::map<std::string, std::string> asked = cluster;
    for (const auto& [k, v] : n->node->parameters) asked[k] = v;
    for (const auto& [name, value] : asked) {
      const PgSetting* s = find_pg_setting(name);
      if (!s || !pg_setting_refusal(*s, false).empty()) continue;
      if (auto form = pg_setting_form(*s, value)) wanted[n->node->name][name] = *form;
    }
  }
  if (auto s = parameters_gate(rc, wanted, opts); !s) return s;
  if (auto s = choose_order(rc, ctx.inv, opts); !s) return s;
  auto report = rolling_restart(rc, ctx.progress, opts);
  if (!report) return report.error();
  if (!report->steps.empty()) {
    std::string summary;
    for (const auto& step : report->steps) summary += (summary.empty() ? "" : ", ") + step;
    ctx.cluster_actions.push_back(
        Change{ChangeKind::pg_restart, ctx.inv.cluster_name, "", "rolling restart: " + summary});
  }
  // Then Patroni itself where it runs code from before the leader-key fix.
  RollOptions po;
  po.replication = ctx.inv.replication.mode;
  po.gate = opts.gate;
  po.action = RollAction::patroni;
  po.scope = RollScope::given;
  for (NodeHandle* n : nodes)
    if (n->seen.patroni_stale) po.members.insert(n->node->name);
  if (!po.members.empty()) {
    auto pr = rolling_restart(rc, ctx.progress, po);
    if (!pr) return pr.error();
    for (NodeHandle* n : nodes) n->seen.patroni_stale = false;
    std::string summary;
    for (const auto& step : pr->steps) summary += (summary.empty() ? "" : ", ") + step;
    ctx.cluster_actions.push_back(Change{ChangeKind::pg_restart, ctx.inv.cluster_name, "patroni",
                                         "rolling restart of Patroni: " + summary});
    report->leader_changes += pr->leader_changes;
  }
  if (report->leader_changes > 0) {
    // The phases after this one (users and databases) write on the leader: the new one.
    std::string why;
    ctx.leader = find_leader(ctx, &why);
    if (!ctx.leader)
      return Error(ErrorKind::remote_failure, "no Patroni leader after the rolling restart: " + why)
          .with("step rolling-restart");
  }
  return {};
}

Result<RollReport> cluster_restart(const Inventory& inv, UpDeps& deps, const RollOptions& opts) {
  auto session = plan_cluster(inv, deps, PlanOptions{});
  if (!session) return session.error();
  ClusterSession& cs = **session;
  EngineContext ctx{inv, cs.secrets, deps.progress, cs.nodes, deps.timeouts};
  PatroniRollCluster rc(ctx);
  RollOptions o = opts;
  o.replication = inv.replication.mode;
  o.gate = std::chrono::seconds(deps.timeouts.patroni_s);
  return rolling_restart(rc, deps.progress, o);
}

}  // namespace pgha
