// The planner against observed states: a new cluster, 3 -> 5, 5 -> 3 with the leader leaving, a
// half-joined learner, a quorum-breaking edit, sync mode without a candidate, and no change at all.
// compute_plan() is pure, so each case is an observed state in, the expected plan out.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/sha256.hpp"
#include "roles/catalog.hpp"
#include "roles/plan.hpp"

namespace pgha {
namespace {

const std::vector<Role> kAll = {Role::etcd, Role::patroni, Role::haproxy, Role::keepalived, Role::pgbouncer};

Node node(int i) {
  Node n;
  n.name = "pg" + std::to_string(i);
  n.address = "10.0.0." + std::to_string(10 + i);
  n.roles = kAll;
  return n;
}

Inventory inventory(std::vector<int> ids, ReplicationMode mode = ReplicationMode::sync_mode) {
  Inventory inv;
  inv.cluster_name = "c";
  inv.replication.mode = mode;
  for (int i : ids) inv.nodes.push_back(node(i));
  return inv;
}

// A node as observe_node() sees it once pgha has converged it: packages in, stock gone, every
// unit up, the file on disk identical to the desired one.
NodeObservation converged(const Node& n) {
  NodeObservation s;
  s.valid = true;
  s.system_state = "running";
  s.patroni_fixed = true;
  s.etcd_data = has_role(n, Role::etcd);
  for (const auto& p : node_packages(n, 15)) s.installed.insert(p);
  for (const auto& spec : role_catalog()) {
    if (!has_role(n, spec.role)) continue;
    for (const auto& u : spec.units) s.units[u] = UnitState{true, true};
  }
  s.files["/etc/haproxy/haproxy.cfg"] =
      RemoteFile{sha256_hex("backends of " + n.name + "\n"), "root:root:644"};
  return s;
}

std::vector<RenderedFile> files(const std::string& content) {
  return {RenderedFile{Role::haproxy, "/etc/haproxy/haproxy.cfg", content, FileAttrs{"root", "root", 0644},
                       false}};
}

EtcdMember member(int i, uint64_t id, bool learner = false, bool started = true) {
  EtcdMember m;
  m.id = id;
  m.name = started ? "pg" + std::to_string(i) : "";
  m.peer_url = "http://10.0.0." + std::to_string(10 + i) + ":2380";
  m.client_url = started ? "http://10.0.0." + std::to_string(10 + i) + ":2379" : "";
  m.learner = learner;
  m.healthy = started;
  return m;
}

PatroniMember pmember(int i, const std::string& role) {
  PatroniMember m;
  m.name = "pg" + std::to_string(i);
  m.role = role;
  m.state = role == "leader" ? "running" : "streaming";
  m.timeline = 1;
  if (role != "leader") m.lag_bytes = 0;
  return m;
}

// A running cluster of `running` nodes (pg1 the leader, pg2 its sync standby); the inventory names
// `wanted`. Nodes running but not wanted are leaving; wanted but not running are new.
struct Scenario {
  Inventory inv;
  PlanInput in;
  Scenario(std::vector<int> running, std::vector<int> wanted, int leader = 1,
           ReplicationMode mode = ReplicationMode::sync_mode)
      : inv(inventory(wanted, mode)), in{inv, {}, {}, false} {
    for (int i : wanted) {
      const Node n = node(i);
      PlanNode p{n, false, std::nullopt, {}, files("backends of " + n.name + "\n")};
      if (std::count(running.begin(), running.end(), i)) {
        p.machine = Machine{n.name, n.address, 22, "root", "id" + n.name, true};
        p.seen = converged(n);
      }
      in.nodes.push_back(std::move(p));
    }
    for (int i : running) {
      if (std::count(wanted.begin(), wanted.end(), i)) continue;
      const Node n = node(i);
      in.nodes.push_back(
          PlanNode{n, true, Machine{n.name, n.address, 22, "root", "id" + n.name, true}, converged(n), {}});
    }
    in.view.etcd_answered = !running.empty();
    PatroniCluster c;
    for (int i : running) {
      in.view.etcd.push_back(member(i, 100 + i));
      c.members.push_back(pmember(i, i == leader                  ? "leader"
                                     : i == (leader == 1 ? 2 : 1) ? "sync_standby"
                                                                  : "replica"));
      in.view.member_keys["pg" + std::to_string(i)] = 1000 + i;
    }
    if (!running.empty()) {
      in.view.patroni = c;
      in.view.sql_known = true;
      in.view.dcs_config = dcs_config_patch(inv, nlohmann::json::object());  // exactly the wanted config
    }
  }
  Plan plan() { return compute_plan(in); }
};

std::vector<std::string> keys(const Plan& p, std::initializer_list<ChangeKind> only) {
  std::vector<std::string> out;
  for (const auto& c : p.changes) {
    if (std::find(only.begin(), only.end(), c.kind) != only.end()) out.push_back(change_key(c));
  }
  return out;
}

const auto kMembership = {ChangeKind::create_machine, ChangeKind::etcd_add,       ChangeKind::etcd_promote,
                          ChangeKind::etcd_remove,    ChangeKind::patroni_add,    ChangeKind::switchover,
                          ChangeKind::patroni_remove, ChangeKind::dcs_delete_key, ChangeKind::remove_machine};

TEST(Plan, AnUnchangedClusterHasNoChanges) {
  Scenario s({1, 2, 3}, {1, 2, 3});
  Plan p = s.plan();
  EXPECT_TRUE(p.empty()) << plan_json(p).dump(2);
  EXPECT_TRUE(p.violations.empty());
  EXPECT_EQ(format_plan(p, {}), "no changes\n");
  EXPECT_EQ(plan_json(p)["changes"], nlohmann::json::array());
}

// pgBackRest cannot re-cipher a repository: turning encryption on or off over one is refused.
TEST(Plan, TheRepositoryCipherNeverChanges) {
  Scenario same({1, 2, 3}, {1, 2, 3});
  for (auto& n : same.in.nodes) n.seen.repo_cipher = "none";
  EXPECT_TRUE(same.plan().violations.empty());

  Scenario on({1, 2, 3}, {1, 2, 3});
  on.inv.backup.cipher_type = "aes-256-cbc";
  on.in.nodes[1].seen.repo_cipher = "none";
  Plan p = on.plan();
  ASSERT_EQ(p.violations.size(), 1u);
  EXPECT_NE(
      p.violations[0].find("the backup repository of stanza c is not encrypted but the inventory asks for "
                           "aes-256-cbc: pgBackRest cannot change an existing repository's cipher"),
      std::string::npos)
      << p.violations[0];

  Scenario off({1, 2, 3}, {1, 2, 3});
  off.in.nodes[0].seen.repo_cipher = "aes-256-cbc";
  ASSERT_EQ(off.plan().violations.size(), 1u);
  EXPECT_NE(off.plan().violations[0].find("is encrypted (aes-256-cbc) but the inventory asks for none"),
            std::string::npos);
}

// TLS is chosen when the cluster is made: flipping tls.enabled on a running cluster is refused.
TEST(Plan, TlsIsNotFlippedOnARunningCluster) {
  Scenario same({1, 2, 3}, {1, 2, 3});
  for (auto& n : same.in.nodes) n.seen.etcd_scheme = "http";
  EXPECT_TRUE(same.plan().violations.empty());

  Scenario on({1, 2, 3}, {1, 2, 3});
  on.inv.tls.enabled = true;
  for (auto& n : on.in.nodes) n.seen.etcd_scheme = "http";
  Plan p = on.plan();
  ASSERT_EQ(p.violations.size(), 1u);
  EXPECT_NE(p.violations[0].find(
                "tls.enabled is true but the running cluster is plaintext (etcd on pg1 serves http)"),
            std::string::npos)
      << p.violations[0];

  Scenario off({1, 2, 3}, {1, 2, 3});
  for (auto& n : off.in.nodes) n.seen.etcd_scheme = "https";
  ASSERT_EQ(off.plan().violations.size(), 1u);
  EXPECT_NE(off.plan().violations[0].find("TLS is never turned off"), std::string::npos);
}

TEST(Plan, ANewClusterBootstrapsEtcdAndPatroniTogether) {
  Scenario s({}, {1, 2, 3});
  Plan p = s.plan();
  EXPECT_TRUE(p.etcd_bootstrap);
  EXPECT_EQ(keys(p, kMembership),
            (std::vector<std::string>{"create_machine pg1", "create_machine pg2", "create_machine pg3",
                                      "etcd_add pg1", "etcd_add pg2", "etcd_add pg3", "patroni_add pg1",
                                      "patroni_add pg2", "patroni_add pg3"}));
}

TEST(Plan, ScaleOutThreeToFiveAddsLearnersOneAtATimeAndNeverTouchesTheLeader) {
  Scenario s({1, 2, 3}, {1, 2, 3, 4, 5});
  // The existing nodes' HAProxy now lists pg4 and pg5: a reload, not a restart.
  for (auto& n : s.in.nodes) n.files = files("backends of " + n.node.name + " with pg4 pg5\n");
  Plan p = s.plan();
  EXPECT_TRUE(p.violations.empty());
  EXPECT_EQ(keys(p, kMembership),
            (std::vector<std::string>{"create_machine pg4", "create_machine pg5", "etcd_add pg4",
                                      "etcd_promote pg4", "etcd_add pg5", "etcd_promote pg5",
                                      "patroni_add pg4", "patroni_add pg5"}));
  EXPECT_EQ(keys(p, {ChangeKind::reload_unit, ChangeKind::restart_unit}),
            (std::vector<std::string>{"reload_unit pg1 haproxy.service", "reload_unit pg2 haproxy.service",
                                      "reload_unit pg3 haproxy.service"}));
  EXPECT_TRUE(p.switchover_to.empty());
}

TEST(Plan, ScaleInFiveToThreeSwitchesOverFromALeavingLeaderFirst) {
  Scenario s({1, 2, 3, 4, 5}, {3, 4, 5}, /*leader=*/1);
  // pg3 is the synchronous standby that stays.
  for (auto& m : s.in.view.patroni->members)
    m.role = m.name == "pg1" ? "leader" : m.name == "pg3" ? "sync_standby" : "replica";
  Plan p = s.plan();
  EXPECT_TRUE(p.violations.empty()) << p.violations.front();
  EXPECT_EQ(p.switchover_to, "pg3");
  EXPECT_EQ(keys(p, kMembership),
            (std::vector<std::string>{"patroni_remove pg2", "switchover pg1", "patroni_remove pg1",
                                      "dcs_delete_key pg1 /service/c/members/pg1",
                                      "dcs_delete_key pg2 /service/c/members/pg2", "etcd_remove pg1 65",
                                      "etcd_remove pg2 66", "remove_machine pg1", "remove_machine pg2"}));
  // The switchover comes before the leader's Patroni stops.
  auto at = [&](const std::string& k) {
    for (size_t i = 0; i < p.changes.size(); ++i) {
      if (change_key(p.changes[i]) == k) return i;
    }
    return p.changes.size();
  };
  EXPECT_LT(at("switchover pg1"), at("patroni_remove pg1"));
  // ... and after the leaving replica stopped (sync mode: only a synchronous standby takes over).
  EXPECT_LT(at("patroni_remove pg2"), at("switchover pg1"));
}

TEST(Plan, AReplacementAddsBeforeItRemoves) {
  Scenario s({1, 2, 3}, {1, 3, 4}, /*leader=*/1);
  Plan p = s.plan();
  EXPECT_TRUE(p.violations.empty());
  auto k = keys(p, {ChangeKind::etcd_add, ChangeKind::etcd_remove});
  EXPECT_EQ(k, (std::vector<std::string>{"etcd_add pg4", "etcd_remove pg2 66"}));
}

TEST(Plan, AHalfJoinedLearnerIsPromotedNotAddedAgain) {
  Scenario s({1, 2, 3}, {1, 2, 3, 4});
  s.in.view.etcd.push_back(member(4, 104, /*learner=*/true));
  s.in.nodes[3].machine = Machine{"pg4", "10.0.0.14", 22, "root", "idpg4", true};
  s.in.nodes[3].seen = converged(s.in.nodes[3].node);
  s.in.view.patroni->members.push_back(pmember(4, "replica"));
  Plan p = s.plan();
  EXPECT_EQ(keys(p, kMembership), (std::vector<std::string>{"etcd_promote pg4"}));
}

TEST(Plan, AMemberAddedButNeverStartedIsStartedNotAddedAgain) {
  Scenario s({1, 2, 3}, {1, 2, 3, 4});
  s.in.view.etcd.push_back(member(4, 104, /*learner=*/true, /*started=*/false));
  Plan p = s.plan();
  EXPECT_EQ(keys(p, {ChangeKind::etcd_add, ChangeKind::etcd_promote, ChangeKind::etcd_remove}),
            (std::vector<std::string>{"etcd_add pg4", "etcd_promote pg4"}));
}

// A node destroyed with its volumes behind pgha's back: etcd still lists its started member. Made
// again, it must not start etcd on an empty data dir (it would found a cluster of its own): its stale
// member is removed, then it joins afresh. The same for a machine that answers without etcd data.
TEST(Plan, AMachineMadeAgainReplacesItsStaleEtcdMember) {
  Scenario gone({1, 2, 3}, {1, 2, 3});
  gone.in.nodes[2].machine.reset();
  gone.in.nodes[2].seen = NodeObservation{};
  Plan p = gone.plan();
  EXPECT_TRUE(p.violations.empty());
  const auto kinds = {ChangeKind::etcd_replace, ChangeKind::etcd_add, ChangeKind::etcd_promote,
                      ChangeKind::etcd_remove};
  EXPECT_EQ(keys(p, kinds),
            (std::vector<std::string>{"etcd_replace pg3 67", "etcd_add pg3", "etcd_promote pg3"}));

  Scenario empty({1, 2, 3}, {1, 2, 3});
  empty.in.nodes[2].seen.etcd_data = false;
  EXPECT_EQ(keys(empty.plan(), kinds),
            (std::vector<std::string>{"etcd_replace pg3 67", "etcd_add pg3", "etcd_promote pg3"}));
}

// A run killed while it started a member can leave etcd running but not enabled, with its files
// pending: it is enabled and restarted, the two things ensure_roles_units() then does.
TEST(Plan, ARunningButDisabledUnitWithPendingFilesIsEnabledAndRestarted) {
  Scenario s({1, 2, 3}, {1, 2, 3});
  s.in.nodes[0].seen.units["etcd.service"].enabled = false;
  s.in.nodes[0].seen.pending.insert("etcd");
  Plan p = s.plan();
  EXPECT_EQ(keys(p, {ChangeKind::start_unit, ChangeKind::restart_unit, ChangeKind::reload_unit}),
            (std::vector<std::string>{"start_unit pg1 etcd.service", "restart_unit pg1 etcd.service"}));
  s.in.nodes[0].seen.units["etcd.service"].active = false;
  p = s.plan();
  EXPECT_EQ(keys(p, {ChangeKind::start_unit, ChangeKind::restart_unit, ChangeKind::reload_unit}),
            (std::vector<std::string>{"start_unit pg1 etcd.service"}));
}

TEST(Plan, AnOrphanMemberOfNoNodeIsRemoved) {
  Scenario s({1, 2, 3}, {1, 2, 3});
  s.in.view.etcd.push_back(member(9, 0x99, /*learner=*/true, /*started=*/false));
  Plan p = s.plan();
  EXPECT_EQ(keys(p, {ChangeKind::etcd_remove}), (std::vector<std::string>{"etcd_remove c 99"}));
}

TEST(Plan, RemovingMembersWhileTheStayingOnesLackQuorumIsRefused) {
  Scenario s({1, 2, 3, 4, 5}, {3, 4, 5}, /*leader=*/3);
  // Two of the three staying members are down: after the removals 1 healthy of 3 voters.
  for (auto& m : s.in.view.etcd) m.healthy = m.name == "pg3" || m.name == "pg1" || m.name == "pg2";
  Plan p = s.plan();
  ASSERT_FALSE(p.violations.empty());
  EXPECT_NE(p.violations.front().find("etcd never loses quorum"), std::string::npos) << p.violations.front();
}

TEST(Plan, AnEvenOrSmallEtcdIsAllowedWithAWarning) {
  Scenario s({1, 2, 3}, {1, 2, 3, 4});
  Plan p = s.plan();
  EXPECT_TRUE(p.violations.empty());
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_NE(p.warnings[0].find("4 voting members"), std::string::npos);
}

TEST(Plan, SyncModeWithoutACandidateNeedsForce) {
  Scenario s({1, 2}, {1}, /*leader=*/1);
  Plan p = s.plan();
  ASSERT_FALSE(p.violations.empty());
  EXPECT_NE(p.violations.back().find("--force"), std::string::npos);
  s.in.force = true;
  const Plan forced = s.plan();
  EXPECT_TRUE(std::none_of(forced.violations.begin(), forced.violations.end(),
                           [](const std::string& v) { return v.find("--force") != std::string::npos; }));
}

TEST(Plan, ALeavingLeaderWithNoHealthyReplicaIsRefused) {
  Scenario s({1, 2, 3}, {2, 3}, /*leader=*/1, ReplicationMode::async_mode);
  for (auto& m : s.in.view.patroni->members) {
    if (m.name == "pg2") m.state = "stopped";
    if (m.name == "pg3") m.timeline = 7;
  }
  Plan p = s.plan();
  ASSERT_FALSE(p.violations.empty());
  EXPECT_NE(p.violations.back().find("the leader is never stopped"), std::string::npos);
}

// Under writes Patroni's reported lag is rarely 0 at the instant of one observation: the plan takes a
// lagging replica as the candidate, and the switchover waits for its lag to reach 0.
TEST(Plan, ALeavingLeaderWithALaggingReplicaIsSwitchedOver) {
  Scenario s({1, 2, 3}, {2, 3}, /*leader=*/1, ReplicationMode::async_mode);
  for (auto& m : s.in.view.patroni->members) {
    if (m.name != "pg1") m.lag_bytes = 4096;
  }
  Plan p = s.plan();
  EXPECT_TRUE(p.violations.empty());
  EXPECT_TRUE(std::any_of(p.changes.begin(), p.changes.end(), [](const Change& c) {
    return c.kind == ChangeKind::switchover && c.node == "pg1";
  }));
}

TEST(Plan, ASecretFileIsShownOnlyAsChanged) {
  Scenario s({1}, {1}, 1, ReplicationMode::async_mode);
  s.in.nodes[0].files.push_back(RenderedFile{Role::patroni, "/etc/patroni/config.yml", "password: x\n",
                                             FileAttrs{"postgres", "postgres", 0600}, true});
  Plan p = s.plan();
  std::string text = format_plan(p, {{"write_file pg1 /etc/patroni/config.yml", "+password: x\n"}});
  EXPECT_EQ(text.find("password"), std::string::npos) << text;
  EXPECT_NE(text.find("holds secrets"), std::string::npos) << text;
}

TEST(Plan, EveryJsonChangeHasKindNodeAndSummary) {
  Scenario s({1, 2, 3, 4, 5}, {3, 4, 5});
  const nlohmann::json j = plan_json(s.plan());  // the loop below must not outlive it
  ASSERT_FALSE(j["changes"].empty());
  for (const auto& c : j["changes"]) {
    EXPECT_TRUE(c.contains("kind") && c.contains("node") && c.contains("summary")) << c.dump();
  }
}

// A new node (static host) with Debian's stock cluster, as observe_node() sees it before pgha.
NodeObservation with_stock(std::vector<std::string> dbs, bool disabled = false) {
  NodeObservation o;
  o.valid = true;
  o.system_state = "running";
  o.stock_postgres = true;
  o.stock_databases = std::move(dbs);
  o.stock_disabled = disabled;
  return o;
}

TEST(Plan, AStockClusterHoldingDatabasesIsRefusedByName) {
  Scenario s({}, {1, 2, 3});
  s.in.nodes[0].machine = Machine{"pg1", "10.0.0.11", 22, "ops", "idpg1", true};
  s.in.nodes[0].seen = with_stock({"app", "billing"});
  Plan p = s.plan();
  ASSERT_EQ(p.violations.size(), 1u);
  const std::string& v = p.violations[0];
  for (const char* part : {"pg1", "15/main", "app, billing", "--adopt-stock-cluster"})
    EXPECT_NE(v.find(part), std::string::npos) << part << " in: " << v;
}

TEST(Plan, AStoppedStockClusterCountsItsDatabasesByDirectory) {
  Scenario s({}, {1, 2, 3});
  s.in.nodes[1].machine = Machine{"pg2", "10.0.0.12", 22, "ops", "idpg2", true};
  s.in.nodes[1].seen = parse_observation("system\trunning\nstock\tpostgres\nstock-pg\tauto\t5\t\n");
  EXPECT_EQ(s.in.nodes[1].seen.stock_databases.size(), 2u);
  Plan p = s.plan();
  ASSERT_EQ(p.violations.size(), 1u);
  EXPECT_NE(p.violations[0].find("2 more"), std::string::npos) << p.violations[0];
}

TEST(Plan, AdoptingAStockClusterWarnsAndAFreshOneIsDropped) {
  Scenario s({}, {1, 2, 3});
  s.in.nodes[0].machine = Machine{"pg1", "10.0.0.11", 22, "ops", "idpg1", true};
  s.in.nodes[0].seen = with_stock({"app"});
  s.in.nodes[1].machine = Machine{"pg2", "10.0.0.12", 22, "ops", "idpg2", true};
  s.in.nodes[1].seen = parse_observation("system\trunning\nstock\tpostgres\nstock-pg\t\t3\t\n");
  s.in.stock = StockCluster::adopt;
  Plan p = s.plan();
  EXPECT_TRUE(p.violations.empty());
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_NE(p.warnings[0].find("pg1"), std::string::npos);
  EXPECT_NE(p.warnings[0].find("stopped and disabled"), std::string::npos);
  EXPECT_TRUE(s.in.nodes[1].seen.stock_databases.empty());  // postgres and the templates only: dropped
}

TEST(Plan, ADisabledStockClusterIsLeftAlone) {
  NodeObservation o = parse_observation("system\trunning\nstock\tpostgres\nstock-pg\tdisabled\t4\tapp\n");
  EXPECT_EQ(o.stock_databases, (std::vector<std::string>{"app"}));
  EXPECT_TRUE(o.stock_disabled);
  EXPECT_FALSE(stock_cluster_in_use(o));
  EXPECT_TRUE(stock_cluster_kept(o));
  Scenario s({}, {1, 2, 3});
  s.in.nodes[0].machine = Machine{"pg1", "10.0.0.11", 22, "ops", "idpg1", true};
  s.in.nodes[0].seen = o;
  EXPECT_TRUE(s.plan().violations.empty());
}

TEST(Plan, ParsesEtcdctlOutput) {
  auto m = parse_etcd_members(
      R"({"header":{"cluster_id":1},"members":[{"ID":12345678901234567890,"name":"pg1","peerURLs":["http://10.0.0.11:2380"],)"
      R"("clientURLs":["http://10.0.0.11:2379"]},{"ID":42,"peerURLs":["http://10.0.0.14:2380"],"isLearner":true}]})");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[0].id, 12345678901234567890ull);
  EXPECT_EQ((*m)[0].client_url, "http://10.0.0.11:2379");
  EXPECT_TRUE((*m)[1].name.empty());
  EXPECT_TRUE((*m)[1].learner);
  auto healthy = parse_etcd_health(
      R"([{"endpoint":"http://10.0.0.11:2379","health":true},{"endpoint":"x","health":false}])");
  EXPECT_EQ(healthy, (std::set<std::string>{"http://10.0.0.11:2379"}));
  // "/service/c/members/pg1" in base64.
  auto k = parse_dcs_keys(R"({"kvs":[{"key":"L3NlcnZpY2UvYy9tZW1iZXJzL3BnMQ==","mod_revision":77}]})",
                          "/service/c/members/");
  EXPECT_EQ(k, (std::map<std::string, int64_t>{{"pg1", 77}}));
}

}  // namespace
}  // namespace pgha
