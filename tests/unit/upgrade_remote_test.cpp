// `pgha upgrade`'s SSH side against a fake shell: what the observation asks and reads back, and the
// install command itself run in bash (apt-get a stand-in, policy-rc.d in a scratch directory): the
// maintainer scripts are refused every restart while apt runs, and an operator's policy-rc.d is back
// afterwards, also when apt fails.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fakes/fake_shell.hpp"
#include "roles/engine.hpp"
#include "roles/upgrade.hpp"

namespace pgha {
namespace {

using testing::FakeShell;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Fixture {
  Inventory inv;
  ResolvedSecrets secrets;
  std::unique_ptr<Progress> progress = make_progress(std::cerr, ProgressStyle::quiet);
  std::vector<NodeHandle> nodes;
  FakeShell* shell = nullptr;

  Fixture() {
    Node node;
    node.name = "pg1";
    node.address = "10.0.0.11";
    node.roles = {Role::etcd,       Role::patroni,   Role::haproxy,
                  Role::keepalived, Role::pgbouncer, Role::pgbackrest};
    inv.nodes = {node};
    NodeHandle h;
    h.node = &inv.nodes[0];
    auto fake = std::make_unique<FakeShell>("pg1");
    shell = fake.get();
    h.shell = std::move(fake);
    nodes.push_back(std::move(h));
  }
  EngineContext ctx() { return EngineContext{inv, secrets, *progress, nodes, GateTimeouts{}}; }
};

TEST(UpgradeObserve, UpdatesThenReadsTheCatalogsPackagesAndTheOwedRestarts) {
  Fixture f;
  f.shell->on(
      "apt-cache policy",
      CommandResult{0, slurp(std::string(PGHA_SOURCE_DIR) + "/tests/data/apt/policy-bookworm.txt"), ""});
  f.shell->on("upgrade-owed", CommandResult{0, "etcd\nbogus\n", ""});
  auto in = observe_upgrade(f.nodes[0], f.inv, true);
  ASSERT_TRUE(in) << in.error().describe();
  ASSERT_GE(f.shell->commands.size(), 3u);
  EXPECT_EQ(f.shell->commands[0], "LC_ALL=C apt-get -q -o DPkg::Lock::Timeout=300 update");
  EXPECT_EQ(f.shell->commands[1],
            "LC_ALL=C apt-cache policy 'etcd-server' 'etcd-client' 'patroni' 'postgresql-15' "
            "'postgresql-client-15' 'python3-psycopg2' 'python3-etcd' 'curl' 'procps' 'haproxy' 'keepalived' "
            "'iproute2' 'pgbouncer' 'pgbackrest'");
  ASSERT_EQ(in->packages.size(), 14u);
  EXPECT_EQ(in->packages[3].name, "postgresql-15");
  EXPECT_EQ(in->packages[3].candidate, "15.20-0+deb12u1");
  EXPECT_EQ(in->owed, (std::set<Effect>{Effect::etcd}));
  EXPECT_EQ(in->patroni_fix, FixCheck::not_needed);
  for (const auto& c : f.shell->commands) EXPECT_EQ(c.find("download"), std::string::npos) << c;
  // The fixture's pending upgrades (PostgreSQL's server and client): apt simulates exactly them.
  EXPECT_EQ(f.shell->commands[3],
            "LC_ALL=C apt-get -s -q install --only-upgrade --no-install-recommends --no-remove "
            "'postgresql-15=15.20-0+deb12u1' 'postgresql-client-15=15.20-0+deb12u1'");
}

TEST(UpgradeObserve, NoUpdateAndThePatroniCandidateIsCheckedForTheFix) {
  Fixture f;
  f.shell->on("apt-cache policy",
              CommandResult{
                  0, "patroni:\n  Installed: 3.0.2-1\n  Candidate: 3.0.2-1+deb12u1\n  Version table:\n", ""});
  f.shell->on("apt-get -q download 'patroni=3.0.2-1+deb12u1'", CommandResult{0, "applied\n", ""});
  auto in = observe_upgrade(f.nodes[0], f.inv, false);
  ASSERT_TRUE(in) << in.error().describe();
  for (const auto& c : f.shell->commands) EXPECT_EQ(c.find("update"), std::string::npos) << c;
  EXPECT_EQ(in->patroni_fix, FixCheck::applies);
  EXPECT_EQ(in->packages[2].candidate, "3.0.2-1+deb12u1");
  EXPECT_EQ(in->packages[0].installed, "");  // etcd-server: apt did not list it

  Fixture g;
  g.shell->on(
      "apt-cache policy",
      CommandResult{0, "patroni:\n  Installed: 3.0.2-1\n  Candidate: 4.0.4-1\n  Version table:\n", ""});
  g.shell->on("apt-get -q download", CommandResult{0, "absent\n", ""});
  auto other = observe_upgrade(g.nodes[0], g.inv, false);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->patroni_fix, FixCheck::absent);
  // The held patroni is not simulated, and nothing else is pending.
  for (const auto& c : g.shell->commands) EXPECT_EQ(c.find("apt-get -s"), std::string::npos) << c;
}

class InstallInBash : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() / ("pgha-upgrade-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  // Runs the install command pgha sends, with policy-rc.d in `dir` and apt-get a function that logs
  // its arguments and what the policy answers a maintainer script's restart.
  int run_install(int apt_exit) {
    Fixture f;
    auto ctx = f.ctx();
    auto hosts = ssh_upgrade_hosts(ctx);
    f.shell->on("apt-get", CommandResult{0, "", ""});
    (void)hosts->install("pg1", {{"haproxy", "2.6.12-1+deb12u3", "2.6.12-1+deb12u4", Effect::haproxy},
                                 {"postgresql-15", "15.18-0+deb12u1", "15.20-0+deb12u1", Effect::postgres}});
    EXPECT_EQ(f.shell->commands.size(), 1u);
    std::string cmd = f.shell->commands.at(0);
    const std::string real = "/usr/sbin/policy-rc.d";
    cmd.replace(cmd.find(real), real.size(), (dir / "policy-rc.d").string());
    std::ofstream(dir / "script.sh")
        << "apt-get() { r=0; \"$p\" haproxy restart || r=$?; echo \"policy $r\" >> " << (dir / "log").string()
        << "; echo \"apt $*\" >> " << (dir / "log").string() << "; return " << apt_exit << "; }\n"
        << cmd << "\n";
    return std::system(("bash " + (dir / "script.sh").string() + " >/dev/null 2>&1").c_str());
  }
  std::filesystem::path dir;
};

TEST_F(InstallInBash, MaintainerScriptsMayNotRestartAndThePolicyIsRemovedAfter) {
  ASSERT_EQ(run_install(0), 0);
  EXPECT_EQ(slurp((dir / "log").string()),
            "policy 101\n"
            "apt -q -y -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o "
            "Dpkg::Options::=--force-confold install --only-upgrade --no-install-recommends --no-remove "
            "haproxy=2.6.12-1+deb12u4 postgresql-15=15.20-0+deb12u1\n");
  EXPECT_FALSE(std::filesystem::exists(dir / "policy-rc.d"));
}

TEST_F(InstallInBash, AnOperatorsPolicyIsPutAsideAndRestoredAlsoWhenAptFails) {
  std::ofstream(dir / "policy-rc.d") << "#!/bin/sh\nexit 0\n";
  std::filesystem::permissions(dir / "policy-rc.d", std::filesystem::perms::owner_all);
  EXPECT_NE(run_install(100), 0);
  EXPECT_EQ(slurp((dir / "log").string()).substr(0, 11), "policy 101\n");
  EXPECT_EQ(slurp((dir / "policy-rc.d").string()), "#!/bin/sh\nexit 0\n");
  EXPECT_FALSE(std::filesystem::exists(dir / "policy-rc.d.pgha-saved"));
}

}  // namespace
}  // namespace pgha
