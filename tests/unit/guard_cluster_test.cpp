// The real guard cluster's pure parts: the command a replica runs to judge the leader (it is real
// bash: run here against closed local ports), its parsing, and the hold markers.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "guard/guard_cluster.hpp"

namespace pgha::guard {
namespace {

namespace fs = std::filesystem;

Inventory two_nodes() {
  Inventory inv;
  inv.cluster_name = "demo";
  for (int i = 1; i <= 2; ++i) {
    Node n;
    n.name = "pg" + std::to_string(i);
    n.address = "127.0.0." + std::to_string(i);
    inv.nodes.push_back(n);
  }
  inv.ports.patroni_api = 1;  // nothing listens on port 1
  inv.ports.postgres = 2;
  return inv;
}

TEST(GuardCluster, ReplicaViewParsing) {
  ReplicaView v = parse_replica_view("pg2", {0, "self=200 rest=000 pg=2\n", ""});
  EXPECT_TRUE(v.answered);
  EXPECT_TRUE(v.self_healthy);
  EXPECT_FALSE(v.reaches_rest);
  EXPECT_FALSE(v.reaches_pg);
  v = parse_replica_view("pg2", {0, "self=503 rest=200 pg=1\n", ""});
  EXPECT_FALSE(v.self_healthy);
  EXPECT_TRUE(v.reaches_rest);
  EXPECT_TRUE(v.reaches_pg);  // rejecting connections is still reachable
  EXPECT_FALSE(parse_replica_view("pg2", {0, "self=200\n", ""}).answered);
  EXPECT_FALSE(parse_replica_view("pg2", {127, "", "bash: curl: not found"}).answered);
}

TEST(GuardCluster, TheReplicaCommandRunsInBash) {
  Inventory inv = two_nodes();
  std::string script = replica_view_command(inv, inv.nodes[1], inv.nodes[0]);
  EXPECT_NE(script.find("http://127.0.0.1:1/patroni"), std::string::npos) << script;
  EXPECT_NE(script.find("http://127.0.0.2:1/health"), std::string::npos) << script;
  EXPECT_NE(script.find("pg_isready -q -h 127.0.0.1 -p 2"), std::string::npos) << script;
  if (std::system("command -v curl >/dev/null && command -v pg_isready >/dev/null") != 0)
    GTEST_SKIP() << "curl or pg_isready missing";
  fs::path file = fs::temp_directory_path() / ("pgha-guard-rv-" + std::to_string(::getpid()));
  {
    std::FILE* f = std::fopen(file.c_str(), "w");
    std::fputs(script.c_str(), f);
    std::fclose(f);
  }
  std::FILE* p = ::popen(("bash -s < " + file.string()).c_str(), "r");
  char buf[256] = {};
  std::string out;
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  int rc = ::pclose(p);
  fs::remove(file);
  ReplicaView v = parse_replica_view("pg2", {rc, out, ""});
  EXPECT_TRUE(v.answered) << out;
  EXPECT_FALSE(v.self_healthy);
  EXPECT_FALSE(v.reaches_rest);
  EXPECT_FALSE(v.reaches_pg);
}

TEST(GuardCluster, HoldMarkersLiveAsLongAsTheirOwner) {
  fs::path dir = fs::temp_directory_path() / ("pgha-guard-hold-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  EXPECT_EQ(read_holds(dir.string()), "");
  {
    HoldMarker rolling(dir.string(), "rolling");
    EXPECT_EQ(read_holds(dir.string()), "rolling");
  }
  EXPECT_EQ(read_holds(dir.string()), "");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace pgha::guard
