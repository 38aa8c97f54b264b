// The bad-inventory corpus: each tests/data/bad-inventories/NN-name.yml must produce exactly the
// diagnostics in its sibling NN-name.expected. Set PGHA_REGEN_EXPECTED=1 to rewrite those files
// (then review the diff). Also: every shipped example inventory is clean.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/inventory_parse.hpp"
#include "core/validate.hpp"

namespace pgha {
namespace {

namespace fs = std::filesystem;

const std::string kRoot = PGHA_SOURCE_DIR;

// The fixed fake environment: everything the example inventories reference, nothing else.
EnvLookup fake_env() {
  static const std::map<std::string, std::string> vars = {
      {"PROXMOX_API_TOKEN_ID", "pgha@pve!ci"},      {"PROXMOX_API_TOKEN_SECRET", "fake-token-secret"},
      {"PATRONI_SUPERUSER_PASSWORD", "fake-super"}, {"PATRONI_REPLICATION_PASSWORD", "fake-repl"},
      {"PATRONI_ADMIN_PASSWORD", "fake-admin"},     {"PGHA_TEST_PASSWORD", "fake-password"}};
  return [](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct Checked {
  std::vector<Diagnostic> diagnostics;
  std::string formatted;
};

Checked check(const std::string& rel) {
  std::string text = slurp(kRoot + "/" + rel);
  ParseOutcome out = parse_inventory(text, rel, fake_env());
  if (out.inventory) {
    auto more = validate_inventory(*out.inventory);
    out.diagnostics.insert(out.diagnostics.end(), more.begin(), more.end());
  }
  return {out.diagnostics, format_diagnostics(out.diagnostics, text)};
}

std::vector<std::string> yml_files(const std::string& rel_dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kRoot + "/" + rel_dir)) {
    if (e.path().extension() == ".yml") out.push_back(rel_dir + "/" + e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(BadInventories, EachMatchesItsExpectedDiagnostics) {
  auto files = yml_files("tests/data/bad-inventories");
  EXPECT_GE(files.size(), 30u);
  bool regen = std::getenv("PGHA_REGEN_EXPECTED") != nullptr;
  for (const auto& rel : files) {
    SCOPED_TRACE(rel);
    Checked c = check(rel);
    EXPECT_TRUE(has_errors(c.diagnostics));
    std::string expected_path = kRoot + "/" + rel.substr(0, rel.size() - 4) + ".expected";
    if (regen) std::ofstream(expected_path, std::ios::binary) << c.formatted;
    ASSERT_TRUE(fs::exists(expected_path));
    EXPECT_EQ(c.formatted, slurp(expected_path));
  }
}

TEST(BadInventories, NoFakeSecretReachesTheOutput) {
  for (const auto& rel : yml_files("tests/data/bad-inventories")) {
    std::string out = check(rel).formatted;
    for (const char* secret : {"fake-token-secret", "fake-super", "fake-password", "hunter"}) {
      EXPECT_EQ(out.find(secret), std::string::npos) << rel << " leaks " << secret;
    }
  }
}

TEST(ExampleInventories, AllAreClean) {
  auto files = yml_files("inventories");
  for (const auto& f : yml_files("tests/data/inventories")) files.push_back(f);
  EXPECT_GE(files.size(), 5u);
  for (const auto& rel : files) {
    Checked c = check(rel);
    EXPECT_FALSE(has_errors(c.diagnostics)) << c.formatted;
    EXPECT_TRUE(c.diagnostics.empty()) << c.formatted;
  }
}

TEST(ExampleInventories, DockerLocalNeedsNoEnvironment) {
  std::string rel = "inventories/docker-local.yml";
  auto out = parse_inventory(slurp(kRoot + "/" + rel), rel, [](const std::string&) { return std::nullopt; });
  ASSERT_TRUE(out.inventory);
  EXPECT_TRUE(out.diagnostics.empty());
  EXPECT_TRUE(validate_inventory(*out.inventory).empty());
}

}  // namespace
}  // namespace pgha
