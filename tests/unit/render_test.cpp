// Renderer tests: golden files for two inventories (a loopback one the daemon tests use, and a
// Docker-like default), properties every rendered cluster must have, and template overrides.
//
// PGHA_UPDATE_GOLDEN=1 rewrites tests/data/golden/. PGHA_RENDER_OUT=DIR makes RenderExport write the
// loopback cluster to DIR/<node>/<absolute path> (the layout of `pgha render --out`), for
// tests/daemons/*.sh.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/inventory_parse.hpp"
#include "core/render.hpp"
#include "core/render_context.hpp"
#include "core/render_files.hpp"

namespace pgha {
namespace {

namespace fs = std::filesystem;

// Parses an inventory of the repository with every ${VAR} unset (secrets then come from
// test_secrets()). A parse failure fails the calling test and returns an empty inventory.
Inventory load(const std::string& relative_path) {
  const fs::path path = fs::path(PGHA_SOURCE_DIR) / relative_path;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  auto outcome =
      parse_inventory(text.str(), relative_path,
                      [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
  if (!outcome.inventory || has_errors(outcome.diagnostics)) {
    ADD_FAILURE() << "cannot parse " << path << ":\n" << format_diagnostics(outcome.diagnostics, text.str());
    return Inventory{};
  }
  return *outcome.inventory;
}

// Three nodes on 127.0.0.11-13, VIP 127.0.0.100: what tests/daemons/*.sh start on this machine.
Inventory loopback_inventory() {
  return load("tests/data/inventories/loopback.yml");
}

// The default Docker cluster: 10.42.0.11-13, VIP 10.42.0.100, sync replication.
Inventory docker_inventory() {
  return load("inventories/docker-local.yml");
}

// The Docker cluster with an encrypted backup repository and a tagged node.
Inventory encrypted_inventory() {
  Inventory inv = docker_inventory();
  inv.backup.cipher_type = "aes-256-cbc";
  inv.backup.compression = "zst";
  inv.backup.retention_diff = 14;
  inv.backup.schedule_full = "Sat *-*-* 23:30:00";
  inv.backup.schedule_diff = "*-*-* 02,14:00:00";
  if (!inv.nodes.empty()) inv.nodes.back().tags["nofailover"] = "true";
  return inv;
}

ResolvedSecrets test_secrets() {
  ResolvedSecrets s;
  s.superuser_password = "su-Secret\"1";
  s.replication_password = "repl-Secret-2";
  s.admin_password = "admin-Secret-3";
  s.backup_cipher_pass = "cipher-Secret-4";
  s.user_passwords = {{"app", "app-Secret-5"}};
  return s;
}

std::vector<std::pair<std::string, RenderedFile>> render_all(const Inventory& inv,
                                                             const TemplateSource& src) {
  std::vector<std::pair<std::string, RenderedFile>> out;
  for (const Node& n : inv.nodes) {
    auto files = render_node(inv, n, test_secrets(), src);
    EXPECT_TRUE(files.ok()) << (files.ok() ? "" : files.error().describe());
    if (!files.ok()) continue;
    for (auto& f : *files) out.emplace_back(n.name, f);
  }
  return out;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// DIR/<node>/<absolute path> for every file, plus DIR/MANIFEST (path owner:group mode secret).
std::map<std::string, std::string> tree_of(const Inventory& inv) {
  std::map<std::string, std::string> tree;
  std::string manifest;
  auto src = embedded_template_source();
  for (const auto& [node, f] : render_all(inv, *src)) {
    const std::string rel = node + f.path;
    tree[rel] = f.content;
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", f.attrs.mode);
    manifest +=
        rel + " " + f.attrs.owner + ":" + f.attrs.group + " " + mode + (f.secret ? " secret" : "") + "\n";
  }
  tree["MANIFEST"] = manifest;
  return tree;
}

void check_golden(const std::string& name, const Inventory& inv) {
  const fs::path dir = fs::path(PGHA_SOURCE_DIR) / "tests/data/golden" / name;
  const auto tree = tree_of(inv);
  const char* update = std::getenv("PGHA_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    fs::remove_all(dir);
    for (const auto& [rel, text] : tree) write_text(dir / rel, text);
    GTEST_SKIP() << "golden files rewritten in " << dir;
  }
  std::set<std::string> on_disk;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) on_disk.insert(fs::relative(e.path(), dir).string());
  }
  for (const auto& [rel, text] : tree) {
    EXPECT_TRUE(on_disk.count(rel)) << rel << " is rendered but has no golden file (PGHA_UPDATE_GOLDEN=1)";
    if (on_disk.count(rel)) {
      EXPECT_EQ(read_text(dir / rel), text) << "golden mismatch: " << (dir / rel);
    }
  }
  for (const auto& rel : on_disk)
    EXPECT_TRUE(tree.count(rel)) << rel << " is a golden file no longer rendered";
}

TEST(RenderGolden, Loopback) {
  check_golden("loopback", loopback_inventory());
}
TEST(RenderGolden, Docker) {
  check_golden("docker", docker_inventory());
}
TEST(RenderGolden, Encrypted) {
  check_golden("encrypted", encrypted_inventory());
}

TEST(RenderExport, WritesLoopbackWhenAsked) {
  const char* out = std::getenv("PGHA_RENDER_OUT");
  if (out == nullptr || *out == '\0') GTEST_SKIP() << "PGHA_RENDER_OUT not set";
  for (const auto& [rel, text] : tree_of(loopback_inventory())) write_text(fs::path(out) / rel, text);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

class RenderProperties : public ::testing::TestWithParam<Inventory (*)()> {};

TEST_P(RenderProperties, NoOpenNetworkNoTrust) {
  auto src = embedded_template_source();
  for (const auto& [node, f] : render_all(GetParam()(), *src)) {
    EXPECT_EQ(f.content.find("0.0.0.0/0"), std::string::npos) << f.path;
    EXPECT_EQ(f.content.find("::/0"), std::string::npos) << f.path;
    for (const auto& l : lines_of(f.content)) {
      if (l.find("host ") != std::string::npos || l.find("hostssl ") != std::string::npos) {
        EXPECT_EQ(l.find("trust"), std::string::npos) << f.path << ": " << l;
        EXPECT_NE(l.find("scram-sha-256"), std::string::npos) << f.path << ": " << l;
      }
      EXPECT_EQ(l.find(" md5"), std::string::npos) << f.path << ": " << l;
    }
  }
}

TEST_P(RenderProperties, SecretsAreLockedDown) {
  auto src = embedded_template_source();
  const auto s = test_secrets();
  for (const auto& [node, f] : render_all(GetParam()(), *src)) {
    const bool carries = f.content.find(s.replication_password) != std::string::npos ||
                         f.content.find(s.admin_password) != std::string::npos ||
                         f.content.find(s.backup_cipher_pass) != std::string::npos ||
                         f.content.find("app-Secret-5") != std::string::npos;
    if (carries) {
      EXPECT_TRUE(f.secret) << f.path;
    }
    if (f.secret) {
      EXPECT_EQ(f.attrs.mode, 0600) << f.path;
    }
  }
}

TEST_P(RenderProperties, PatroniSafetySwitchesOn) {
  auto src = embedded_template_source();
  int seen = 0;
  for (const auto& [node, f] : render_all(GetParam()(), *src)) {
    if (f.path != "/etc/patroni/config.yml") continue;
    ++seen;
    EXPECT_EQ(f.attrs.owner, "postgres");
    EXPECT_NE(f.content.find("- data-checksums"), std::string::npos);
    EXPECT_NE(f.content.find("use_pg_rewind: true"), std::string::npos);
    EXPECT_NE(f.content.find("failsafe_mode: true"), std::string::npos);
    EXPECT_NE(f.content.find("password_encryption: scram-sha-256"), std::string::npos);
    EXPECT_NE(f.content.find("etcd3:"), std::string::npos);
  }
  EXPECT_EQ(seen, 3);
}

INSTANTIATE_TEST_SUITE_P(Inventories, RenderProperties,
                         ::testing::Values(&loopback_inventory, &docker_inventory, &encrypted_inventory));

TEST(Render, EncryptionWithoutPassphraseIsAnError) {
  Inventory inv = encrypted_inventory();
  auto s = test_secrets();
  s.backup_cipher_pass.clear();
  auto src = embedded_template_source();
  EXPECT_FALSE(render_node(inv, inv.nodes[0], s, *src).ok());
}

TEST(Render, KeepalivedNeedsAVip) {
  Inventory inv = docker_inventory();
  inv.network.vip.clear();
  auto src = embedded_template_source();
  auto files = render_node(inv, inv.nodes[0], test_secrets(), *src);
  ASSERT_TRUE(files.ok()) << files.error().describe();
  for (const auto& f : *files) EXPECT_NE(f.role, Role::keepalived) << f.path;
}

TEST(Render, OnlyTheNodesRoles) {
  Inventory inv = docker_inventory();
  inv.nodes[0].roles = {Role::etcd};
  auto src = embedded_template_source();
  auto files = render_node(inv, inv.nodes[0], test_secrets(), *src);
  ASSERT_TRUE(files.ok());
  size_t plain = 0;
  for (const auto& f : role_files(Role::etcd)) plain += f.tls_only ? 0 : 1;
  ASSERT_EQ(files->size(), plain);
  for (const auto& f : *files) EXPECT_EQ(f.role, Role::etcd);
}

// tls.enabled: every role gets its certificate files (keys secret, owned by the daemon's user), etcd
// and Patroni speak https with client certificates, pg_hba admits network connections only over TLS.
TEST(Render, TlsOnEveryHop) {
  Inventory inv = docker_inventory();
  inv.tls.enabled = true;
  ResolvedSecrets secrets = test_secrets();
  secrets.tls.ca_cert_pem = "CA PEM\n";
  for (const Node& n : inv.nodes)
    secrets.tls.nodes[n.name] = {"CERT " + n.name + "\n", "KEY " + n.name + "\n"};
  auto src = embedded_template_source();
  auto files = render_node(inv, inv.nodes[0], secrets, *src);
  ASSERT_TRUE(files.ok()) << files.error().describe();
  std::map<std::string, const RenderedFile*> by_path;
  for (const auto& f : *files) by_path[f.path] = &f;
  ASSERT_TRUE(by_path.count("/etc/etcd/tls/node.key"));
  const RenderedFile& key = *by_path["/etc/etcd/tls/node.key"];
  EXPECT_TRUE(key.secret);
  EXPECT_EQ(key.attrs.owner, "etcd");
  EXPECT_EQ(key.attrs.mode, 0600);
  EXPECT_EQ(key.content, "KEY pg1\n");
  EXPECT_EQ(by_path["/etc/patroni/tls/node.key"]->attrs.owner, "postgres");
  EXPECT_EQ(by_path["/etc/haproxy/tls/node.pem"]->content, "CERT pg1\nKEY pg1\n");
  EXPECT_EQ(by_path["/etc/pgbouncer/tls/ca.crt"]->content, "CA PEM\n");

  const std::string& etcd = by_path["/etc/default/etcd"]->content;
  EXPECT_NE(etcd.find("ETCD_LISTEN_CLIENT_URLS=\"https://10.42.0.11:2379"), std::string::npos);
  EXPECT_NE(etcd.find("ETCD_CLIENT_CERT_AUTH=\"true\""), std::string::npos);
  EXPECT_NE(etcd.find("ETCD_PEER_CLIENT_CERT_AUTH=\"true\""), std::string::npos);
  const std::string& patroni = by_path["/etc/patroni/config.yml"]->content;
  EXPECT_NE(patroni.find("verify_client: optional"), std::string::npos);
  EXPECT_NE(patroni.find("protocol: https"), std::string::npos);
  EXPECT_NE(patroni.find("sslmode: verify-full"), std::string::npos);
  EXPECT_EQ(patroni.find("\"host    "), std::string::npos) << "a plaintext pg_hba line";
  EXPECT_NE(patroni.find("\"hostnossl all             all             0.0.0.0/0               reject\""),
            std::string::npos);
  EXPECT_NE(by_path["/etc/haproxy/haproxy.cfg"]->content.find("check-ssl verify required"),
            std::string::npos);
  EXPECT_NE(by_path["/etc/pgbouncer/pgbouncer.ini"]->content.find("server_tls_sslmode = verify-full"),
            std::string::npos);

  // A node without a resolved certificate is refused, before anything is written.
  secrets.tls.nodes.erase("pg1");
  EXPECT_FALSE(render_node(inv, inv.nodes[0], secrets, *src).ok());
}

TEST(Render, NoCertificatesWithoutTls) {
  Inventory inv = docker_inventory();
  auto src = embedded_template_source();
  auto files = render_node(inv, inv.nodes[0], test_secrets(), *src);
  ASSERT_TRUE(files.ok());
  for (const auto& f : *files) EXPECT_EQ(f.path.find("/tls/"), std::string::npos) << f.path;
}

TEST(Render, ArchivingOnlyWithPgbackrest) {
  Inventory inv = docker_inventory();
  inv.nodes[1].roles = {Role::etcd, Role::patroni};
  auto src = embedded_template_source();
  auto with = render_node(inv, inv.nodes[0], test_secrets(), *src);
  auto without = render_node(inv, inv.nodes[1], test_secrets(), *src);
  ASSERT_TRUE(with.ok() && without.ok());
  auto patroni = [](const std::vector<RenderedFile>& fs) {
    for (const auto& f : fs) {
      if (f.path == "/etc/patroni/config.yml") return f.content;
    }
    return std::string();
  };
  EXPECT_NE(patroni(*with).find("archive-push %p"), std::string::npos);
  EXPECT_EQ(patroni(*without).find("archive-push"), std::string::npos);
  EXPECT_NE(patroni(*without).find("archive_mode: \"off\""), std::string::npos);
}

TEST(Render, EncryptedBackupConfigIsSecret) {
  Inventory inv = encrypted_inventory();
  auto src = embedded_template_source();
  auto files = render_node(inv, inv.nodes[0], test_secrets(), *src);
  ASSERT_TRUE(files.ok());
  for (const auto& f : *files) {
    if (f.path != "/etc/pgbackrest/pgbackrest.conf") continue;
    EXPECT_TRUE(f.secret);
    EXPECT_EQ(f.attrs.mode, 0600);
    EXPECT_NE(f.content.find("repo1-cipher-pass=cipher-Secret-4"), std::string::npos);
  }
}

TEST(Render, UnencryptedBackupConfigIsNotSecret) {
  Inventory inv = loopback_inventory();
  auto src = embedded_template_source();
  auto files = render_node(inv, inv.nodes[0], test_secrets(), *src);
  ASSERT_TRUE(files.ok());
  for (const auto& f : *files) {
    if (f.path != "/etc/pgbackrest/pgbackrest.conf") continue;
    EXPECT_FALSE(f.secret);
    EXPECT_EQ(f.attrs.mode, 0640);
    EXPECT_EQ(f.content.find("cipher"), std::string::npos);
  }
}

// The backup: block reaches pgbackrest.conf and the timers; the scheduled units carry no secret.
TEST(Render, BackupBlockReachesConfigAndTimers) {
  Inventory inv = encrypted_inventory();
  auto src = embedded_template_source();
  auto files = render_node(inv, inv.nodes[0], test_secrets(), *src);
  ASSERT_TRUE(files.ok()) << files.error().describe();
  std::map<std::string, const RenderedFile*> by_path;
  for (const auto& f : *files) by_path[f.path] = &f;
  const RenderedFile* conf = by_path["/etc/pgbackrest/pgbackrest.conf"];
  ASSERT_NE(conf, nullptr);
  EXPECT_NE(conf->content.find("\nrepo1-retention-diff=14\n"), std::string::npos);
  EXPECT_NE(conf->content.find("\ncompress-type=zst\n"), std::string::npos);
  EXPECT_NE(conf->content.find("\nrepo1-cipher-type=aes-256-cbc\n"), std::string::npos);
  const RenderedFile* full = by_path["/etc/systemd/system/pgha-backup-full.timer"];
  const RenderedFile* diff = by_path["/etc/systemd/system/pgha-backup-diff.timer"];
  const RenderedFile* unit = by_path["/etc/systemd/system/pgha-backup@.service"];
  const RenderedFile* script = by_path["/usr/local/lib/pgha/backup-scheduled"];
  ASSERT_TRUE(full && diff && unit && script);
  EXPECT_NE(full->content.find("\nOnCalendar=Sat *-*-* 23:30:00\nUnit=pgha-backup@full.service\n"),
            std::string::npos);
  EXPECT_NE(diff->content.find("\nOnCalendar=*-*-* 02,14:00:00\nUnit=pgha-backup@diff.service\n"),
            std::string::npos);
  EXPECT_NE(unit->content.find("\nUser=postgres\n"), std::string::npos);
  EXPECT_NE(script->content.find("http://" + inv.nodes[0].address + ":8008/leader"), std::string::npos);
  EXPECT_NE(script->content.find("pgbackrest --stanza=" + inv.cluster_name + " --type=\"$1\""),
            std::string::npos);
  EXPECT_EQ(script->attrs.mode, 0755);
  for (const RenderedFile* f : {full, diff, unit, script}) {
    EXPECT_FALSE(f->secret) << f->path;
    EXPECT_EQ(f->content.find("cipher-Secret-4"), std::string::npos) << f->path;
  }
}

TEST(Render, YamlQuotingSurvivesHostilePasswords) {
  EXPECT_EQ(yaml_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(yaml_quote("x: #y"), "\"x: #y\"");
  EXPECT_EQ(userlist_quote("p\"q"), "\"p\"\"q\"");
}

TEST(Render, LineBreakInASecretIsRejectedWithoutEchoingIt) {
  Inventory inv = loopback_inventory();
  auto s = test_secrets();
  s.admin_password = "top\nsecret";
  auto src = embedded_template_source();
  auto files = render_node(inv, inv.nodes[0], s, *src);
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.error().kind, ErrorKind::bad_input);
  const std::string msg = files.error().describe();
  EXPECT_NE(msg.find("admin_password"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("top"), std::string::npos) << msg;
}

TEST(Render, MissingUserPasswordIsAnError) {
  Inventory inv = loopback_inventory();
  auto s = test_secrets();
  s.user_passwords.clear();
  auto src = embedded_template_source();
  auto files = render_node(inv, inv.nodes[0], s, *src);
  ASSERT_FALSE(files.ok());
  EXPECT_NE(files.error().describe().find("'app'"), std::string::npos);
}

// A TemplateSource holding exactly the given templates and nothing else.
class MapSource final : public TemplateSource {
 public:
  explicit MapSource(std::map<std::string, std::string> m) : m_(std::move(m)) {}
  std::optional<std::string> get(const std::string& name) const override {
    auto it = m_.find(name);
    if (it == m_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<std::string, std::string> m_;
};

TEST(Render, MissingTemplateIsAClearError) {
  Inventory inv = loopback_inventory();
  MapSource empty(std::map<std::string, std::string>{});
  auto files = render_node(inv, inv.nodes[0], test_secrets(), empty);
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.error().kind, ErrorKind::bad_input);
  EXPECT_EQ(files.error().describe(), "node pg1: template 'etcd/etcd.env.mustache' not found");
}

TEST(Render, UnknownVariableIsAnError) {
  Inventory inv = loopback_inventory();
  inv.nodes[0].roles = {Role::haproxy};
  MapSource typo(
      std::map<std::string, std::string>{{"haproxy/haproxy.cfg.mustache", "bind *:{{port_haproxy_wrte}}\n"}});
  auto files = render_node(inv, inv.nodes[0], test_secrets(), typo);
  ASSERT_FALSE(files.ok());
  EXPECT_NE(files.error().message.find("port_haproxy_wrte"), std::string::npos) << files.error().message;
}

TEST(Render, MustacheSyntaxErrorNamesTheTemplate) {
  Inventory inv = loopback_inventory();
  inv.nodes[0].roles = {Role::haproxy};
  MapSource broken(std::map<std::string, std::string>{
      {"haproxy/haproxy.cfg.mustache", "{{#patroni_nodes}}never closed\n"}});
  auto files = render_node(inv, inv.nodes[0], test_secrets(), broken);
  ASSERT_FALSE(files.ok());
  EXPECT_NE(files.error().message.find("haproxy/haproxy.cfg.mustache"), std::string::npos);
}

TEST(Render, TemplateDirectoryOverridesEmbedded) {
  const fs::path dir = fs::temp_directory_path() / ("pgha-render-test-" + std::to_string(::getpid()));
  write_text(dir / "haproxy/haproxy.cfg.mustache", "# custom {{node_name}}\n");
  Inventory inv = loopback_inventory();
  inv.nodes[0].roles = {Role::haproxy, Role::etcd};
  auto src = directory_template_source(dir.string());
  auto files = render_node(inv, inv.nodes[0], test_secrets(), *src);
  fs::remove_all(dir);
  ASSERT_TRUE(files.ok()) << files.error().describe();
  bool saw_haproxy = false, saw_etcd = false;
  for (const auto& f : *files) {
    if (f.role == Role::haproxy) {
      saw_haproxy = true;
      EXPECT_EQ(f.content, "# custom pg1\n");
    }
    if (f.path == "/etc/default/etcd") {
      saw_etcd = true;  // falls back to the embedded template
      EXPECT_NE(f.content.find("ETCD_NAME=\"pg1\""), std::string::npos);
    }
  }
  EXPECT_TRUE(saw_haproxy && saw_etcd);
}

TEST(Render, EveryCatalogTemplateIsEmbedded) {
  auto src = embedded_template_source();
  for (Role r : all_roles()) {
    for (const auto& f : role_files(r)) EXPECT_TRUE(src->get(f.template_name).has_value()) << f.template_name;
  }
}

}  // namespace
}  // namespace pgha
