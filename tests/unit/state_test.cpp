// StateDir::open: the directories it creates are private; the ones it finds keep their mode.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

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
