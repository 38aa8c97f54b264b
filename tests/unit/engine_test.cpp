// The role engine against a fake shell: it writes only what differs and restarts only what changed.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdio>

#include <filesystem>

#include "core/sha256.hpp"
#include "fakes/fake_shell.hpp"
#include "roles/engine.hpp"
#include "roles/patroni_api.hpp"
#include "roles/state.hpp"

namespace pgha {
namespace {

using testing::FakeShell;

struct Fixture {
  Inventory inv;
  Node node;
  ResolvedSecrets secrets;
  std::unique_ptr<Progress> progress = make_progress(std::cerr, ProgressStyle::quiet);
  std::vector<NodeHandle> nodes;
  FakeShell* shell = nullptr;

  Fixture() {
    node.name = "pg1";
    node.address = "10.0.0.11";
    node.roles = {Role::haproxy};
    inv.nodes = {node};
    NodeHandle h;
    h.node = &inv.nodes[0];
    auto fake = std::make_unique<FakeShell>("pg1");
    shell = fake.get();
    h.shell = std::move(fake);
    h.files.push_back(RenderedFile{Role::haproxy, "/etc/haproxy/haproxy.cfg", "global\n",
                                   FileAttrs{"root", "root", 0644}, false});
    nodes.push_back(std::move(h));
  }
  EngineContext ctx() { return EngineContext{inv, secrets, *progress, nodes, GateTimeouts{}}; }
};

TEST(SyncFiles, WritesAMissingFileAndMarksItsRoleChanged) {
  Fixture f;
  f.shell->on("sha256sum", CommandResult{0, "/etc/haproxy/haproxy.cfg\t-\t-\n", ""});
  auto ctx = f.ctx();
  ASSERT_TRUE(sync_files(ctx).ok());
  ASSERT_EQ(f.shell->uploads.size(), 1u);
  EXPECT_EQ(f.shell->uploads[0].first, "/etc/haproxy/haproxy.cfg");
  EXPECT_EQ(f.shell->files["/etc/haproxy/haproxy.cfg"], "global\n");
  EXPECT_TRUE(f.nodes[0].changed.count(Role::haproxy));
}

TEST(SyncFiles, LeavesAnIdenticalFileAlone) {
  Fixture f;
  f.shell->on(
      "sha256sum",
      CommandResult{0, "/etc/haproxy/haproxy.cfg\t" + sha256_hex("global\n") + "\troot:root:644\n", ""});
  auto ctx = f.ctx();
  ASSERT_TRUE(sync_files(ctx).ok());
  EXPECT_TRUE(f.shell->uploads.empty());
  EXPECT_TRUE(f.nodes[0].changed.empty());
  EXPECT_EQ(f.shell->commands.size(), 1u);
}

TEST(SyncFiles, FixesOnlyOwnerAndModeWhenContentMatches) {
  Fixture f;
  f.shell->on(
      "sha256sum",
      CommandResult{0, "/etc/haproxy/haproxy.cfg\t" + sha256_hex("global\n") + "\troot:root:666\n", ""});
  auto ctx = f.ctx();
  ASSERT_TRUE(sync_files(ctx).ok());
  EXPECT_TRUE(f.shell->uploads.empty());
  ASSERT_EQ(f.shell->commands.size(), 3u);
  EXPECT_NE(f.shell->commands[1].find("touch 'haproxy'"), std::string::npos);  // promise first
  EXPECT_NE(f.shell->commands[2].find("chmod 644"), std::string::npos);
  EXPECT_TRUE(f.nodes[0].changed.count(Role::haproxy));
}

TEST(SyncFiles, APendingMarkerFromAKilledRunMarksItsRoleChanged) {
  Fixture f;
  f.shell->on("sha256sum", CommandResult{0,
                                         "/etc/haproxy/haproxy.cfg\t" + sha256_hex("global\n") +
                                             "\troot:root:644\npending\thaproxy\t-\n",
                                         ""});
  auto ctx = f.ctx();
  ASSERT_TRUE(sync_files(ctx).ok());
  EXPECT_TRUE(f.shell->uploads.empty());
  EXPECT_TRUE(f.nodes[0].changed.count(Role::haproxy));
}

TEST(EnsureUnit, StartsAnInactiveUnitOnce) {
  Fixture f;
  f.shell->on("is-enabled", CommandResult{0, "enabled\ninactive\n", ""});
  ASSERT_TRUE(ensure_unit(f.nodes[0], "t", "haproxy.service", false, true).ok());
  ASSERT_EQ(f.nodes[0].actions.size(), 1u);
  EXPECT_EQ(f.nodes[0].actions[0].summary, "started haproxy.service");
}

TEST(EnsureUnit, LeavesAnActiveUnchangedUnitAlone) {
  Fixture f;
  f.shell->on("is-enabled", CommandResult{0, "enabled\nactive\n", ""});
  ASSERT_TRUE(ensure_unit(f.nodes[0], "t", "haproxy.service", false, true).ok());
  EXPECT_TRUE(f.nodes[0].actions.empty());
  EXPECT_EQ(f.shell->commands.size(), 1u);
}

TEST(EnsureUnit, ReloadsAnActiveUnitWhoseFilesChanged) {
  Fixture f;
  f.shell->on("is-enabled", CommandResult{0, "enabled\nactive\n", ""});
  ASSERT_TRUE(ensure_unit(f.nodes[0], "t", "haproxy.service", true, true).ok());
  ASSERT_EQ(f.nodes[0].actions.size(), 1u);
  EXPECT_EQ(f.nodes[0].actions[0].summary, "reloaded haproxy.service");
  EXPECT_EQ(f.nodes[0].actions[0].kind, ChangeKind::reload_unit);
}

TEST(EnsureUnit, AFailedStartNamesHostStepAndCommand) {
  Fixture f;
  f.shell->on("is-enabled", CommandResult{0, "enabled\nfailed\n", ""});
  f.shell->on("systemctl restart", CommandResult{1, "", "Job for haproxy.service failed.\n"});
  Status s = ensure_unit(f.nodes[0], "haproxy:start", "haproxy.service", false, true);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().describe(),
            "host pg1: step haproxy:start: command `systemctl restart 'haproxy.service'`: exit 1: Job for "
            "haproxy.service failed.");
}

TEST(PatroniApi, AcceptsBothNamesForThePrimary) {
  auto c = parse_patroni_cluster(
      R"({"members":[{"name":"pg1","role":"master","state":"running","host":"10.0.0.11","timeline":2},)"
      R"({"name":"pg2","role":"sync_standby","state":"streaming","host":"10.0.0.12","timeline":2,"lag":0}]})");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->leader()->name, "pg1");
  EXPECT_EQ(patroni_unhealthy_reason(*c, 2), "");
  EXPECT_EQ(patroni_unhealthy_reason(*c, 3), "2 of 3 Patroni members registered");
}

TEST(PatroniApi, ReportsALaggingOrUnknownReplica) {
  auto c = parse_patroni_cluster(
      R"({"members":[{"name":"pg1","role":"leader","state":"running","timeline":1},)"
      R"({"name":"pg2","role":"replica","state":"running","timeline":1,"lag":"unknown"}]})");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(patroni_unhealthy_reason(*c, 2), "replica pg2 has unknown lag");
}

TEST(StateDir, GeneratesSecretsOnceAndKeepsThem) {
  auto root = std::filesystem::temp_directory_path() / ("pgha-state-test-" + std::to_string(::getpid()));
  auto st = StateDir::open(root.string(), "c1");
  ASSERT_TRUE(st.ok());
  Inventory inv;
  inv.users.push_back(User{"app", "", {}});
  inv.secrets.admin_password = "given";
  auto a = st->resolve_secrets(inv);
  auto b = st->resolve_secrets(inv);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->superuser_password.size(), 24u);
  EXPECT_EQ(a->superuser_password, b->superuser_password);
  EXPECT_EQ(a->user_passwords.at("app"), b->user_passwords.at("app"));
  EXPECT_EQ(a->admin_password, "given");
  auto mode = std::filesystem::status(st->secrets_path()).permissions();
  EXPECT_EQ(mode & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace pgha
