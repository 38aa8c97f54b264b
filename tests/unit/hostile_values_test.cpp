// Every string field of an inventory fed hostile values: each is either refused with a located error
// (and the message carries no raw control byte), or rendered without adding a line to any file.
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/inventory_parse.hpp"
#include "core/render.hpp"
#include "core/validate.hpp"

namespace pgha {
namespace {

// @name@ marks a field; each takes its base value unless it is the field under test.
const char* kTemplate = R"(cluster:
  name: "@cluster@"
provider:
  type: docker
  docker:
    base_image: "@base_image@"
    image: "@image@"
nodes:
  - name: "@node@"
    address: "@address@"
    tags:
      "@tag_key@": "@tag_value@"
  - name: pg2
    address: 10.42.0.12
  - name: pg3
    address: 10.42.0.13
network:
  subnet: "@subnet@"
  gateway: "@gateway@"
  vip: "@vip@"
  interface: "@interface@"
patroni:
  profile: "@profile@"
replication:
  mode: "@mode@"
pgbackrest:
  repo_path: "@repo_path@"
secrets:
  superuser_password: "@superuser_password@"
  replication_password: "@replication_password@"
  admin_password: "@admin_password@"
users:
  - name: "@user@"
    password: "@user_password@"
    options: ["@option@"]
databases:
  - name: "@database@"
    owner: "@owner@"
    extensions: ["@extension@"]
)";

const std::map<std::string, std::string> kBase = {
    {"cluster", "pgha-test"},
    {"base_image", "debian:bookworm"},
    {"image", "pgha-node:bookworm"},
    {"node", "pg1"},
    {"address", "10.42.0.11"},
    {"tag_key", "zone"},
    {"tag_value", "false"},
    {"subnet", "10.42.0.0/24"},
    {"gateway", "10.42.0.1"},
    {"vip", "10.42.0.100"},
    {"interface", "eth0"},
    {"profile", "fast"},
    {"mode", "async"},
    {"repo_path", "/var/lib/pgbackrest"},
    {"superuser_password", "su-Secret-1"},
    {"replication_password", "repl-Secret-2"},
    {"admin_password", "admin-Secret-3"},
    {"user", "app"},
    {"user_password", "app-Secret-4"},
    {"option", "LOGIN"},
    {"database", "app"},
    {"owner", "app"},
    {"extension", "pgcrypto"},
};

// Appended to a field's base value. Written as YAML double-quoted escapes.
const std::vector<std::string> kHostile = {"\\n",  "\\0", "\\e[31m", "$pgha$", "$$pgha$$", "'",  "\\\"",
                                           "\\\\", ";",   "`id`",    "$(id)",  "$$(id)",   " x", ",y=1"};

std::string fill(const std::string& field, const std::string& suffix) {
  std::string text = kTemplate;
  for (const auto& [name, value] : kBase) {
    std::string marker = "@" + name + "@";
    std::string v = value + (name == field ? suffix : "");
    for (size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at + v.size()))
      text.replace(at, marker.size(), v);
  }
  return text;
}

struct Outcome {
  std::vector<Diagnostic> diagnostics;
  std::optional<Inventory> inventory;
};

Outcome check(const std::string& text) {
  ParseOutcome out = parse_inventory(text, "inv.yml", [](const std::string&) { return std::nullopt; });
  if (out.inventory) {
    auto more = validate_inventory(*out.inventory);
    out.diagnostics.insert(out.diagnostics.end(), more.begin(), more.end());
  }
  return {out.diagnostics, out.inventory};
}

// Line counts of every file rendered for every node, by node and path.
std::map<std::string, size_t> line_counts(const Inventory& inv) {
  ResolvedSecrets s{
      inv.secrets.superuser_password, inv.secrets.replication_password, inv.secrets.admin_password, "", {}};
  for (const auto& u : inv.users) s.user_passwords[u.name] = u.password;
  auto templates = embedded_template_source();
  std::map<std::string, size_t> out;
  for (size_t i = 0; i < inv.nodes.size(); ++i) {
    auto files = render_node(inv, inv.nodes[i], s, *templates);
    EXPECT_TRUE(files.ok()) << (files.ok() ? "" : files.error().describe());
    if (!files.ok()) continue;
    for (const auto& f : *files) {
      out["pg" + std::to_string(i + 1) + ":" + f.path] = std::count(f.content.begin(), f.content.end(), '\n');
    }
  }
  return out;
}

TEST(HostileValues, TheBaseInventoryIsClean) {
  auto base = check(fill("", ""));
  ASSERT_TRUE(base.inventory);
  EXPECT_FALSE(has_errors(base.diagnostics)) << format_diagnostics(base.diagnostics, fill("", ""));
}

TEST(HostileValues, EachIsRefusedWhereItIsOrAddsNoLine) {
  auto base = check(fill("", ""));
  ASSERT_TRUE(base.inventory);
  const auto base_lines = line_counts(*base.inventory);
  size_t refused = 0, rendered = 0;
  for (const auto& [field, value] : kBase) {
    for (const auto& suffix : kHostile) {
      SCOPED_TRACE(field + " + " + suffix);
      std::string text = fill(field, suffix);
      Outcome o = check(text);
      const bool control = suffix == "\\n" || suffix == "\\0" || suffix == "\\e[31m";
      if (has_errors(o.diagnostics)) {
        ++refused;
        std::string formatted = format_diagnostics(o.diagnostics, text);
        for (const auto& d : o.diagnostics) EXPECT_GT(d.at.line, 0) << d.message;
        for (char c : formatted) EXPECT_TRUE(c == '\n' || static_cast<unsigned char>(c) >= 0x20) << formatted;
        continue;
      }
      EXPECT_FALSE(control) << "a control character was accepted";
      ASSERT_TRUE(o.inventory);
      ++rendered;
      auto lines = line_counts(*o.inventory);
      // The value may rename a file (a node name) but never adds a line to one.
      if (lines.size() == base_lines.size()) {
        auto b = base_lines.begin();
        for (auto it = lines.begin(); it != lines.end(); ++it, ++b)
          EXPECT_EQ(it->second, b->second) << it->first;
      }
    }
  }
  EXPECT_GT(refused, 0u);
  EXPECT_GT(rendered, 0u);
  RecordProperty("refused", static_cast<int>(refused));
  RecordProperty("rendered", static_cast<int>(rendered));
}

}  // namespace
}  // namespace pgha

namespace pgha {
namespace {

namespace fs = std::filesystem;

int run(const std::string& cmd, std::string* out = nullptr) {
  const std::string file = "/tmp/pgha-hostile-out";
  int rc = std::system((cmd + " >" + file + " 2>&1").c_str());
  if (out) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    *out = ss.str();
  }
  return rc;
}

bool have(const char* path) {
  return fs::exists(path);
}

// Every key path of a YAML document ("restapi.authentication.password"), for "no extra key".
void key_paths(const YAML::Node& n, const std::string& at, std::set<std::string>& out) {
  if (!n.IsMap()) return;
  for (const auto& kv : n) {
    std::string p = at + "." + kv.first.as<std::string>();
    out.insert(p);
    key_paths(kv.second, p, out);
  }
}

// pg1's files of the inventory, by path.
std::map<std::string, std::string> pg1_files(const Inventory& inv) {
  ResolvedSecrets s{
      inv.secrets.superuser_password, inv.secrets.replication_password, inv.secrets.admin_password, "", {}};
  for (const auto& u : inv.users) s.user_passwords[u.name] = u.password;
  auto templates = embedded_template_source();
  std::map<std::string, std::string> out;
  auto files = render_node(inv, inv.nodes[0], s, *templates);
  if (files.ok())
    for (const auto& f : *files) out[f.path] = f.content;
  return out;
}

// Each value that is rendered is read back by the program that reads the file: yaml-cpp for
// config.yml, which must hold exactly the intended secrets, scope, name and tag with the same key
// paths as the base, and which Patroni's own validator accepts (patroni_validate_offline.py: the
// validator of `patroni --validate-config` without its probe of etcd and the listen ports, which
// tests/daemons/patroni_validate.sh runs against a live etcd); `haproxy -c`, `keepalived
// --config-test` and pgBackRest (`help backup repo1-path` shows the value it read) for theirs. A
// daemon that is not installed here is skipped.
TEST(HostileValues, RenderedValuesReadBackExactlyByTheirDaemons) {
  if (::geteuid() != 0) GTEST_SKIP() << "keepalived and haproxy checks need root";
  auto base = check(fill("", ""));
  ASSERT_TRUE(base.inventory);
  const auto base_files = pg1_files(*base.inventory);
  std::set<std::string> base_keys;
  key_paths(YAML::Load(base_files.at("/etc/patroni/config.yml")), "", base_keys);
  char tmpl[] = "/tmp/pgha-hostile-XXXXXX";
  const fs::path dir = ::mkdtemp(tmpl);
  size_t checked = 0;
  std::string patroni_configs;  // each rendered config.yml, judged by Patroni in one process below
  for (const auto& [field, value] : kBase) {
    for (const auto& suffix : kHostile) {
      Outcome o = check(fill(field, suffix));
      if (has_errors(o.diagnostics) || !o.inventory) continue;
      SCOPED_TRACE(field + " + " + suffix);
      const Inventory& inv = *o.inventory;
      const auto files = pg1_files(inv);
      ASSERT_FALSE(files.empty());
      ++checked;
      const std::string& yml = files.at("/etc/patroni/config.yml");
      YAML::Node y = YAML::Load(yml);
      std::set<std::string> keys;
      key_paths(y, "", keys);
      if (field != "tag_key") {
        EXPECT_EQ(keys, base_keys);
      }
      EXPECT_EQ(y["scope"].as<std::string>(), inv.cluster_name);
      EXPECT_EQ(y["name"].as<std::string>(), inv.nodes[0].name);
      EXPECT_EQ(y["restapi"]["authentication"]["password"].as<std::string>(), inv.secrets.admin_password);
      EXPECT_EQ(y["postgresql"]["authentication"]["superuser"]["password"].as<std::string>(),
                inv.secrets.superuser_password);
      EXPECT_EQ(y["postgresql"]["authentication"]["replication"]["password"].as<std::string>(),
                inv.secrets.replication_password);
      for (const auto& [k, v] : inv.nodes[0].tags) {
        EXPECT_EQ(y["tags"][k].as<std::string>(), v);
      }
      const fs::path patroni_yml = dir / ("patroni-" + std::to_string(checked) + ".yml");
      std::ofstream(patroni_yml) << yml;
      patroni_configs += " " + patroni_yml.string();
      std::string out;
      auto write = [&](const std::string& path) {
        const fs::path p = dir / fs::path(path).filename();
        std::ofstream(p) << files.at(path);
        return p.string();
      };
      if (have("/usr/sbin/haproxy")) {
        EXPECT_EQ(run("haproxy -c -q -f " + write("/etc/haproxy/haproxy.cfg"), &out), 0) << out;
      }
      if (files.count("/etc/keepalived/keepalived.conf") && have("/usr/sbin/keepalived") &&
          files.at("/etc/keepalived/keepalived.conf") != base_files.at("/etc/keepalived/keepalived.conf")) {
        // The interface need not exist here: then keepalived names the one it read, which must be exactly
        // the intended one.
        const int rc = run("keepalived --config-test -f " + write("/etc/keepalived/keepalived.conf"), &out);
        EXPECT_TRUE(rc == 0 || out.find("interface " + inv.network.interface + " for vrrp_instance ") !=
                                   std::string::npos)
            << out;
      }
      if (files.count("/etc/pgbackrest/pgbackrest.conf") && have("/usr/bin/pgbackrest")) {
        EXPECT_EQ(run("pgbackrest --config=" + write("/etc/pgbackrest/pgbackrest.conf") +
                          " --stanza=x help backup repo1-path",
                      &out),
                  0)
            << out;
        EXPECT_NE(out.find("current: " + inv.backup.repo_path + "\n"), std::string::npos) << out;
      }
    }
  }
  if (have("/usr/bin/patroni") && !patroni_configs.empty()) {
    std::string out;
    EXPECT_EQ(
        run("/usr/bin/python3 " PGHA_SOURCE_DIR "/tests/unit/patroni_validate_offline.py" + patroni_configs,
            &out),
        0)
        << out;
  }
  fs::remove_all(dir);
  EXPECT_GT(checked, 0u);
}

}  // namespace
}  // namespace pgha
