// `down` on hosts pgha borrows: pgha's units and files go, the machine and (without --purge) the data
// stay; a failure names the host, the step and the command.
#include "roles/teardown.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "fakes/fake_shell.hpp"

namespace pgha {
namespace {

Inventory inventory() {
  Inventory inv;
  inv.cluster_name = "shop";
  inv.postgres_version = 15;
  inv.backup.repo_path = "/var/lib/pgbackrest";
  for (int i = 1; i <= 2; ++i) {
    Node n;
    n.name = "pg" + std::to_string(i);
    n.address = "10.0.0." + std::to_string(10 + i);
    n.roles = {Role::etcd, Role::patroni, Role::haproxy, Role::keepalived};
    inv.nodes.push_back(n);
  }
  return inv;
}

std::vector<RenderedFile> files() {
  return {RenderedFile{Role::patroni, "/etc/patroni/config.yml", "x", FileAttrs{}, true},
          RenderedFile{Role::patroni, "/etc/systemd/system/pgha-backup-full.timer", "x", FileAttrs{}, false},
          RenderedFile{Role::patroni, "/etc/systemd/system/patroni.service.d/override.conf", "x", FileAttrs{},
                       false}};
}

TEST(Teardown, ReleasingAHostStopsPghaFirstAndKeepsTheData) {
  const std::string cmd = release_host_command(inventory(), files(), DataRetention::keep);
  // keepalived first: the VIP leaves before the database does.
  EXPECT_LT(cmd.find("disable -q --now keepalived"), cmd.find("patroni"));
  EXPECT_NE(cmd.find("'pgha-backup-full.timer'"), std::string::npos) << cmd;
  EXPECT_EQ(cmd.find("override.conf'"), cmd.find("'/etc/systemd/system/patroni.service.d/override.conf'") +
                                            std::string("'/etc/systemd/system/patroni.service.d/").size());
  EXPECT_NE(cmd.find("rm -f -- '/etc/patroni/config.yml'"), std::string::npos) << cmd;
  EXPECT_NE(cmd.find("systemctl daemon-reload"), std::string::npos);
  EXPECT_EQ(cmd.find("/var/lib/postgresql"), std::string::npos) << cmd;
  EXPECT_EQ(cmd.find("/var/lib/etcd"), std::string::npos) << cmd;
}

TEST(Teardown, PurgeRemovesOnlyTheClustersOwnDataDirectories) {
  const std::string cmd = release_host_command(inventory(), files(), DataRetention::remove);
  EXPECT_NE(cmd.find("rm -rf -- '/var/lib/postgresql/15/shop' '/var/lib/etcd/shop' '/var/lib/pgbackrest'"),
            std::string::npos)
      << cmd;
  EXPECT_EQ(cmd.find("15/main"), std::string::npos) << "the stock cluster is the operator's: " << cmd;
}

// Forwards to a FakeShell that outlives the call, so the test can read what ran.
class Borrowed final : public RemoteShell {
 public:
  explicit Borrowed(testing::FakeShell& s) : s_(s) {}
  const std::string& host() const override { return s_.host(); }
  Result<CommandResult> run(const std::string& c, std::string_view in) override { return s_.run(c, in); }
  Status upload(const std::string& p, std::string_view c, const FileAttrs& a) override {
    return s_.upload(p, c, a);
  }
  Result<std::optional<std::string>> read(const std::string& p) override { return s_.read(p); }

 private:
  testing::FakeShell& s_;
};

TEST(Teardown, AFailingHostIsNamedWithItsStepAndTheRestIsNotTouched) {
  const Inventory inv = inventory();
  testing::FakeShell pg1("pg1"), pg2("pg2");
  pg1.on("systemctl", CommandResult{1, "", "Failed to connect to bus"});
  std::vector<Machine> machines = {Machine{"pg1", "10.0.0.11", 22, "ops", "", true},
                                   Machine{"pg2", "10.0.0.12", 22, "ops", "", true}};
  std::ostringstream out;
  auto progress = make_progress(out, ProgressStyle::quiet);
  Status s = release_hosts(
      inv, machines, [](const Node&) { return Result<std::vector<RenderedFile>>(files()); },
      [&](const Machine& m) -> Result<std::unique_ptr<RemoteShell>> {
        return std::unique_ptr<RemoteShell>(new Borrowed(m.node == "pg1" ? pg1 : pg2));
      },
      DataRetention::keep, *progress);
  ASSERT_FALSE(s.ok());
  const std::string why = s.error().describe();
  EXPECT_NE(why.find("pg1"), std::string::npos) << why;
  EXPECT_NE(why.find("down:release"), std::string::npos) << why;
  EXPECT_EQ(pg1.commands.size(), 1u);
  EXPECT_TRUE(pg2.commands.empty());
}

}  // namespace
}  // namespace pgha
