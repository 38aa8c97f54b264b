// GitHub workflow commands pgha writes: the toolkit's escaping, a multi-line secret masked line by
// line, and generated passwords announced the moment they are made (only under GITHUB_ACTIONS=true).
#include "core/gha.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "roles/state.hpp"

namespace pgha {
namespace {

TEST(GhaTest, EscapingFollowsTheToolkit) {
  EXPECT_EQ(escape_command_value("a%b\r\nc:d,e"), "a%25b%0D%0Ac:d,e");
  EXPECT_EQ(escape_command_property("a%b\r\nc:d,e"), "a%25b%0D%0Ac%3Ad%2Ce");
  EXPECT_EQ(escape_command_value("%0A"), "%250A");  // an escape in the secret stays literal
}

TEST(GhaTest, AMultiLineSecretIsMaskedLineByLineThenWhole) {
  const std::string pem = "-----BEGIN KEY-----\r\nb3BlbnNzaC1rZXk=\n\n  \nZm9v%:,\n-----END KEY-----\n";
  EXPECT_EQ(
      add_mask_commands(pem),
      "::add-mask::-----BEGIN KEY-----\n"
      "::add-mask::b3BlbnNzaC1rZXk=\n"
      "::add-mask::Zm9v%25:,\n"
      "::add-mask::-----END KEY-----\n"
      "::add-mask::-----BEGIN KEY-----%0D%0Ab3BlbnNzaC1rZXk=%0A%0A  %0AZm9v%25:,%0A-----END KEY-----%0A\n");
  EXPECT_EQ(add_mask_commands("p%w:d,1"), "::add-mask::p%25w:d,1\n");
  EXPECT_EQ(add_mask_commands(""), "");
  EXPECT_EQ(add_mask_commands("\n \n"), "");
}

TEST(GhaTest, TheDefaultSinkWritesOnlyUnderGitHubActions) {
  const char* was = std::getenv("GITHUB_ACTIONS");
  std::string saved = was ? was : "";
  ::unsetenv("GITHUB_ACTIONS");
  testing::internal::CaptureStderr();
  announce_new_secret("abc");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  ::setenv("GITHUB_ACTIONS", "true", 1);
  testing::internal::CaptureStderr();
  announce_new_secret("abc%");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "::add-mask::abc%25\n");
  if (was) {
    ::setenv("GITHUB_ACTIONS", saved.c_str(), 1);
  } else {
    ::unsetenv("GITHUB_ACTIONS");
  }
}

TEST(GhaTest, GeneratedPasswordsAreAnnouncedWhenMadeAndOnlyThen) {
  std::vector<std::string> announced;
  set_secret_sink([&](const std::string& s) { announced.push_back(s); });
  char tmpl[] = "/tmp/pgha-gha-XXXXXX";
  std::string root = ::mkdtemp(tmpl);
  Inventory inv;
  inv.cluster_name = "demo";
  inv.secrets.superuser_password = "given-by-the-user";
  auto dir = StateDir::open(root, "demo");
  ASSERT_TRUE(dir.ok());
  auto first = dir->resolve_secrets(inv);
  ASSERT_TRUE(first.ok());
  // The user's own is masked by the action from the environment; pgha announces what it generates.
  std::vector<std::string> expected = {first->replication_password, first->admin_password};
  if (!first->backup_cipher_pass.empty()) expected.push_back(first->backup_cipher_pass);
  EXPECT_EQ(announced, expected);
  announced.clear();
  auto again = dir->resolve_secrets(inv);  // kept in secrets.json: nothing new
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(announced.empty());
  set_secret_sink(nullptr);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace pgha
