// A real OpenSSH sshd on 127.0.0.1, started by a test in a directory of its own: the fixture of the
// SSH tests (SshShell, KnownHosts). It needs root and openssh-server, and skips without them.
#pragma once

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
#include <string>
#include <thread>

#include "net/ssh_keys.hpp"
#include "net/ssh_shell.hpp"

namespace pgha::testing {

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A loopback TCP port nobody listens on at the time of the call.
inline int free_port() {
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

// SetUp makes the directory and the client's ed25519 key (id_ed25519, authorized); the test then makes
// host keys and starts sshd with one of them. TearDown stops sshd and removes the directory.
class LocalSshdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (sshd)";
    if (!std::filesystem::exists("/usr/sbin/sshd")) GTEST_SKIP() << "openssh-server is not installed";
    char tmpl[] = "/tmp/pgha-sshd-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::filesystem::create_directories("/run/sshd");
    port_ = free_port();
    auto key = generate_ed25519_key("pgha-test");
    ASSERT_TRUE(key.ok());
    ASSERT_TRUE(write_key_pair(*key, dir_ / "id_ed25519").ok());
    std::ofstream(dir_ / "authorized_keys") << key->public_line << "\n";
  }

  void TearDown() override {
    stop_sshd();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // type: an ssh-keygen -t value (ed25519, ecdsa, rsa).
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
        << "KbdInteractiveAuthentication no\nUsePAM no\nMaxStartups 50\n"
        << "MaxSessions 50\n"
        // Commands run through root's bash, which (Debian builds it with SSH_SOURCE_BASHRC) reads
        // $HOME/.bashrc for sshd's children. This machine's runs `pyenv init`, about 0.5 s a command;
        // a home of the test's own keeps the measurement on pgha's client (bench/README.md).
        << "SetEnv HOME=" << dir_.string() << "\n";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test (it would hold ctest's pipes)
      std::string cfg = (dir_ / "sshd_config").string();
      std::string log = (dir_ / "sshd.log").string();
      FILE* f = std::freopen(log.c_str(), "a", stderr);
      (void)f;
      ::execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-e", "-f", cfg.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Ready when it accepts connections.
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

  SshOptions options(const std::string& key = "id_ed25519") const {
    SshOptions o;
    o.host = "pg1";
    o.address = "127.0.0.1";
    o.port = port_;
    o.private_key_path = (dir_ / key).string();
    o.known_hosts_path = (dir_ / "known_hosts").string();
    o.connect_timeout_ms = 10000;
    o.command_timeout_ms = 20000;
    return o;
  }

  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace pgha::testing
