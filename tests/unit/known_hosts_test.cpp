// KnownHosts against a real sshd on 127.0.0.1 whose host key changes type: a pin holds across types.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "net/known_hosts.hpp"
#include "net/ssh_keys.hpp"
#include "net/ssh_shell.hpp"

namespace pgha {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

class KnownHostsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (sshd)";
    if (!fs::exists("/usr/sbin/sshd")) GTEST_SKIP() << "openssh-server is not installed";
    char tmpl[] = "/tmp/pgha-known-hosts-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    fs::create_directories("/run/sshd");
    port_ = free_port();
    auto key = generate_ed25519_key("pgha-test");
    ASSERT_TRUE(key.ok());
    ASSERT_TRUE(write_key_pair(*key, dir_ / "id_ed25519").ok());
    std::ofstream(dir_ / "authorized_keys") << key->public_line << "\n";
  }

  void TearDown() override {
    stop_sshd();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  void make_host_key(const std::string& type, const std::string& name) {
    std::string cmd = "ssh-keygen -q -t " + type + " -N '' -f " + (dir_ / name).string();
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }

  // sshd offering exactly one host key, so the client has only that type to choose.
  void start_sshd(const std::string& host_key) {
    std::ofstream(dir_ / "sshd_config")
        << "Port " << port_ << "\nListenAddress 127.0.0.1\n"
        << "HostKey " << (dir_ / host_key).string() << "\n"
        << "AuthorizedKeysFile " << (dir_ / "authorized_keys").string() << "\n"
        << "PidFile " << (dir_ / "sshd.pid").string() << "\n"
        << "StrictModes no\nPermitRootLogin yes\nPasswordAuthentication no\n"
        << "KbdInteractiveAuthentication no\nUsePAM no\n"
        << "SetEnv HOME=" << dir_.string() << "\n";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      std::string cfg = (dir_ / "sshd_config").string();
      std::string log = (dir_ / "sshd.log").string();
      FILE* f = std::freopen(log.c_str(), "a", stderr);
      (void)f;
      ::execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-e", "-f", cfg.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 100; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(port_));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
      ::close(fd);
      if (up) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "sshd did not start: " << slurp(dir_ / "sshd.log");
  }

  void stop_sshd() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

  SshOptions options() const {
    SshOptions o;
    o.host = "pg1";
    o.address = "127.0.0.1";
    o.port = port_;
    o.private_key_path = (dir_ / "id_ed25519").string();
    o.known_hosts_path = (dir_ / "known_hosts").string();
    o.connect_timeout_ms = 10000;
    o.command_timeout_ms = 20000;
    return o;
  }

  fs::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// A man in the middle holding no ed25519 key of the host offers another type; that is no first contact.
TEST_F(KnownHostsTest, PinnedEd25519RefusesEcdsa) {
  make_host_key("ed25519", "host_ed25519");
  make_host_key("ecdsa", "host_ecdsa");
  start_sshd("host_ed25519");
  {
    SshShell sh(options());
    ASSERT_TRUE(sh.connect().ok());
  }
  const std::string known = slurp(dir_ / "known_hosts");
  ASSERT_NE(known.find(" ssh-ed25519 "), std::string::npos) << known;
  stop_sshd();

  start_sshd("host_ecdsa");
  SshShell sh(options());
  auto st = sh.connect();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::auth);
  std::string msg = st.error().describe();
  EXPECT_NE(msg.find("host key for pg1 ([127.0.0.1]:" + std::to_string(port_) +
                     ") changed: expected ssh-ed25519 SHA256:"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find(", got ecdsa-sha2-nistp256 SHA256:"), std::string::npos) << msg;
  EXPECT_EQ(slurp(dir_ / "known_hosts"), known) << "the ECDSA key must not be recorded";

  // Forgetting the host (a rebuilt machine) makes the next key a first contact again.
  ASSERT_TRUE(KnownHosts((dir_ / "known_hosts").string()).forget("127.0.0.1", port_).ok());
  SshShell again(options());
  EXPECT_TRUE(again.connect().ok());
  EXPECT_NE(slurp(dir_ / "known_hosts").find(" ecdsa-sha2-nistp256 "), std::string::npos);
}

// Another port of the same address is another host: its first key is a first contact.
TEST_F(KnownHostsTest, OtherPortIsNotPinned) {
  make_host_key("ecdsa", "host_ecdsa");
  make_host_key("ed25519", "elsewhere");
  start_sshd("host_ecdsa");
  std::string pub = slurp(dir_ / "elsewhere.pub");
  std::ofstream(dir_ / "known_hosts")
      << "[127.0.0.1]:" << (port_ == 65535 ? 1 : port_ + 1) << " " << pub.substr(0, pub.rfind(' ')) << "\n";
  SshShell sh(options());
  EXPECT_TRUE(sh.connect().ok());
}

}  // namespace
}  // namespace pgha
