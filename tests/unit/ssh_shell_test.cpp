// SshShell, KnownHosts and the generated cluster key against a real sshd on 127.0.0.1.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "fakes/local_sshd.hpp"
#include "net/known_hosts.hpp"
#include "net/ssh_keys.hpp"
#include "net/ssh_shell.hpp"

namespace pgha {
namespace {

namespace fs = std::filesystem;
using testing::free_port;
using testing::slurp;

class SshShellTest : public testing::LocalSshdTest {
 protected:
  void SetUp() override {
    LocalSshdTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    make_host_key("ed25519", "host_key");
    start_sshd("host_key");
  }
};

TEST_F(SshShellTest, GeneratedKeyIsOpenSshFormatWithPrivateMode) {
  std::string pem = slurp(dir_ / "id_ed25519");
  EXPECT_EQ(pem.rfind("-----BEGIN OPENSSH PRIVATE KEY-----\n", 0), 0u);
  EXPECT_EQ(fs::status(dir_ / "id_ed25519").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(slurp(dir_ / "id_ed25519.pub").rfind("ssh-ed25519 AAAA", 0), 0u);
  // OpenSSH itself accepts it and derives the same public key.
  std::string cmd =
      "ssh-keygen -y -f " + (dir_ / "id_ed25519").string() + " > " + (dir_ / "derived").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::string derived = slurp(dir_ / "derived");
  std::string pub = slurp(dir_ / "id_ed25519.pub");
  EXPECT_EQ(derived.substr(0, 80), pub.substr(0, 80));
}

TEST_F(SshShellTest, EnsureClusterKeyIsStable) {
  std::string path = (dir_ / "cluster_key").string();
  auto a = ensure_cluster_key(path, "demo");
  ASSERT_TRUE(a.ok()) << a.error().describe();
  auto b = ensure_cluster_key(path, "demo");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(a->find(" pgha-demo"), std::string::npos);
}

TEST_F(SshShellTest, RunReturnsExitCodeStdoutStderrAndFeedsStdin) {
  SshShell sh(options());
  auto r = sh.run("cat; echo oops >&2; exit 3", "secret-on-stdin\n");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "secret-on-stdin\n");
  EXPECT_EQ(r->err, "oops\n");

  auto ok = sh.run("true");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->exit_code, 0);
}

TEST_F(SshShellTest, LargeStreamsBothWays) {
  SshShell sh(options());
  std::string big(3 * 1024 * 1024, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = '\n';
  auto r = sh.run("cat; head -c 1000000 /dev/zero | tr '\\0' e >&2");
  ASSERT_TRUE(r.ok());
  r = sh.run("cat; head -c 1000000 /dev/zero | tr '\\0' e >&2", big);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->out.size(), big.size());
  EXPECT_EQ(r->out, big);
  EXPECT_EQ(r->err.size(), 1000000u);
}

// Correctness only: many commands, one connection, each with its own exit status and output. Its
// speed is measured by bench/ssh_latency.sh against OpenSSH's multiplexed client (bench/README.md):
// against this host's sshd a command costs what root's login shell costs to start.
TEST_F(SshShellTest, ManyCommandsOnOneConnection) {
  SshShell sh(options());
  ASSERT_TRUE(sh.connect().ok());
  for (int i = 0; i < 20; ++i) {
    auto r = sh.run("echo " + std::to_string(i) + "; exit " + std::to_string(i % 3));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->exit_code, i % 3);
    EXPECT_EQ(r->out, std::to_string(i) + "\n");
  }
}

TEST_F(SshShellTest, DeadIdleConnectionIsReplacedTransparently) {
  SshShell sh(options());
  // The server side of this connection dies while the shell is idle (as when a machine restarts).
  auto before = sh.run("echo $PPID");  // the server process of this connection
  ASSERT_TRUE(before.ok());
  auto r = sh.run("nohup sh -c \"sleep 0.3; kill -9 $PPID\" >/dev/null 2>&1 &");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  auto again = sh.run("echo $PPID");
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_NE(again->out, before->out);  // a new connection
}

TEST_F(SshShellTest, CommandTimeout) {
  SshOptions o = options();
  // Generous enough that the reconnect and `echo back` below fit in it on a loaded machine under ASan.
  o.command_timeout_ms = 4000;
  SshShell sh(o);
  auto r = sh.run("sleep 20");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::timeout);
  EXPECT_NE(r.error().describe().find("pg1"), std::string::npos);
  // The shell reconnects afterwards.
  auto again = sh.run("echo back");
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_EQ(again->out, "back\n");
}

TEST_F(SshShellTest, UploadIsAtomicWithOwnerAndMode) {
  SshShell sh(options());
  fs::path target = dir_ / "etc" / "deep" / "app.conf";
  ASSERT_TRUE(sh.upload(target.string(), "one\n", {"nobody", "nogroup", 0640}).ok());
  EXPECT_EQ(slurp(target), "one\n");
  struct stat st {};
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_uid, 65534u);
  // Replace with a quote-laden name's sibling and new content; no temp files stay behind.
  ASSERT_TRUE(sh.upload(target.string(), "two 'quoted' $HOME\n", {"root", "root", 0600}).ok());
  EXPECT_EQ(slurp(target), "two 'quoted' $HOME\n");
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  int entries = 0;
  for (auto& e : fs::directory_iterator(target.parent_path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);

  auto bad = sh.upload(target.string(), "x", {"no-such-user-xyz", "root", 0600});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::remote_failure);
  EXPECT_EQ(slurp(target), "two 'quoted' $HOME\n");
}

TEST_F(SshShellTest, UploadAllWritesEveryFileInOneCommand) {
  SshShell sh(options());
  fs::path a = dir_ / "many" / "a.conf", b = dir_ / "many" / "sub" / "b.conf", c = dir_ / "many" / "empty";
  std::string big(200000, 'x');  // larger than one channel window's worth of reads
  std::vector<RemoteShell::FileWrite> files = {{a.string(), big, {"nobody", "nogroup", 0640}},
                                               {b.string(), "second 'q' $HOME\n", {"root", "root", 0600}},
                                               {c.string(), "", {"root", "root", 0644}}};
  ASSERT_TRUE(sh.upload_all(files).ok());
  EXPECT_EQ(slurp(a), big);
  EXPECT_EQ(slurp(b), "second 'q' $HOME\n");
  EXPECT_EQ(slurp(c), "");
  struct stat st {};
  ASSERT_EQ(::stat(a.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_uid, 65534u);
  ASSERT_EQ(::stat(b.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  // A failure leaves the old contents and no temp file.
  files[1].content = "changed\n";
  files[0].attrs.owner = "no-such-user-xyz";
  auto bad = sh.upload_all(files);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::remote_failure);
  EXPECT_EQ(slurp(b), "second 'q' $HOME\n");
  int entries = 0;
  for (auto& e : fs::recursive_directory_iterator(dir_ / "many")) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 4);  // a.conf, sub, sub/b.conf, empty
}

TEST_F(SshShellTest, ReadAbsentIsNullopt) {
  SshShell sh(options());
  auto absent = sh.read((dir_ / "nope").string());
  ASSERT_TRUE(absent.ok()) << absent.error().describe();
  EXPECT_FALSE(absent->has_value());
  std::ofstream(dir_ / "there") << "content";
  auto there = sh.read((dir_ / "there").string());
  ASSERT_TRUE(there.ok());
  ASSERT_TRUE(there->has_value());
  EXPECT_EQ(**there, "content");
}

TEST_F(SshShellTest, HostKeyRecordedThenChangedKeyRejected) {
  {
    SshShell sh(options());
    ASSERT_TRUE(sh.connect().ok());
  }
  std::string known = slurp(dir_ / "known_hosts");
  EXPECT_EQ(known.rfind("[127.0.0.1]:" + std::to_string(port_) + " ssh-ed25519 ", 0), 0u) << known;
  {
    SshShell sh(options());  // same key: accepted, nothing added
    ASSERT_TRUE(sh.connect().ok());
    EXPECT_EQ(slurp(dir_ / "known_hosts"), known);
  }
  stop_sshd();
  make_host_key("ed25519", "host_key2");
  start_sshd("host_key2");
  SshShell sh(options());
  auto st = sh.connect();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::auth);
  std::string msg = st.error().describe();
  EXPECT_NE(
      msg.find("host key for pg1 ([127.0.0.1]:" + std::to_string(port_) + ") changed: expected SHA256:"),
      std::string::npos)
      << msg;
  EXPECT_NE(msg.find("remove its line from " + (dir_ / "known_hosts").string()), std::string::npos) << msg;

  ASSERT_TRUE(KnownHosts((dir_ / "known_hosts").string()).forget("127.0.0.1", port_).ok());
  SshShell again(options());
  EXPECT_TRUE(again.connect().ok());
}

TEST_F(SshShellTest, RejectedKeyIsAuthErrorNamingHost) {
  auto other = generate_ed25519_key("other");
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(write_key_pair(*other, (dir_ / "other_key").string()).ok());
  SshShell sh(options("other_key"));
  auto r = sh.run("true");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::auth);
  EXPECT_NE(r.error().describe().find("host pg1 (127.0.0.1:"), std::string::npos) << r.error().describe();
}

TEST_F(SshShellTest, UnreachableTimesOutAfterRetries) {
  SshOptions o = options();
  o.port = free_port();
  o.connect_timeout_ms = 1500;
  SshShell sh(o);
  auto start = std::chrono::steady_clock::now();
  auto st = sh.connect();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::timeout);
  EXPECT_NE(st.error().describe().find("pg1"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(SshShellTest, ParallelShellsShareKnownHosts) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      SshShell sh(options());
      for (int i = 0; i < 5; ++i) {
        auto r = sh.run("echo " + std::to_string(t * 10 + i));
        if (!r.ok() || r->out != std::to_string(t * 10 + i) + "\n") ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  std::string known = slurp(dir_ / "known_hosts");
  EXPECT_EQ(std::count(known.begin(), known.end(), '\n'), 1) << known;
}

}  // namespace
}  // namespace pgha
