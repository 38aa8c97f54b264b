// `pgha status`: the verdict, the text (summary, lag, HAProxy matrix) and the JSON, from hand-built
// cluster states; and the message for a cluster without machines.
#include <gtest/gtest.h>

#include "roles/status.hpp"

namespace pgha {
namespace {

PatroniMember member(const std::string& name, const std::string& role, const std::string& state,
                     std::optional<int64_t> lag) {
  PatroniMember m;
  m.name = name;
  m.host = "10.0.0." + name.substr(2);
  m.role = role;
  m.state = state;
  m.timeline = 1;
  m.lag_bytes = lag;
  return m;
}

// Three nodes, every role; pg1 leads, pg2 is the sync standby, pg3 an async replica; every HAProxy
// routes writes to pg1 and reads to pg2 and pg3.
ClusterStatus healthy_cluster() {
  ClusterStatus s;
  s.expected.cluster = "demo";
  s.expected.patroni_nodes = s.expected.haproxy_nodes = s.expected.etcd_nodes = {"pg1", "pg2", "pg3"};
  s.expected.addresses = {{"pg1", "10.0.0.1"}, {"pg2", "10.0.0.2"}, {"pg3", "10.0.0.3"}};
  s.expected.sync_mode = true;
  s.patroni.members = {member("pg1", "leader", "running", std::nullopt),
                       member("pg2", "sync_standby", "streaming", 0),
                       member("pg3", "replica", "streaming", 4096)};
  for (const char* n : {"1", "2", "3"})
    s.etcd.push_back({std::string("http://10.0.0.") + n + ":2379", true, ""});
  for (const char* h : {"pg1", "pg2", "pg3"}) {
    for (const char* server : {"pg1", "pg2", "pg3"}) {
      const bool leader = std::string(server) == "pg1";
      s.backends.push_back({h, "primary", server, leader ? "UP" : "DOWN"});
      s.backends.push_back({h, "replicas", server, leader ? "DOWN" : "UP"});
    }
  }
  s.vip = "10.0.0.100";
  s.vip_holders = {"pg1"};
  s.replay_lag = {{"pg2", std::nullopt}, {"pg3", 0.25}};
  return s;
}

void set_backend(ClusterStatus& s, const std::string& haproxy, const std::string& listener,
                 const std::string& server, const std::string& status) {
  for (auto& b : s.backends) {
    if (b.haproxy_node == haproxy && b.listener == listener && b.server == server) b.status = status;
  }
}

TEST(StatusVerdict, HealthyCluster) {
  ClusterStatus s = healthy_cluster();
  StatusVerdict v = judge_status(s);
  EXPECT_EQ(v.health, Health::healthy);
  EXPECT_TRUE(v.reasons.empty());
  EXPECT_TRUE(v.disagreements.empty());
  EXPECT_EQ(format_summary(s, v), "cluster demo: healthy\n");
}

TEST(StatusVerdict, StoppedReplicaDegradesAndIsNamed) {
  ClusterStatus s = healthy_cluster();
  s.patroni.members[2].state = "stopped";
  s.patroni.members[2].lag_bytes.reset();
  for (const char* h : {"pg1", "pg2", "pg3"}) set_backend(s, h, "replicas", "pg3", "DOWN");
  StatusVerdict v = judge_status(s);
  EXPECT_EQ(v.health, Health::degraded);
  EXPECT_EQ(format_summary(s, v), "cluster demo: degraded: replica pg3 is stopped\n");
}

TEST(StatusVerdict, ReplicaMissingFromPatroniDegradesAndIsNamed) {
  ClusterStatus s = healthy_cluster();
  s.patroni.members.pop_back();
  for (const char* h : {"pg1", "pg2", "pg3"}) set_backend(s, h, "replicas", "pg3", "DOWN");
  StatusVerdict v = judge_status(s);
  EXPECT_EQ(v.health, Health::degraded);
  ASSERT_EQ(v.reasons.size(), 1u);
  EXPECT_EQ(v.reasons[0], "replica pg3 is missing from Patroni's member list");
}

TEST(StatusVerdict, NoLeaderIsDown) {
  ClusterStatus s = healthy_cluster();
  s.patroni.members[0].role = "replica";
  s.patroni.members[0].state = "stopped";
  for (const char* h : {"pg1", "pg2", "pg3"}) set_backend(s, h, "primary", "pg1", "DOWN");
  StatusVerdict v = judge_status(s);
  EXPECT_EQ(v.health, Health::down);
  ASSERT_FALSE(v.reasons.empty());
  EXPECT_EQ(v.reasons[0], "no Patroni leader");
  EXPECT_EQ(format_summary(s, v).rfind("cluster demo: down: no Patroni leader", 0), 0u);
}

TEST(StatusVerdict, NoEtcdQuorumIsDown) {
  ClusterStatus s = healthy_cluster();
  s.etcd[1].healthy = s.etcd[2].healthy = false;
  StatusVerdict v = judge_status(s);
  EXPECT_EQ(v.health, Health::down);
  EXPECT_EQ(v.reasons[0], "no etcd quorum (1 of 3 members healthy)");
  EXPECT_EQ(v.reasons[1], "etcd member pg2 is unhealthy");
}

TEST(StatusVerdict, OneUnhealthyEtcdMemberAndAnUnheldVipDegrade) {
  ClusterStatus s = healthy_cluster();
  s.etcd[2].healthy = false;
  s.vip_holders.clear();
  StatusVerdict v = judge_status(s);
  EXPECT_EQ(v.health, Health::degraded);
  EXPECT_EQ(v.reasons, (std::vector<std::string>{"etcd member pg3 is unhealthy", "VIP 10.0.0.100 not held"}));
}

TEST(StatusVerdict, UnreachableNodeDegrades) {
  ClusterStatus s = healthy_cluster();
  s.unreachable["pg3"] = "machine stopped";
  EXPECT_EQ(judge_status(s).reasons[0], "node pg3 is unreachable (machine stopped)");
}

TEST(StatusVerdict, HaproxyWritingToAReplicaDisagrees) {
  ClusterStatus s = healthy_cluster();
  set_backend(s, "pg2", "primary", "pg3", "UP");
  set_backend(s, "pg3", "primary", "pg1", "DOWN");
  StatusVerdict v = judge_status(s);
  EXPECT_EQ(v.health, Health::degraded);
  ASSERT_EQ(v.disagreements.size(), 2u);
  EXPECT_EQ(v.reasons,
            (std::vector<std::string>{
                "haproxy on pg2 disagrees with Patroni (write pool: pg3 is a replica (pg1 leads), yet UP)",
                "haproxy on pg3 disagrees with Patroni (write pool: the leader pg1 is DOWN)"}));
}

TEST(StatusVerdict, HaproxyReadingFromAStoppedReplicaDisagrees) {
  ClusterStatus s = healthy_cluster();
  s.patroni.members[2].state = "stopped";
  set_backend(s, "pg1", "replicas", "pg3", "DOWN");
  set_backend(s, "pg2", "replicas", "pg3", "DOWN");
  StatusVerdict v = judge_status(s);
  ASSERT_EQ(v.disagreements.size(), 1u);
  EXPECT_EQ(v.disagreements[0].haproxy_node, "pg3");
  EXPECT_EQ(v.disagreements[0].why, "pg3 is stopped, yet UP");
}

TEST(StatusVerdict, NoloadbalanceReplicaBelongsOutOfTheReadPool) {
  ClusterStatus s = healthy_cluster();
  s.expected.noloadbalance = {"pg3"};
  EXPECT_EQ(judge_status(s).disagreements.size(), 3u);
  for (const char* h : {"pg1", "pg2", "pg3"}) set_backend(s, h, "replicas", "pg3", "DOWN");
  EXPECT_EQ(judge_status(s).health, Health::healthy);
}

TEST(StatusLag, SecondsFromTheLeadersReplayLag) {
  ClusterStatus s = healthy_cluster();
  EXPECT_EQ(lag_seconds(s, s.patroni.members[0]), std::nullopt);  // the leader
  EXPECT_EQ(lag_seconds(s, s.patroni.members[1]), 0.0);           // NULL, caught up
  EXPECT_EQ(lag_seconds(s, s.patroni.members[2]), 0.25);
  s.patroni.members[1].lag_bytes = 100;
  EXPECT_EQ(lag_seconds(s, s.patroni.members[1]), std::nullopt);  // NULL with bytes outstanding
  s.replay_lag.clear();
  EXPECT_EQ(lag_seconds(s, s.patroni.members[2]), std::nullopt);  // not streaming from the leader
}

TEST(StatusText, HealthyClusterReadsAtAGlance) {
  EXPECT_EQ(format_status(healthy_cluster()),
            "cluster demo: healthy\n"
            "\n"
            "Member  Host      Role          State      TL  Lag bytes  Lag s\n"
            "pg1     10.0.0.1  leader        running    1\n"
            "pg2     10.0.0.2  sync_standby  streaming  1   0          0\n"
            "pg3     10.0.0.3  replica       streaming  1   4096       0.250\n"
            "\n"
            "etcd: 3 of 3 members healthy\n"
            "  http://10.0.0.1:2379  healthy\n"
            "  http://10.0.0.2:2379  healthy\n"
            "  http://10.0.0.3:2379  healthy\n"
            "\n"
            "HAProxy: a row per server, a column per node's HAProxy (! = disagrees with Patroni)\n"
            "          write :5000       |  read :5001\n"
            "  server  pg1   pg2   pg3   |  pg1   pg2   pg3\n"
            "  pg1     UP    UP    UP    |  DOWN  DOWN  DOWN\n"
            "  pg2     DOWN  DOWN  DOWN  |  UP    UP    UP\n"
            "  pg3     DOWN  DOWN  DOWN  |  UP    UP    UP\n"
            "\n"
            "VIP 10.0.0.100: held by pg1 (leader)\n");
}

TEST(StatusText, DisagreementIsMarkedInTheMatrixAndExplained) {
  ClusterStatus s = healthy_cluster();
  set_backend(s, "pg2", "primary", "pg3", "UP");
  std::string text = format_status(s);
  EXPECT_NE(text.find("cluster demo: degraded: haproxy on pg2 disagrees with Patroni"), std::string::npos)
      << text;
  EXPECT_NE(text.find("UP !"), std::string::npos) << text;
  EXPECT_NE(text.find("  ! HAProxy on pg2, write pool: pg3 is a replica (pg1 leads), yet UP\n"),
            std::string::npos)
      << text;
}

TEST(StatusJson, CarriesTheVerdictLagAndMatrix) {
  ClusterStatus s = healthy_cluster();
  s.patroni.members[2].state = "stopped";
  s.patroni.members[2].lag_bytes.reset();
  nlohmann::json j = status_json(s);
  EXPECT_EQ(j["cluster"], "demo");
  EXPECT_EQ(j["health"], "degraded");
  EXPECT_EQ(j["reasons"][0], "replica pg3 is stopped");
  EXPECT_EQ(j["members"][1]["lag_bytes"], 0);
  EXPECT_EQ(j["members"][1]["lag_seconds"], 0.0);
  EXPECT_TRUE(j["members"][0]["lag_seconds"].is_null());
  EXPECT_TRUE(j["members"][2]["lag_bytes"].is_null());
  // The flat list of earlier versions stays, each entry now saying whether it agrees with Patroni.
  ASSERT_EQ(j["haproxy"].size(), 18u);
  EXPECT_EQ(j["haproxy"][0], nlohmann::json({{"haproxy", "pg1"},
                                             {"listener", "primary"},
                                             {"server", "pg1"},
                                             {"status", "UP"},
                                             {"agrees", true}}));
  const auto& m = j["haproxy_matrix"];
  EXPECT_EQ(m["instances"], nlohmann::json({"pg1", "pg2", "pg3"}));
  EXPECT_EQ(m["servers"][2]["server"], "pg3");
  EXPECT_EQ(m["servers"][2]["read"], nlohmann::json({{"pg1", "UP"}, {"pg2", "UP"}, {"pg3", "UP"}}));
  EXPECT_EQ(m["disagreements"].size(), 3u);
  EXPECT_EQ(m["disagreements"][0]["why"], "pg3 is stopped, yet UP");
  EXPECT_EQ(j["vip"], nlohmann::json({{"address", "10.0.0.100"}, {"holder", "pg1"}, {"holders", {"pg1"}}}));
}

TEST(StatusJson, DownClusterSaysWhy) {
  ClusterStatus s = healthy_cluster();
  s.patroni = PatroniCluster{};
  s.patroni_error = "no Patroni REST API answered";
  nlohmann::json j = status_json(s);
  EXPECT_EQ(j["health"], "down");
  EXPECT_EQ(j["reasons"], nlohmann::json({"no Patroni REST API answered"}));
  EXPECT_EQ(j["patroni_error"], "no Patroni REST API answered");
}

Inventory two_node_inventory() {
  Inventory inv;
  inv.cluster_name = "demo";
  inv.nodes.resize(2);
  inv.nodes[0].name = "pg1";
  inv.nodes[1].name = "pg2";
  return inv;
}

TEST(StatusNotRunning, NoMachinesSaysSoAndHowToStart) {
  EXPECT_EQ(not_running_message(two_node_inventory(), {}, "inv.yml"),
            "cluster demo is not running (no machines found); `pgha up -i inv.yml` starts it");
}

TEST(StatusNotRunning, StoppedMachinesSaySo) {
  Machine m;
  m.node = "pg1";
  EXPECT_EQ(not_running_message(two_node_inventory(), {m}, "inv.yml"),
            "cluster demo is not running (its machines are stopped); `pgha up -i inv.yml` starts it");
}

TEST(StatusNotRunning, OneRunningMachineIsEnough) {
  Machine m;
  m.node = "pg2";
  m.running = true;
  EXPECT_EQ(not_running_message(two_node_inventory(), {m}, "inv.yml"), "");
}

// HAProxy 2.6's stats CSV, cut to its first 18 columns (pxname, svname, ..., status at 17).
TEST(HaproxyStats, ParsesServerRowsAndFindsWhoStillSendsWritesToANode) {
  const std::string csv =
      "# "
      "pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,\n"
      "stats,FRONTEND,,,0,1,3000,2,0,0,0,0,0,,,,,OPEN,\n"
      "primary,FRONTEND,,,1,2,3000,9,0,0,0,0,0,,,,,OPEN,\n"
      "primary,pg1,0,0,0,1,,3,0,0,,0,,0,0,0,0,UP 2/3,\n"
      "primary,pg3,0,0,1,1,,6,0,0,,0,,0,0,0,0,UP,\n"
      "primary,BACKEND,0,0,1,2,300,9,0,0,0,0,,0,0,0,0,UP,\n"
      "replicas,pg1,0,0,0,1,,3,0,0,,0,,0,0,0,0,UP,\n";
  auto rows = parse_haproxy_csv("pg3", csv);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].listener, "primary");
  EXPECT_EQ(rows[0].server, "pg1");
  EXPECT_EQ(rows[0].status, "UP 2/3");
  // Going down ("UP 2/3") still takes new sessions; the replicas pool does not count.
  EXPECT_EQ(haproxies_writing_to(rows, "pg1"), std::vector<std::string>{"pg3"});
  rows[0].status = "DOWN";
  EXPECT_TRUE(haproxies_writing_to(rows, "pg1").empty());
  rows[0].status = "DOWN 1/2";  // coming back up: not yet routed to
  EXPECT_TRUE(haproxies_writing_to(rows, "pg1").empty());
  EXPECT_EQ(haproxies_writing_to(rows, "pg3"), std::vector<std::string>{"pg3"});
}

}  // namespace
}  // namespace pgha
