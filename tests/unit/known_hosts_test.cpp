// KnownHosts against a real sshd on 127.0.0.1 whose host key changes type: a pin holds across types.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fakes/local_sshd.hpp"
#include "net/known_hosts.hpp"
#include "net/ssh_shell.hpp"

namespace pgha {
namespace {

namespace fs = std::filesystem;
using testing::slurp;

using KnownHostsTest = testing::LocalSshdTest;

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
