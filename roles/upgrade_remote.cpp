// `pgha upgrade` over SSH: the observation (apt's candidates, the owed-restart marker, the leader-key
// fix tried on patroni's candidate) and UpgradeHosts' commands. Package names come from the role
// catalog and versions from apt's answer, both checked by parse_apt_policy; every one is quoted.
#include <mutex>
#include <sstream>
#include <thread>

#include "core/embedded.hpp"
#include "roles/catalog.hpp"
#include "roles/cluster_ops.hpp"
#include "roles/cluster_view.hpp"
#include "roles/engine.hpp"
#include "roles/progress.hpp"
#include "roles/remote.hpp"
#include "roles/upgrade.hpp"

namespace pgha {
namespace {

// Where a node keeps the restarts its upgrade owes (one effect name a line), written before apt runs
// and removed once they are done.
constexpr const char* kOwedFile = "/var/lib/pgha/upgrade-owed";
// Marks the policy-rc.d this upgrade installs, so a run killed before removing it is recognised.
constexpr const char* kPolicyMark = "# pgha upgrade: services restart under pgha, one node at a time";

std::string quoted_list(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += " " + shell_quote(w);
  return out;
}

// The candidate patroni's etcd3 module, unpacked in a scratch directory, with the leader-key fix
// tried on that copy (the script takes the module's path). Nothing outside the directory changes.
std::string fix_check_command(const std::string& candidate) {
  const std::string& script = embedded_templates().at("patroni/etcd3_leader_cas.py");
  return "d=$(mktemp -d) || exit 1; cd \"$d\" && LC_ALL=C apt-get -q download " +
         shell_quote("patroni=" + candidate) +
         " >/dev/null 2>&1 && dpkg-deb -x patroni_*.deb x && python3 -c " + shell_quote(script) +
         " x/usr/lib/python3/dist-packages/patroni/dcs/etcd3.py; rc=$?; cd /; rm -rf \"$d\"; exit $rc";
}

class SshUpgradeHosts : public UpgradeHosts {
 public:
  explicit SshUpgradeHosts(EngineContext& ctx) : ctx_(ctx) {}

  Status mark_owed(const std::string& node, const std::vector<Effect>& restarts) override {
    std::vector<std::string> names;
    for (Effect e : restarts) names.push_back(to_string(e));
    return run(node, "upgrade:mark-owed",
               std::string("mkdir -p /var/lib/pgha && printf '%s\\n'") + quoted_list(names) + " > " +
                   kOwedFile + ".tmp && mv " + kOwedFile + ".tmp " + kOwedFile);
  }
  Status clear_owed(const std::string& node) override {
    return run(node, "upgrade:clear-owed", std::string("rm -f ") + kOwedFile);
  }
  Status install(const std::string& node, const std::vector<PackageUpgrade>& pkgs) override {
    std::vector<std::string> pinned;
    for (const auto& p : pkgs) pinned.push_back(p.name + "=" + p.to);
    // policy-rc.d (exit 101) keeps the maintainer scripts from restarting the node's services; an
    // operator's own is put aside and restored. --no-remove: an upgrade that would remove a package
    // is refused by apt. Existing config files are kept (--force-confold).
    const std::string p = "/usr/sbin/policy-rc.d";
    const std::string cmd =
        "set -e; export DEBIAN_FRONTEND=noninteractive LC_ALL=C; p=" + p +
        "; mark=" + shell_quote(kPolicyMark) +
        "; if [ -e $p ] && ! grep -qsF \"$mark\" $p; then mv $p $p.pgha-saved; fi; "
        "printf '#!/bin/sh\\n%s\\nexit 101\\n' \"$mark\" > $p.tmp; chmod 755 $p.tmp; mv $p.tmp $p; "
        "trap 'rm -f $p; if [ -e $p.pgha-saved ]; then mv $p.pgha-saved $p; fi' EXIT; "
        "apt-get -q -y -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef "
        "-o Dpkg::Options::=--force-confold install --only-upgrade --no-install-recommends --no-remove" +
        quoted_list(pinned);
    return run(node, "upgrade:install", cmd);
  }
  Result<std::string> apply_patroni_fix(const std::string& node) override {
    auto n = handle(node);
    if (!n) return n.error();
    const std::string& script = embedded_templates().at("patroni/etcd3_leader_cas.py");
    auto r = must(*(*n)->shell, "upgrade:patroni-leader-key", "python3 -c " + shell_quote(script));
    if (!r) return std::move(r.error()).with("host " + node);
    return trim(r->out);
  }
  Result<std::map<std::string, std::string>> versions(const std::string& node,
                                                      const std::vector<std::string>& names) override {
    auto n = handle(node);
    if (!n) return n.error();
    auto r = (*n)->shell->run("dpkg-query -W -f='${Package}\\t${Version}\\t${db:Status-Status}\\n'" +
                              quoted_list(names) + " 2>/dev/null; true");
    if (!r) return std::move(r.error()).with("step upgrade:versions").with("host " + node);
    return parse_dpkg_query(r->out);
  }
  Status restart_unit(const std::string& node, const std::string& unit) override {
    return run(node, "upgrade:restart", "systemctl restart " + shell_quote(unit));
  }
  Status reload_unit(const std::string& node, const std::string& unit) override {
    return run(node, "upgrade:reload", "systemctl reload " + shell_quote(unit));
  }
  std::string unit_problem(const std::string& node, const std::string& unit) override {
    auto n = handle(node);
    if (!n) return n.error().describe();
    auto r = (*n)->shell->run("systemctl is-active " + shell_quote(unit));
    if (!r) return r.error().describe();
    const std::string state = trim(r->out);
    return state == "active" ? "" : unit + " is " + (state.empty() ? "unknown" : state);
  }
  std::string etcd_problem(const std::string& node) override {
    auto n = handle(node);
    if (!n) return n.error().describe();
    ClusterView v;
    if (!read_etcd_view(ctx_.inv, **n, v)) return "etcd on " + node + " does not list its members";
    bool listed = false;
    for (const auto& m : v.etcd) {
      if (m.name == node) listed = true;
      if (m.learner) continue;
      if (!m.healthy) return (m.name.empty() ? "a member" : m.name) + "'s etcd is not healthy";
    }
    return listed ? "" : node + " is not an etcd member";
  }
  void pause(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }

 private:
  Result<NodeHandle*> handle(const std::string& name) {
    for (auto& n : ctx_.nodes) {
      if (n.node->name == name && n.shell) return &n;
    }
    return Error(ErrorKind::not_found, name + " is not a reachable node of the inventory");
  }
  Status run(const std::string& node, const std::string& step, const std::string& cmd) {
    auto n = handle(node);
    if (!n) return n.error();
    auto r = must(*(*n)->shell, step, cmd);
    if (!r) return std::move(r.error()).with("host " + node);
    return {};
  }

  EngineContext& ctx_;
};

}  // namespace

Result<NodeUpgradeInput> observe_upgrade(NodeHandle& n, const Inventory& inv, bool update) {
  NodeUpgradeInput in;
  in.node = n.node->name;
  const auto pkgs = node_packages(*n.node, inv.postgres_version);
  if (update) {
    auto r = must(*n.shell, "upgrade:apt-update", "LC_ALL=C apt-get -q -o DPkg::Lock::Timeout=300 update");
    if (!r) return std::move(r.error()).with("host " + in.node);
  }
  if (!pkgs.empty()) {
    auto r = must(*n.shell, "upgrade:apt-policy", "LC_ALL=C apt-cache policy" + quoted_list(pkgs));
    if (!r) return std::move(r.error()).with("host " + in.node);
    auto seen = parse_apt_policy(r->out);
    if (!seen) return std::move(seen.error()).with("step upgrade:apt-policy").with("host " + in.node);
    // Only the catalog's packages, in its order; one apt does not list is neither installed nor offered.
    for (const auto& p : pkgs) {
      PackageVersion v{p, "", ""};
      for (const auto& s : *seen) {
        if (s.name == p) v = s;
      }
      in.packages.push_back(v);
    }
  }
  auto owed = n.shell->run(std::string("cat ") + kOwedFile + " 2>/dev/null; true");
  if (!owed) return std::move(owed.error()).with("step upgrade:owed").with("host " + in.node);
  std::istringstream lines(owed->out);
  for (std::string line; std::getline(lines, line);) {
    if (auto e = effect_from_string(trim(line))) in.owed.insert(*e);
  }
  for (const auto& p : in.packages) {
    if (p.name != "patroni" || !upgrade_pending(p)) continue;
    auto r = n.shell->run(fix_check_command(p.candidate));
    const std::string word = r && r->exit_code == 0 ? trim(r->out) : "";
    in.patroni_fix = word == "applied"    ? FixCheck::applies
                     : word == "present"  ? FixCheck::present
                     : word == "upstream" ? FixCheck::upstream
                     : word == "absent"   ? FixCheck::absent
                                          : FixCheck::unknown;
  }
  // What apt would do with them, simulated: the dependencies it brings, and a refusal (a conflict,
  // a removal) found before anything is installed anywhere.
  std::vector<std::string> pinned;
  for (const auto& p : in.packages) {
    if (upgrade_pending(p) && (p.name != "patroni" || patroni_upgradable(in.patroni_fix)))
      pinned.push_back(p.name + "=" + p.candidate);
  }
  if (!pinned.empty()) {
    auto r = must(*n.shell, "upgrade:apt-simulate",
                  "LC_ALL=C apt-get -s -q install --only-upgrade --no-install-recommends --no-remove" +
                      quoted_list(pinned));
    if (!r) return std::move(r.error()).with("host " + in.node);
    in.dependencies = parse_apt_simulation(r->out);
  }
  return in;
}

std::unique_ptr<UpgradeHosts> ssh_upgrade_hosts(EngineContext& ctx) {
  return std::make_unique<SshUpgradeHosts>(ctx);
}

Result<UpgradeOutcome> cluster_upgrade(const Inventory& inv, UpDeps& deps, const UpgradeOptions& opts) {
  auto session = plan_cluster(inv, deps, PlanOptions{});
  if (!session) return session.error();
  ClusterSession& cs = **session;
  std::vector<NodeHandle*> nodes;
  for (auto& n : cs.nodes) {
    if (!n.shell)
      return Error(ErrorKind::conflict,
                   n.node->name + " does not answer over SSH: an upgrade needs every node")
          .with("step upgrade:connect");
    nodes.push_back(&n);
  }
  EngineContext ctx{inv, cs.secrets, deps.progress, cs.nodes, deps.timeouts};

  UpgradeInput input;
  input.postgres_version = inv.postgres_version;
  std::vector<NodeUpgradeInput> seen(nodes.size());
  std::mutex mu;
  deps.progress.phase_begin("observe packages");
  Status observed = for_each_node(nodes, [&](NodeHandle& n) -> Status {
    deps.progress.node(n.node->name,
                       opts.update ? "apt-get update, then apt-cache policy" : "apt-cache policy");
    auto in = observe_upgrade(n, inv, opts.update);
    if (!in) return in.error();
    std::lock_guard<std::mutex> lock(mu);
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i] == &n) seen[i] = std::move(*in);
    }
    return {};
  });
  deps.progress.phase_end("observe packages", observed.ok());
  if (!observed) return observed.error();
  input.nodes = std::move(seen);
  if (cs.view.patroni) {
    if (const PatroniMember* l = cs.view.patroni->leader()) input.leader = l->name;
  }

  UpgradeOutcome out;
  out.plan = plan_upgrade(input);
  if (!cs.plan.empty())
    out.plan.warnings.push_back("the cluster differs from the inventory (`pgha plan` lists " +
                                std::to_string(cs.plan.changes.size()) +
                                " changes); the upgrade does not converge them, `pgha up` does");
  const std::string why = upgrade_refusal(cs.view, nodes_with_role(ctx, Role::etcd).size(),
                                          nodes_with_role(ctx, Role::patroni).size());
  if (opts.dry_run || out.plan.empty()) {
    if (!why.empty()) out.plan.warnings.push_back("an upgrade would be refused now: " + why);
    return out;
  }
  if (!why.empty())
    return Error(ErrorKind::conflict, "the cluster is not healthy, so nothing was upgraded: " + why)
        .with("step upgrade:preflight");

  {
    std::istringstream lines(format_upgrade_plan(out.plan));
    for (std::string line; std::getline(lines, line);) deps.progress.info("upgrade: " + line);
  }
  auto rc = patroni_roll_cluster(ctx);
  auto hosts = ssh_upgrade_hosts(ctx);
  RollOptions ro;
  ro.gate = std::chrono::seconds(deps.timeouts.patroni_s);
  ro.primary = opts.primary;
  deps.progress.phase_begin("upgrade");
  auto report = run_upgrade(*hosts, *rc, deps.progress, out.plan, ro);
  deps.progress.phase_end("upgrade", report.ok());
  if (!report) return report.error();
  out.report = std::move(*report);
  return out;
}

}  // namespace pgha
