// StateDir::open: the directories it creates are private; the ones it finds keep their mode.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "core/tls_ca.hpp"
#include "roles/state.hpp"

namespace pgha {
namespace {

namespace fs = std::filesystem;

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

class StateDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pgha-state-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(StateDirTest, ExistingRootKeepsItsMode) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  auto s = StateDir::open(dir_.string(), "c1");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(mode_of(dir_), 0755u);
  EXPECT_EQ(mode_of(dir_ / "c1"), 0700u);
}

TEST_F(StateDirTest, ExistingClusterDirKeepsItsMode) {
  fs::create_directory(dir_ / "c1");
  ASSERT_EQ(::chmod((dir_ / "c1").c_str(), 0750), 0);
  ASSERT_TRUE(StateDir::open(dir_.string(), "c1").ok());
  EXPECT_EQ(mode_of(dir_ / "c1"), 0750u);
}

TEST_F(StateDirTest, CreatedDirectoriesArePrivate) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  auto s = StateDir::open((dir_ / "a" / "b").string(), "c1");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(s->path(), (dir_ / "a" / "b").string() + "/c1");
  EXPECT_EQ(mode_of(dir_ / "a"), 0700u);
  EXPECT_EQ(mode_of(dir_ / "a" / "b"), 0700u);
  EXPECT_EQ(mode_of(dir_ / "a" / "b" / "c1"), 0700u);
  EXPECT_EQ(mode_of(dir_), 0755u);
}

// `--state-dir .`: the working directory is a directory pgha did not create.
TEST_F(StateDirTest, DotKeepsTheWorkingDirectorysMode) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0775), 0);
  fs::path before = fs::current_path();
  fs::current_path(dir_);
  auto s = StateDir::open(".", "c1");
  fs::current_path(before);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(mode_of(dir_), 0775u);
  EXPECT_EQ(mode_of(dir_ / "c1"), 0700u);
}

TEST_F(StateDirTest, AFileInTheWayIsAnError) {
  std::FILE* f = std::fopen((dir_ / "c1").c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  auto s = StateDir::open(dir_.string(), "c1");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::io);
}

}  // namespace
}  // namespace pgha

// resolve_tls: the CA and the node certificates are made once and kept; a certificate is issued again
// when it is about to expire or its node's address changed; the CA key stays private.
namespace pgha {
namespace {

Inventory tls_inventory() {
  Inventory inv;
  inv.cluster_name = "c1";
  inv.tls.enabled = true;
  inv.network.vip = "10.9.0.100";
  for (int i = 1; i <= 2; ++i) {
    Node n;
    n.name = "pg" + std::to_string(i);
    n.address = "10.9.0.1" + std::to_string(i);
    n.roles = all_roles();
    inv.nodes.push_back(n);
  }
  return inv;
}

class StateTlsTest : public StateDirTest {};

TEST_F(StateTlsTest, MadeOnceThenKept) {
  auto s = StateDir::open(dir_.string(), "c1");
  ASSERT_TRUE(s.ok());
  const Inventory inv = tls_inventory();
  const std::int64_t now = 1800000000;
  auto first = s->resolve_tls(inv, now, NodeCerts::save);
  ASSERT_TRUE(first.ok()) << first.error().describe();
  EXPECT_TRUE(first->enabled());
  ASSERT_EQ(first->nodes.size(), 2u);
  EXPECT_EQ(first->issued.size(), 3u);  // the CA and two nodes
  EXPECT_EQ(mode_of(dir_ / "c1" / "tls" / "ca.key"), 0600u);
  EXPECT_EQ(mode_of(dir_ / "c1" / "tls" / "pg1.key"), 0600u);
  EXPECT_TRUE(cert_signed_by(first->nodes["pg1"].cert_pem, first->ca_cert_pem));
  auto facts = read_cert(first->nodes["pg1"].cert_pem);
  ASSERT_TRUE(facts.ok());
  // Its own address, loopback, the other HAProxy node (PostgreSQL answers through it) and the VIP.
  EXPECT_EQ(facts->ip_addresses,
            (std::vector<std::string>{"10.9.0.11", "127.0.0.1", "10.9.0.12", "10.9.0.100"}));
  EXPECT_FALSE(first->client.cert_file.empty());

  auto again = s->resolve_tls(inv, now + 86400, NodeCerts::save);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->issued.empty());
  EXPECT_EQ(again->nodes["pg2"].cert_pem, first->nodes["pg2"].cert_pem);
}

TEST_F(StateTlsTest, IssuedAgainWhenExpiringOrMoved) {
  auto s = StateDir::open(dir_.string(), "c1");
  ASSERT_TRUE(s.ok());
  Inventory inv = tls_inventory();
  const std::int64_t now = 1800000000;
  auto first = s->resolve_tls(inv, now, NodeCerts::save);
  ASSERT_TRUE(first.ok());
  auto later = s->resolve_tls(inv, now + 340LL * 86400, NodeCerts::save);  // node certificates live 365 days
  ASSERT_TRUE(later.ok());
  ASSERT_EQ(later->issued.size(), 2u);
  EXPECT_NE(later->issued[0].find("pg1: issued again, expires"), std::string::npos) << later->issued[0];
  EXPECT_NE(later->nodes["pg1"].cert_pem, first->nodes["pg1"].cert_pem);

  inv.nodes[1].address = "10.9.0.22";
  auto moved = s->resolve_tls(inv, now + 340LL * 86400, NodeCerts::save);
  ASSERT_TRUE(moved.ok());
  // pg2 moved; pg1 names pg2's address too, as a HAProxy node in front of it.
  EXPECT_EQ(moved->issued.size(), 2u);
}

TEST_F(StateTlsTest, APreviewKeepsNoNodeCertificate) {
  auto s = StateDir::open(dir_.string(), "c1");
  ASSERT_TRUE(s.ok());
  auto r = s->resolve_tls(tls_inventory(), 1800000000, NodeCerts::preview);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->nodes.size(), 2u);
  EXPECT_NE(r->issued[1].find("pg1: to be issued"), std::string::npos) << r->issued[1];
  EXPECT_FALSE(fs::exists(dir_ / "c1" / "tls" / "pg1.crt"));
  EXPECT_TRUE(fs::exists(dir_ / "c1" / "tls" / "ca.crt"));      // local: kept
  EXPECT_TRUE(fs::exists(dir_ / "c1" / "tls" / "client.crt"));  // local: kept
}

// tls.ca_cert/ca_key: the user's CA signs the node certificates; pgha makes none of its own and never
// copies the user's key. A pair that is not a CA is refused as bad input.
TEST_F(StateTlsTest, AUserCaSignsTheNodes) {
  auto ca = make_ca("theirs", 1800000000);
  ASSERT_TRUE(ca.ok());
  const fs::path cert = dir_ / "their-ca.crt";
  const fs::path key = dir_ / "their-ca.key";
  ASSERT_TRUE(write_file_atomic(cert.string(), ca->cert_pem, 0644).ok());
  ASSERT_TRUE(write_file_atomic(key.string(), ca->key_pem, 0600).ok());
  auto s = StateDir::open((dir_ / "state").string(), "c1");
  ASSERT_TRUE(s.ok());
  Inventory inv = tls_inventory();
  inv.tls.ca_cert = cert.string();
  inv.tls.ca_key = key.string();
  auto r = s->resolve_tls(inv, 1800000000, NodeCerts::save);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->ca_cert_pem, ca->cert_pem);
  EXPECT_TRUE(cert_signed_by(r->nodes["pg1"].cert_pem, ca->cert_pem));
  EXPECT_FALSE(fs::exists(dir_ / "state" / "c1" / "tls" / "ca.key"));

  auto leaf = issue_cert(*ca, CertRequest{"leaf", {"leaf"}, {}, 30}, 1800000000);
  ASSERT_TRUE(leaf.ok());
  ASSERT_TRUE(write_file_atomic(cert.string(), leaf->cert_pem, 0644).ok());
  ASSERT_TRUE(write_file_atomic(key.string(), leaf->key_pem, 0600).ok());
  auto refused = s->resolve_tls(inv, 1800000000, NodeCerts::save);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::bad_input);
}

TEST_F(StateTlsTest, NothingWithoutTls) {
  auto s = StateDir::open(dir_.string(), "c1");
  ASSERT_TRUE(s.ok());
  Inventory inv = tls_inventory();
  inv.tls.enabled = false;
  auto r = s->resolve_tls(inv, 1800000000, NodeCerts::save);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->enabled());
  EXPECT_FALSE(fs::exists(dir_ / "c1" / "tls"));
}

}  // namespace
}  // namespace pgha
