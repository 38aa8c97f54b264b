// `pgha upgrade`: apt's and dpkg's text (fixtures captured on Debian 12 with LC_ALL=C), Debian's
// version order, the plan (nothing to do, one replica's package, PostgreSQL everywhere with the
// leader last, etcd, a Patroni the leader-key fix does not fit, owed restarts), and the run against
// fakes: one switchover, etcd one member at a time with quorum checked, stop on failure.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "roles/catalog.hpp"
#include "roles/plan.hpp"
#include "roles/progress.hpp"
#include "roles/upgrade.hpp"

namespace pgha {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(PGHA_SOURCE_DIR) + "/tests/data/apt/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// ---- parsing -------------------------------------------------------------------------------------

TEST(UpgradeParse, AptCachePolicyOfDebian12) {
  auto r = parse_apt_policy(fixture("policy-bookworm.txt"));
  ASSERT_TRUE(r) << r.error().describe();
  std::map<std::string, PackageVersion> by;
  for (const auto& p : *r) by[p.name] = p;
  ASSERT_EQ(r->size(), 12u);
  EXPECT_EQ(r->front().name, "etcd-server");
  EXPECT_EQ(by["postgresql-15"].installed, "15.18-0+deb12u1");
  EXPECT_EQ(by["postgresql-15"].candidate, "15.20-0+deb12u1");
  EXPECT_EQ(by["haproxy"].installed, "2.6.12-1+deb12u4");
  EXPECT_EQ(by["haproxy"].candidate, "2.6.12-1+deb12u4");
  EXPECT_EQ(by["keepalived"].installed, "1:2.2.7-1+b2");
  EXPECT_EQ(by["patroni"].candidate, "3.0.2-1");
  EXPECT_EQ(by["procps"].installed, "2:4.0.2-3");
}

TEST(UpgradeParse, NotInstalledNoCandidateAndForeignArchitecture) {
  // apt's format for a package that is not installed, and one no source offers.
  const std::string text =
      "pgbouncer:\n  Installed: (none)\n  Candidate: 1.18.0-1+deb12u1\n  Version table:\n"
      "     1.18.0-1+deb12u1 500\n        500 http://deb.debian.org/debian bookworm/main amd64 Packages\n"
      "libpq5:i386:\n  Installed: (none)\n  Candidate: (none)\n  Version table:\n";
  auto r = parse_apt_policy(text);
  ASSERT_TRUE(r) << r.error().describe();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].installed, "");
  EXPECT_EQ((*r)[0].candidate, "1.18.0-1+deb12u1");
  EXPECT_EQ((*r)[1].name, "libpq5");
  EXPECT_EQ((*r)[1].candidate, "");
}

TEST(UpgradeParse, TextThatIsNoPolicyListingIsRefusedWithItsLine) {
  auto r = parse_apt_policy("haproxy:\n  Installed: 2.6.12-1+deb12u4\n  Candidate: 2.6$(reboot)\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "apt-cache policy, line 3: not a Debian version: '  Candidate: 2.6$(reboot)'");
  auto s = parse_apt_policy("E: Could not get lock /var/lib/apt/lists/lock\n");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("line 1: not a package heading"), std::string::npos);
  auto empty = parse_apt_policy("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(UpgradeParse, DpkgQueryOfDebian12) {
  auto v = parse_dpkg_query(fixture("dpkg-query-bookworm.txt"));
  EXPECT_EQ(v.size(), 12u);
  EXPECT_EQ(v["postgresql-15"], "15.18-0+deb12u1");
  EXPECT_EQ(v["keepalived"], "1:2.2.7-1+b2");
  auto w = parse_dpkg_query("haproxy\t2.6.12-1+deb12u4\tconfig-files\nfoo\t1.0\tinstalled\n");
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.count("haproxy"), 0u);
}

TEST(UpgradeParse, AptGetSimulationOfDebian12) {
  auto u = parse_apt_simulation(fixture("simulate-bookworm.txt"));
  ASSERT_EQ(u.size(), 4u);
  EXPECT_EQ(u[0].name, "libpq-dev");
  EXPECT_EQ(u[1].name, "libpq5");
  EXPECT_EQ(u[1].from, "15.18-0+deb12u1");
  EXPECT_EQ(u[1].to, "15.20-0+deb12u1");
  EXPECT_EQ(u[3].name, "postgresql-15");
  auto n = parse_apt_simulation("Inst libfoo1 (1.2-3 Debian:12.11/stable [amd64])\nInst bad [1.0] ($(x))\n");
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].from, "");
  EXPECT_EQ(n[0].to, "1.2-3");
}

TEST(UpgradeParse, DebianVersionOrder) {
  EXPECT_GT(compare_debian_versions("15.20-0+deb12u1", "15.18-0+deb12u1"), 0);
  EXPECT_GT(compare_debian_versions("5.2.15-2+b13", "5.2.15-2+b8"), 0);
  EXPECT_GT(compare_debian_versions("2.6.12-1+deb12u4", "2.6.12-1+deb12u3"), 0);
  EXPECT_GT(compare_debian_versions("1:2.2.7-1+b2", "2.2.8-1"), 0);  // the epoch first
  EXPECT_LT(compare_debian_versions("1.0~rc1-1", "1.0-1"), 0);       // '~' sorts before the end
  EXPECT_GT(compare_debian_versions("3.0.2-1+deb12u1", "3.0.2-1"), 0);
  EXPECT_EQ(compare_debian_versions("3.0.2-1", "3.0.2-1"), 0);
  EXPECT_EQ(compare_debian_versions("0:3.0.2-01", "3.0.2-1"), 0);
}

TEST(UpgradeParse, EveryCatalogPackageHasItsEffect) {
  std::map<std::string, Effect> want = {{"etcd-server", Effect::etcd},
                                        {"etcd-client", Effect::none},
                                        {"patroni", Effect::patroni},
                                        {"postgresql-15", Effect::postgres},
                                        {"postgresql-client-15", Effect::none},
                                        {"python3-psycopg2", Effect::patroni},
                                        {"python3-etcd", Effect::patroni},
                                        {"haproxy", Effect::haproxy},
                                        {"keepalived", Effect::keepalived},
                                        {"procps", Effect::none},
                                        {"pgbouncer", Effect::pgbouncer},
                                        {"pgbackrest", Effect::none},
                                        {"curl", Effect::none},
                                        {"iproute2", Effect::none}};
  for (const auto& spec : role_catalog()) {
    for (const auto& p : role_packages(spec.role, 15)) {
      ASSERT_TRUE(want.count(p)) << p << " is in the catalog: say what its upgrade restarts";
      EXPECT_EQ(package_effect(p, 15), want[p]) << p;
    }
  }
  EXPECT_EQ(package_effect("postgresql-16", 16), Effect::postgres);
  EXPECT_EQ(package_effect("postgresql-15", 16), Effect::none);
}

// ---- the plan ------------------------------------------------------------------------------------

const char* const kPkgs[] = {"etcd-server", "patroni", "postgresql-15", "haproxy", "pgbouncer"};

// Three nodes with every role; pg1 leads. `newer` maps node -> packages with a newer candidate.
UpgradeInput cluster(const std::map<std::string, std::set<std::string>>& newer) {
  UpgradeInput in;
  in.leader = "pg1";
  for (const std::string node : {"pg1", "pg2", "pg3"}) {
    NodeUpgradeInput n;
    n.node = node;
    for (const char* p : kPkgs) {
      const bool up = newer.count(node) && newer.at(node).count(p);
      n.packages.push_back({p, "1.0-1", up ? "1.0-1+deb12u1" : "1.0-1"});
      if (up && std::string(p) == "patroni") n.patroni_fix = FixCheck::applies;
    }
    in.nodes.push_back(n);
  }
  return in;
}

std::vector<std::string> order(const UpgradePlan& p) {
  std::vector<std::string> out;
  for (const auto& n : p.nodes) out.push_back(n.node);
  return out;
}

TEST(UpgradePlan, NothingToUpgrade) {
  auto plan = plan_upgrade(cluster({}));
  EXPECT_TRUE(plan.empty());
  EXPECT_TRUE(plan.warnings.empty());
  EXPECT_EQ(format_upgrade_plan(plan),
            "no upgrades: every pgha package is at its candidate version on every node\n");
}

TEST(UpgradePlan, AReplicaOnlyPackage) {
  auto plan = plan_upgrade(cluster({{"pg2", {"haproxy"}}}));
  EXPECT_FALSE(plan.empty());
  EXPECT_EQ(order(plan), (std::vector<std::string>{"pg2", "pg3", "pg1"}));
  const NodeUpgrade& pg2 = plan.nodes[0];
  ASSERT_EQ(pg2.upgrades.size(), 1u);
  EXPECT_EQ(pg2.upgrades[0].name, "haproxy");
  EXPECT_EQ(pg2.restarts, (std::vector<Effect>{Effect::haproxy}));
  EXPECT_TRUE(plan.nodes[1].empty());
  EXPECT_TRUE(plan.nodes[2].empty());
  EXPECT_EQ(format_upgrade_plan(plan),
            "pg2:\n"
            "  haproxy 1.0-1 -> 1.0-1+deb12u1 (reload HAProxy)\n"
            "  then: reload HAProxy\n"
            "pg3: no upgrades\n"
            "pg1 (leader, last): no upgrades\n");
}

TEST(UpgradePlan, DependenciesAreListedWithTheirNode) {
  auto in = cluster({{"pg2", {"postgresql-15"}}});
  in.nodes[1].dependencies = {{"libpq5", "15.18-0+deb12u1", "15.20-0+deb12u1", Effect::none},
                              {"postgresql-15", "1.0-1", "1.0-1+deb12u1", Effect::none}};
  auto plan = plan_upgrade(in);
  ASSERT_EQ(plan.nodes[0].dependencies.size(), 1u);
  EXPECT_EQ(format_upgrade_plan(plan),
            "pg2:\n"
            "  postgresql-15 1.0-1 -> 1.0-1+deb12u1 (restart PostgreSQL through Patroni)\n"
            "  with them: libpq5 15.18-0+deb12u1 -> 15.20-0+deb12u1\n"
            "  then: restart PostgreSQL through Patroni\n"
            "pg3: no upgrades\n"
            "pg1 (leader, last): no upgrades\n");
}

TEST(UpgradePlan, PostgresEverywhereLeaderLast) {
  auto plan = plan_upgrade(
      cluster({{"pg1", {"postgresql-15"}}, {"pg2", {"postgresql-15"}}, {"pg3", {"postgresql-15"}}}));
  EXPECT_EQ(order(plan), (std::vector<std::string>{"pg2", "pg3", "pg1"}));
  EXPECT_TRUE(plan.nodes.back().leader);
  for (const auto& n : plan.nodes) EXPECT_EQ(n.restarts, (std::vector<Effect>{Effect::postgres})) << n.node;
}

TEST(UpgradePlan, PatroniAndPostgresTogetherRestartPatroniOnceAfterEtcd) {
  auto plan = plan_upgrade(cluster({{"pg2", {"postgresql-15", "patroni", "etcd-server", "pgbouncer"}}}));
  const NodeUpgrade& pg2 = plan.nodes[0];
  EXPECT_EQ(pg2.restarts, (std::vector<Effect>{Effect::etcd, Effect::patroni, Effect::pgbouncer}));
  EXPECT_TRUE(pg2.patroni_fix);
}

TEST(UpgradePlan, PatroniIsHeldBackWhereTheFixDoesNotApply) {
  auto in = cluster({{"pg2", {"patroni", "haproxy"}}});
  in.nodes[1].patroni_fix = FixCheck::absent;
  auto plan = plan_upgrade(in);
  const NodeUpgrade& pg2 = plan.nodes[0];
  ASSERT_EQ(pg2.held.size(), 1u);
  EXPECT_EQ(pg2.held[0].name, "patroni");
  EXPECT_FALSE(pg2.patroni_fix);
  EXPECT_EQ(pg2.restarts, (std::vector<Effect>{Effect::haproxy}));
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_NE(
      plan.warnings[0].find("pg2: patroni 1.0-1+deb12u1 is held back: pgha's leader-key fix does not apply"),
      std::string::npos);
  in.nodes[1].patroni_fix = FixCheck::unknown;
  EXPECT_EQ(plan_upgrade(in).nodes[0].held.size(), 1u);
}

TEST(UpgradePlan, OwedRestartsOfAnInterruptedRunAreKept) {
  auto in = cluster({});
  in.nodes[2].owed = {Effect::postgres, Effect::etcd};
  auto plan = plan_upgrade(in);
  EXPECT_FALSE(plan.empty());
  EXPECT_EQ(plan.nodes[1].node, "pg3");
  EXPECT_EQ(plan.nodes[1].restarts, (std::vector<Effect>{Effect::etcd, Effect::postgres}));
  EXPECT_TRUE(plan.nodes[1].upgrades.empty());
}

TEST(UpgradePlan, NotInstalledAndOlderCandidatesAreNoUpgrades) {
  auto in = cluster({});
  in.nodes[1].packages[3] = {"haproxy", "", "2.6.12-1+deb12u4"};
  in.nodes[1].packages[4] = {"pgbouncer", "1.18.0-1+deb12u2", "1.18.0-1+deb12u1"};
  EXPECT_TRUE(plan_upgrade(in).empty());
}

TEST(UpgradePreflight, HealthyPausedAndUnhealthy) {
  ClusterView v;
  v.etcd_answered = true;
  for (const std::string n : {"pg1", "pg2", "pg3"}) {
    EtcdMember e;
    e.name = n;
    e.healthy = true;
    v.etcd.push_back(e);
  }
  PatroniCluster c;
  for (const std::string n : {"pg1", "pg2", "pg3"}) {
    PatroniMember m;
    m.name = n;
    m.role = n == "pg1" ? "leader" : "replica";
    m.state = n == "pg1" ? "running" : "streaming";
    m.timeline = 1;
    if (n != "pg1") m.lag_bytes = 0;
    c.members.push_back(m);
  }
  v.patroni = c;
  v.dcs_config = nlohmann::json{{"ttl", 20}};
  EXPECT_EQ(upgrade_refusal(v, 3, 3), "");
  (*v.dcs_config)["pause"] = true;
  EXPECT_EQ(upgrade_refusal(v, 3, 3),
            "Patroni is paused (maintenance mode); resume it first (patronictl resume)");
  (*v.dcs_config)["pause"] = "yes";  // not Patroni's: ignored, not thrown on
  EXPECT_EQ(upgrade_refusal(v, 3, 3), "");
  v.etcd[2].healthy = false;
  EXPECT_EQ(upgrade_refusal(v, 3, 3), "pg3's etcd is not healthy");
  v.etcd[2].healthy = true;
  v.patroni->members[2].lag_bytes = 4096;  // under writes: each node's gate waits for lag 0
  EXPECT_EQ(upgrade_refusal(v, 3, 3), "");
  v.patroni->members[2].lag_bytes.reset();
  EXPECT_EQ(upgrade_refusal(v, 3, 3), "replica pg3 has unknown lag");
  v.patroni->members[2].lag_bytes = 0;
  v.patroni->members[2].state = "starting";
  EXPECT_EQ(upgrade_refusal(v, 3, 3), "replica pg3 is starting");
  v.patroni.reset();
  EXPECT_EQ(upgrade_refusal(v, 3, 3), "no Patroni REST API answered");
  EXPECT_EQ(upgrade_refusal(v, 3, 0), "");
}

// ---- the run against fakes -----------------------------------------------------------------------

class FakeRoll : public RollCluster {
 public:
  struct M {
    std::string role = "replica";
    int timeline = 1;
    bool pending = false;
  };
  std::map<std::string, M> members;
  std::set<std::string> stopped;  // members that do not come back
  std::vector<std::string>& events;

  explicit FakeRoll(std::vector<std::string>& log) : events(log) {
    members["pg1"].role = "leader";
    members["pg2"].role = "sync_standby";
    members["pg3"];
  }
  Result<PatroniCluster> cluster() override {
    PatroniCluster c;
    for (const auto& [name, m] : members) {
      PatroniMember pm;
      pm.name = name;
      pm.role = m.role;
      pm.state = stopped.count(name) ? "stopped" : "running";
      pm.timeline = m.timeline;
      if (!is_primary_role(m.role) && !stopped.count(name)) pm.lag_bytes = 0;
      c.members.push_back(pm);
    }
    return c;
  }
  Result<bool> pending_restart(const std::string& member) override { return members[member].pending; }
  Result<std::map<std::string, std::pair<std::string, bool>>> settings(
      const std::string&, const std::vector<std::string>&) override {
    return std::map<std::string, std::pair<std::string, bool>>{};
  }
  Result<std::set<std::string>> streaming(const std::string& leader) override {
    std::set<std::string> out;
    for (const auto& [name, m] : members) {
      if (name != leader) out.insert(name);
    }
    return out;
  }
  Status restart(const std::string& member) override {
    events.push_back("postgres restart " + member);
    return {};
  }
  Status restart_patroni(const std::string& member) override {
    events.push_back("patroni restart " + member);
    return {};
  }
  Status switchover(const std::string& leader, const std::string& named) override {
    // Patroni picks its synchronous standby when no candidate is named.
    std::string candidate = named;
    for (const auto& [n, m] : members)
      if (candidate.empty() && m.role == "sync_standby") candidate = n;
    events.push_back("switchover " + leader + " " + candidate);
    members[leader].role = "replica";
    members[candidate].role = "leader";
    for (auto& [n, m] : members) m.timeline = 2;
    return {};
  }
  std::string log_tail(const std::string&) override { return ""; }
  void pause(std::chrono::milliseconds) override {}
};

class FakeHosts : public UpgradeHosts {
 public:
  std::vector<std::string>& events;
  std::map<std::string, int> etcd_down;  // node -> polls its etcd stays unhealthy after a restart
  int etcd_polls_left = 0;
  std::string etcd_restarting;
  std::string fix_word = "applied";
  std::set<std::string> fail_install;

  explicit FakeHosts(std::vector<std::string>& log) : events(log) {}

  Status mark_owed(const std::string& node, const std::vector<Effect>& r) override {
    std::string s;
    for (Effect e : r) s += std::string(" ") + to_string(e);
    events.push_back("mark " + node + s);
    return {};
  }
  Status clear_owed(const std::string& node) override {
    events.push_back("clear " + node);
    return {};
  }
  Status install(const std::string& node, const std::vector<PackageUpgrade>& pkgs) override {
    std::string s;
    for (const auto& p : pkgs) s += " " + p.name + "=" + p.to;
    events.push_back("install " + node + s);
    if (fail_install.count(node)) return Error(ErrorKind::remote_failure, "exit 100: E: broken packages");
    for (const auto& p : pkgs) installed[node][p.name] = p.to;
    return {};
  }
  Result<std::string> apply_patroni_fix(const std::string& node) override {
    events.push_back("fix " + node);
    return fix_word;
  }
  Result<std::map<std::string, std::string>> versions(const std::string& node,
                                                      const std::vector<std::string>&) override {
    return installed[node];
  }
  Status restart_unit(const std::string& node, const std::string& unit) override {
    events.push_back("restart " + node + " " + unit);
    if (unit == "etcd.service") {
      etcd_restarting = node;
      etcd_polls_left = etcd_down[node];
    }
    return {};
  }
  Status reload_unit(const std::string& node, const std::string& unit) override {
    events.push_back("reload " + node + " " + unit);
    return {};
  }
  std::string unit_problem(const std::string&, const std::string&) override { return ""; }
  std::string etcd_problem(const std::string& node) override {
    if (etcd_polls_left > 0) {
      --etcd_polls_left;
      events.push_back("etcd gate " + node + ": " + etcd_restarting + " unhealthy");
      return etcd_restarting + "'s etcd is not healthy";
    }
    events.push_back("etcd gate " + node + ": ok");
    return "";
  }
  void pause(std::chrono::milliseconds) override {}

  std::map<std::string, std::map<std::string, std::string>> installed;
};

class QuietProgress : public Progress {
 public:
  void phase_begin(const std::string&) override {}
  void phase_end(const std::string&, bool) override {}
  void node(const std::string&, const std::string&) override {}
  void info(const std::string&) override {}
  void warn(const std::string&) override {}
  std::vector<std::pair<std::string, double>> timings() const override { return {}; }
};

RollOptions fast() {
  RollOptions o;
  o.gate = std::chrono::seconds(2);
  o.poll = std::chrono::milliseconds(100);
  return o;
}

struct Rig {
  std::vector<std::string> events;
  FakeRoll roll{events};
  FakeHosts hosts{events};
  QuietProgress progress;
  Result<UpgradeReport> go(const UpgradePlan& plan) {
    return run_upgrade(hosts, roll, progress, plan, fast());
  }
};

TEST(UpgradeRun, NothingToDoTouchesNothing) {
  Rig r;
  auto rep = r.go(plan_upgrade(cluster({})));
  ASSERT_TRUE(rep) << rep.error().describe();
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(rep->leader_changes, 0);
}

TEST(UpgradeRun, AReplicaOnlyPackageReloadsThatReplicasHAProxyOnly) {
  Rig r;
  auto rep = r.go(plan_upgrade(cluster({{"pg2", {"haproxy"}}})));
  ASSERT_TRUE(rep) << rep.error().describe();
  EXPECT_EQ(r.events, (std::vector<std::string>{"mark pg2 haproxy", "install pg2 haproxy=1.0-1+deb12u1",
                                                "reload pg2 haproxy.service", "clear pg2"}));
  ASSERT_EQ(rep->nodes[0].packages.size(), 1u);
  EXPECT_EQ(rep->nodes[0].packages[0].before, "1.0-1");
  EXPECT_EQ(rep->nodes[0].packages[0].after, "1.0-1+deb12u1");
}

TEST(UpgradeRun, PostgresEverywhereRestartsReplicasThenOneSwitchover) {
  Rig r;
  auto rep = r.go(plan_upgrade(
      cluster({{"pg1", {"postgresql-15"}}, {"pg2", {"postgresql-15"}}, {"pg3", {"postgresql-15"}}})));
  ASSERT_TRUE(rep) << rep.error().describe();
  EXPECT_EQ(r.events,
            (std::vector<std::string>{
                "mark pg2 postgres", "install pg2 postgresql-15=1.0-1+deb12u1", "postgres restart pg2",
                "clear pg2", "mark pg3 postgres", "install pg3 postgresql-15=1.0-1+deb12u1",
                "postgres restart pg3", "clear pg3", "mark pg1 postgres",
                "install pg1 postgresql-15=1.0-1+deb12u1", "switchover pg1 pg2", "clear pg1"}));
  EXPECT_EQ(rep->leader_changes, 1);
  EXPECT_EQ(r.roll.members["pg2"].role, "leader");
}

TEST(UpgradeRun, EtcdOneMemberAtATimeEachGatedOnHealthAndQuorum) {
  Rig r;
  r.hosts.etcd_down = {{"pg2", 2}, {"pg3", 1}, {"pg1", 1}};
  auto rep = r.go(
      plan_upgrade(cluster({{"pg1", {"etcd-server"}}, {"pg2", {"etcd-server"}}, {"pg3", {"etcd-server"}}})));
  ASSERT_TRUE(rep) << rep.error().describe();
  EXPECT_EQ(r.events, (std::vector<std::string>{"mark pg2 etcd",
                                                "install pg2 etcd-server=1.0-1+deb12u1",
                                                "etcd gate pg2: ok",
                                                "restart pg2 etcd.service",
                                                "etcd gate pg2: pg2 unhealthy",
                                                "etcd gate pg2: pg2 unhealthy",
                                                "etcd gate pg2: ok",
                                                "clear pg2",
                                                "mark pg3 etcd",
                                                "install pg3 etcd-server=1.0-1+deb12u1",
                                                "etcd gate pg3: ok",
                                                "restart pg3 etcd.service",
                                                "etcd gate pg3: pg3 unhealthy",
                                                "etcd gate pg3: ok",
                                                "clear pg3",
                                                "mark pg1 etcd",
                                                "install pg1 etcd-server=1.0-1+deb12u1",
                                                "etcd gate pg1: ok",
                                                "restart pg1 etcd.service",
                                                "etcd gate pg1: pg1 unhealthy",
                                                "etcd gate pg1: ok",
                                                "clear pg1"}));
  EXPECT_EQ(rep->leader_changes, 0);
}

TEST(UpgradeRun, EtcdNotRestartedWithoutQuorumToSpare) {
  Rig r;
  r.hosts.etcd_polls_left = 1;  // a member is unhealthy before anything was restarted
  r.hosts.etcd_restarting = "pg3";
  auto rep = r.go(plan_upgrade(cluster({{"pg2", {"etcd-server"}}, {"pg3", {"etcd-server"}}})));
  ASSERT_FALSE(rep);
  EXPECT_EQ(rep.error().kind, ErrorKind::conflict);
  EXPECT_NE(rep.error().message.find(
                "the upgrade stopped at pg2: etcd is not healthy on every member, so pg2's etcd "
                "is not restarted (quorum could be lost): pg3's etcd is not healthy"),
            std::string::npos)
      << rep.error().message;
  EXPECT_NE(rep.error().message.find("(not touched: pg3)"), std::string::npos);
  for (const auto& e : r.events) EXPECT_EQ(e.find("restart"), std::string::npos) << e;
}

TEST(UpgradeRun, PatroniOnTheLeaderSwitchesOverThenRestartsWithTheFixReapplied) {
  Rig r;
  auto rep = r.go(plan_upgrade(cluster({{"pg1", {"patroni", "postgresql-15"}}})));
  ASSERT_TRUE(rep) << rep.error().describe();
  EXPECT_EQ(r.events, (std::vector<std::string>{
                          "mark pg1 patroni", "install pg1 patroni=1.0-1+deb12u1 postgresql-15=1.0-1+deb12u1",
                          "fix pg1", "switchover pg1 pg2", "restart pg1 patroni.service", "clear pg1"}));
  EXPECT_EQ(rep->leader_changes, 1);
}

TEST(UpgradeRun, PatroniOnAReplicaRestartsItsUnitWithoutASwitchover) {
  Rig r;
  auto rep = r.go(plan_upgrade(cluster({{"pg3", {"patroni"}}})));
  ASSERT_TRUE(rep) << rep.error().describe();
  EXPECT_EQ(r.events, (std::vector<std::string>{"mark pg3 patroni", "install pg3 patroni=1.0-1+deb12u1",
                                                "fix pg3", "restart pg3 patroni.service", "clear pg3"}));
  EXPECT_EQ(rep->leader_changes, 0);
}

TEST(UpgradeRun, APatroniThatDoesNotComeBackStopsTheRunAndItsRestartStaysOwed) {
  Rig r;
  r.roll.stopped = {"pg2"};
  auto rep = r.go(plan_upgrade(cluster({{"pg2", {"patroni"}}, {"pg1", {"postgresql-15"}}})));
  ASSERT_FALSE(rep);
  EXPECT_EQ(rep.error().kind, ErrorKind::timeout);
  EXPECT_NE(rep.error().message.find(
                "the roll stopped: pg2 did not come back within 2 s (pg2 is stopped, lag unknown)"),
            std::string::npos)
      << rep.error().message;
  EXPECT_NE(rep.error().message.find("(not touched: pg1)"), std::string::npos);
  EXPECT_EQ(r.events, (std::vector<std::string>{"mark pg2 patroni", "install pg2 patroni=1.0-1+deb12u1",
                                                "fix pg2", "restart pg2 patroni.service"}));
}

TEST(UpgradeRun, AnInstalledPatroniTheFixDoesNotFitIsNotRestarted) {
  Rig r;
  r.hosts.fix_word = "absent";
  auto rep = r.go(plan_upgrade(cluster({{"pg3", {"patroni"}}, {"pg1", {"haproxy"}}})));
  ASSERT_FALSE(rep);
  EXPECT_NE(rep.error().message.find("Patroni was not restarted"), std::string::npos);
  EXPECT_EQ(r.events,
            (std::vector<std::string>{"mark pg3 patroni", "install pg3 patroni=1.0-1+deb12u1", "fix pg3"}));
}

TEST(UpgradeRun, AFailedInstallStopsTheRunAndTheLeaderIsNotTouched) {
  Rig r;
  r.hosts.fail_install = {"pg2"};
  auto rep = r.go(plan_upgrade(cluster({{"pg1", {"postgresql-15"}}, {"pg2", {"postgresql-15"}}})));
  ASSERT_FALSE(rep);
  EXPECT_NE(rep.error().message.find("the upgrade stopped at pg2: exit 100"), std::string::npos);
  EXPECT_NE(rep.error().message.find("(not touched: pg1)"), std::string::npos);
  EXPECT_EQ(rep.error().context, (std::vector<std::string>{"host pg2"}));
  EXPECT_EQ(r.events,
            (std::vector<std::string>{"mark pg2 postgres", "install pg2 postgresql-15=1.0-1+deb12u1"}));
  EXPECT_EQ(r.roll.members["pg1"].role, "leader");
}

TEST(UpgradeRun, AnOwedPatroniRestartChecksTheFixFirst) {
  Rig r;
  auto in = cluster({});
  in.nodes[2].owed = {Effect::patroni};  // killed after patroni's install, before the fix
  auto plan = plan_upgrade(in);
  EXPECT_TRUE(plan.nodes[1].patroni_fix);
  auto rep = r.go(plan);
  ASSERT_TRUE(rep) << rep.error().describe();
  EXPECT_EQ(r.events, (std::vector<std::string>{"mark pg3 patroni", "fix pg3", "restart pg3 patroni.service",
                                                "clear pg3"}));
}

TEST(UpgradeRun, ALeaderWithNoReplicaToTakeOverIsNotTouched) {
  Rig r;
  r.roll.members.erase("pg2");
  r.roll.members.erase("pg3");
  auto plan = plan_upgrade(cluster({{"pg1", {"postgresql-15", "haproxy"}}}));
  auto rep = r.go(plan);
  ASSERT_FALSE(rep);
  EXPECT_NE(
      rep.error().message.find("nothing was installed on pg1: it leads, its restart needs a switchover"),
      std::string::npos)
      << rep.error().message;
  EXPECT_TRUE(r.events.empty());
}

TEST(UpgradeRun, InPlaceRestartsTheLeadersPostgresWithoutASwitchover) {
  Rig r;
  r.roll.members.erase("pg2");
  r.roll.members.erase("pg3");
  RollOptions o = fast();
  o.primary = PrimaryRestart::in_place;
  auto rep = run_upgrade(r.hosts, r.roll, r.progress, plan_upgrade(cluster({{"pg1", {"postgresql-15"}}})), o);
  ASSERT_TRUE(rep) << rep.error().describe();
  EXPECT_EQ(r.events,
            (std::vector<std::string>{"mark pg1 postgres", "install pg1 postgresql-15=1.0-1+deb12u1",
                                      "postgres restart pg1", "clear pg1"}));
  EXPECT_EQ(rep->leader_changes, 0);
}

TEST(UpgradeRun, OwedRestartsRunWithoutAnInstall) {
  Rig r;
  auto in = cluster({});
  in.nodes[1].owed = {Effect::postgres};
  auto rep = r.go(plan_upgrade(in));
  ASSERT_TRUE(rep) << rep.error().describe();
  EXPECT_EQ(r.events, (std::vector<std::string>{"mark pg2 postgres", "postgres restart pg2", "clear pg2"}));
}

}  // namespace
}  // namespace pgha
