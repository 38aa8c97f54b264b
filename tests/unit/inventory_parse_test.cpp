#include "core/inventory_parse.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/interpolate.hpp"
#include "core/net_addr.hpp"
#include "core/profiles.hpp"
#include "core/validate.hpp"

namespace pgha {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string read_file(const std::string& rel) {
  std::ifstream f(std::string(PGHA_SOURCE_DIR) + "/" + rel);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const char* kMinimal = R"(cluster:
  name: t
nodes:
  - name: pg1
    address: 10.42.0.11
  - name: pg2
    address: 10.42.0.12
network:
  vip: 10.42.0.100
)";

ParseOutcome parse(const std::string& text, std::map<std::string, std::string> env = {}) {
  return parse_inventory(text, "inv.yml", env_of(std::move(env)));
}

std::string messages(const ParseOutcome& out) {
  std::string s;
  for (const auto& d : out.diagnostics) s += d.message + "\n";
  return s;
}

TEST(ParseInventory, ReadsTheDefaultDockerInventory) {
  auto out =
      parse_inventory(read_file("inventories/docker-local.yml"), "inventories/docker-local.yml", env_of({}));
  ASSERT_TRUE(out.inventory) << messages(out);
  EXPECT_TRUE(out.diagnostics.empty()) << messages(out);
  const Inventory& inv = *out.inventory;
  EXPECT_EQ(inv.source_name, "inventories/docker-local.yml");
  EXPECT_EQ(inv.cluster_name, "pgha-local");
  EXPECT_EQ(inv.provider.type, ProviderType::docker);
  ASSERT_EQ(inv.nodes.size(), 3u);
  EXPECT_EQ(inv.nodes[2].name, "pg3");
  EXPECT_EQ(inv.nodes[2].address, "10.42.0.13");
  EXPECT_EQ(inv.nodes[0].roles, all_roles());
  EXPECT_EQ(inv.network.vip, "10.42.0.100");
  EXPECT_EQ(inv.replication.mode, ReplicationMode::sync_mode);
  EXPECT_EQ(inv.timing.profile, "fast");
  EXPECT_EQ(inv.secrets.superuser_password, "");
  ASSERT_EQ(inv.users.size(), 1u);
  EXPECT_EQ(inv.users[0].name, "app");
  ASSERT_EQ(inv.databases.size(), 1u);
  EXPECT_EQ(inv.databases[0].owner, "app");
}

TEST(ParseInventory, RecordsMarksForKeysAndValues) {
  auto out = parse(kMinimal);
  ASSERT_TRUE(out.inventory);
  const Inventory& inv = *out.inventory;
  EXPECT_EQ(inv.where("cluster.name").line, 2);
  EXPECT_EQ(inv.where("cluster.name").col, 9);
  EXPECT_EQ(inv.where("nodes[1]").line, 6);
  EXPECT_EQ(inv.where("nodes[1]").col, 5);
  EXPECT_EQ(inv.where("nodes[1].address").line, 7);
  EXPECT_EQ(inv.where("nodes[1].address").col, 14);
  EXPECT_EQ(inv.where("network.vip").line, 9);
  EXPECT_EQ(inv.where("nodes").line, 3);
  EXPECT_EQ(inv.where("patroni.ttl").line, 0);
}

TEST(ParseInventory, DefaultsFillNodesAndNodeValuesOverride) {
  auto out = parse(std::string(kMinimal) + "defaults: {cpu: 3, memory_mb: 1024, roles: [etcd, patroni]}\n");
  ASSERT_TRUE(out.inventory);
  EXPECT_EQ(out.inventory->nodes[0].resources.cpu, 3);
  EXPECT_EQ(out.inventory->nodes[0].resources.memory_mb, 1024);
  EXPECT_EQ(out.inventory->nodes[0].resources.disk_gb, 20);
  EXPECT_EQ(out.inventory->nodes[0].roles, (std::vector<Role>{Role::etcd, Role::patroni}));

  auto over = parse(R"(defaults: {cpu: 3}
nodes:
  - {name: pg1, address: 10.42.0.11, cpu: 8, roles: [haproxy], tags: {nofailover: true}}
)");
  ASSERT_TRUE(over.inventory);
  EXPECT_EQ(over.inventory->nodes[0].resources.cpu, 8);
  EXPECT_EQ(over.inventory->nodes[0].roles, std::vector<Role>{Role::haproxy});
  EXPECT_EQ(over.inventory->nodes[0].tags.at("nofailover"), "true");
}

TEST(ParseInventory, InstancesMapBecomesNodes) {
  auto out = parse_inventory(read_file("tests/data/inventories/instances.yml"), "instances.yml", env_of({}));
  ASSERT_TRUE(out.inventory) << messages(out);
  EXPECT_TRUE(out.diagnostics.empty()) << messages(out);
  const Inventory& inv = *out.inventory;
  ASSERT_EQ(inv.nodes.size(), 3u);
  EXPECT_EQ(inv.nodes[0].name, "node1");
  EXPECT_EQ(inv.nodes[0].address, "10.0.0.51");
  EXPECT_EQ(inv.nodes[0].resources.cpu, 4);
  EXPECT_EQ(inv.nodes[0].resources.memory_mb, 8192);
  EXPECT_EQ(inv.nodes[1].resources.disk_gb, 40);
  EXPECT_EQ(inv.nodes[2].resources.cpu, 2);
  EXPECT_EQ(inv.nodes[2].resources.memory_mb, 4096);  // from defaults
  EXPECT_EQ(inv.where("instances.node1.ip_address").line, inv.where("nodes[0].address").line);
  EXPECT_EQ(inv.where("instances.node1.ip_address").col, inv.where("nodes[0].address").col);
  EXPECT_GT(inv.where("nodes[2].address").line, 0);
  EXPECT_GT(inv.where("nodes[1].name").line, 0);
  EXPECT_GT(inv.where("nodes[1]").line, 0);
  EXPECT_GT(inv.where("nodes[0].memory_mb").line, 0);
}

TEST(ParseInventory, NodesAndInstancesTogetherIsAnError) {
  auto out = parse(std::string(kMinimal) + "instances: {n4: {ip_address: 10.42.0.14}}\n");
  EXPECT_TRUE(has_errors(out.diagnostics));
  EXPECT_NE(messages(out).find("both 'nodes' and 'instances'"), std::string::npos);
}

// --instances FILE: the inventory kMinimal, its nodes replaced by a map in the instances format.
const char* kInstancesFile = R"({"db1": {"ip_address": "10.42.0.21", "roles": [etcd, patroni]},
 "db2": {"ip_address": "10.42.0.22", "cpu_cores": 4},
 "db3": {"ip_address": "10.42.0.23", "ram_mb": "4096", "tags": {"nofailover": "true"}}}
)";

ParseOutcome parse_with_instances(const std::string& text, const std::string& instances) {
  return parse_inventory(text, "inv.yml", env_of({}), InstancesText{instances, "instances.json"});
}

// Parser and validator diagnostics together, the validator's relocated, as `pgha validate` does.
std::vector<Diagnostic> checked(const ParseOutcome& out) {
  std::vector<Diagnostic> all = out.diagnostics;
  if (out.inventory) {
    auto more = validate_inventory(*out.inventory);
    relocate_diagnostics(out, more);
    all.insert(all.end(), more.begin(), more.end());
  }
  return all;
}

TEST(InstancesFile, ReplacesTheInventorysNodes) {
  auto out = parse_with_instances(std::string(kMinimal) + "defaults: {memory_mb: 1024}\n", kInstancesFile);
  ASSERT_TRUE(out.inventory) << messages(out);
  EXPECT_TRUE(checked(out).empty()) << messages(out);
  const Inventory& inv = *out.inventory;
  EXPECT_EQ(inv.source_name, "inv.yml");
  EXPECT_EQ(inv.cluster_name, "t");
  EXPECT_EQ(inv.network.vip, "10.42.0.100");
  ASSERT_EQ(inv.nodes.size(), 3u);  // pg1 and pg2 of the inventory are gone
  EXPECT_EQ(inv.nodes[0].name, "db1");
  EXPECT_EQ(inv.nodes[0].address, "10.42.0.21");
  EXPECT_EQ(inv.nodes[0].roles, (std::vector<Role>{Role::etcd, Role::patroni}));
  EXPECT_EQ(inv.nodes[1].resources.cpu, 4);
  EXPECT_EQ(inv.nodes[1].resources.memory_mb, 1024);  // the inventory's defaults still apply
  EXPECT_EQ(inv.nodes[1].roles, all_roles());
  EXPECT_EQ(inv.nodes[2].resources.memory_mb, 4096);
  EXPECT_EQ(inv.nodes[2].tags.at("nofailover"), "true");
  // Node marks point into the instances file, shifted past the inventory's lines.
  EXPECT_EQ(out.instances_name, "instances.json");
  EXPECT_GT(out.instances_line_offset, 9);
  EXPECT_EQ(inv.where("nodes[1].address").line, 2 + out.instances_line_offset);
  EXPECT_EQ(inv.where("nodes[1].address").col, 24);
  EXPECT_EQ(inv.where("network.vip").line, 9);
}

TEST(InstancesFile, ItsErrorsNameItAtItsLineAndColumn) {
  const std::string instances = R"({"pg1": {"ip_address": "10.42.0.11"},
 "pg2": {"ip_address": "10.42.9.12", "ram_mb": "lots"},
 "pg3": {"ip_address": "10.42.0.13"}}
)";
  auto out = parse_with_instances(kMinimal, instances);
  ASSERT_TRUE(out.inventory);
  auto all = checked(out);
  ASSERT_EQ(all.size(), 2u) << messages(out);
  EXPECT_EQ(all[0].file, "instances.json");
  EXPECT_EQ(all[0].message, "expected an integer for instances.pg2.ram_mb");
  EXPECT_EQ(all[0].at.line, 2);
  EXPECT_EQ(all[0].at.col, 48);
  // The validator's rule, pointed back at the instances file.
  EXPECT_EQ(all[1].file, "instances.json");
  EXPECT_EQ(all[1].message, "address of node pg2 10.42.9.12 is outside network.subnet 10.42.0.0/24");
  EXPECT_EQ(all[1].at.line, 2);
  EXPECT_EQ(all[1].at.col, 24);
  EXPECT_EQ(
      format_diagnostics(all, {{"inv.yml", kMinimal}, {"instances.json", instances}}),
      "instances.json:2:24: error: address of node pg2 10.42.9.12 is outside network.subnet 10.42.0.0/24\n"
      " \"pg2\": {\"ip_address\": \"10.42.9.12\", \"ram_mb\": \"lots\"},\n"
      "                       ^\n"
      "instances.json:2:48: error: expected an integer for instances.pg2.ram_mb\n"
      " \"pg2\": {\"ip_address\": \"10.42.9.12\", \"ram_mb\": \"lots\"},\n"
      "                                               ^\n");
}

TEST(InstancesFile, NotAMappingIsAnError) {
  for (const char* text : {"[10.42.0.11, 10.42.0.12]\n", "pg1\n"}) {
    auto out = parse_with_instances(kMinimal, text);
    EXPECT_FALSE(out.inventory) << text;
    ASSERT_EQ(out.diagnostics.size(), 1u) << messages(out);
    EXPECT_EQ(out.diagnostics[0].file, "instances.json");
    EXPECT_EQ(out.diagnostics[0].message, "expected a mapping of instance name to settings for instances");
    EXPECT_EQ(out.diagnostics[0].at.line, 1);
    EXPECT_EQ(out.diagnostics[0].at.col, 1);
  }
  auto empty = parse_with_instances(kMinimal, "");
  EXPECT_FALSE(empty.inventory);
  EXPECT_EQ(messages(empty),
            "the instances file is empty; expected a mapping of instance name to settings\n");
}

TEST(InstancesFile, ReplacesBothSectionsAndIsCheckedEvenWhenTheInventoryIsNot) {
  // nodes: and instances: together are only an error when they are read.
  auto both = parse_with_instances(std::string(kMinimal) + "instances: {n4: {ip_address: 10.42.0.14}}\n",
                                   kInstancesFile);
  ASSERT_TRUE(both.inventory);
  EXPECT_TRUE(checked(both).empty()) << messages(both);
  EXPECT_EQ(both.inventory->nodes.size(), 3u);
  // An unreadable inventory still has its instances file checked: every problem at once.
  auto broken = parse_with_instances("nodes:\n  - name: [pg1\n", "{\"pg1\": {\"adress\": \"10.42.0.11\"}}\n");
  EXPECT_FALSE(broken.inventory);
  ASSERT_EQ(broken.diagnostics.size(), 2u) << messages(broken);
  EXPECT_EQ(broken.diagnostics[0].file, "inv.yml");
  EXPECT_EQ(broken.diagnostics[1].file, "instances.json");
  EXPECT_EQ(broken.diagnostics[1].at.line, 1);
  EXPECT_EQ(broken.diagnostics[1].at.col, 10);
}

// tests/data/bad-inventories/NN-name.json: an instances file applied over inventories/docker-local.yml,
// whose diagnostics must be exactly NN-name.expected (PGHA_REGEN_EXPECTED=1 rewrites them).
TEST(InstancesFile, EachBadOneMatchesItsExpectedDiagnostics) {
  namespace fs = std::filesystem;
  const std::string dir = "tests/data/bad-inventories";
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(std::string(PGHA_SOURCE_DIR) + "/" + dir)) {
    if (e.path().extension() == ".json") files.push_back(dir + "/" + e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  EXPECT_GE(files.size(), 3u);
  const std::string inv_name = "inventories/docker-local.yml";
  const std::string inventory = read_file(inv_name);
  for (const auto& rel : files) {
    SCOPED_TRACE(rel);
    std::string text = read_file(rel);
    auto out = parse_inventory(inventory, inv_name, env_of({}), InstancesText{text, rel});
    auto all = checked(out);
    EXPECT_TRUE(has_errors(all));
    for (const auto& d : all) EXPECT_EQ(d.file, rel) << d.message;
    std::string formatted = format_diagnostics(all, {{inv_name, inventory}, {rel, text}});
    std::string expected = std::string(PGHA_SOURCE_DIR) + "/" + rel.substr(0, rel.size() - 5) + ".expected";
    if (std::getenv("PGHA_REGEN_EXPECTED")) std::ofstream(expected, std::ios::binary) << formatted;
    EXPECT_EQ(formatted, read_file(rel.substr(0, rel.size() - 5) + ".expected"));
  }
}

TEST(ParseInventory, GatewayDefaultsToTheFirstHost) {
  auto out = parse("network: {subnet: 192.168.7.0/24}\n");
  ASSERT_TRUE(out.inventory);
  EXPECT_EQ(out.inventory->network.gateway, "192.168.7.1");
  auto given = parse("network: {subnet: 192.168.7.0/24, gateway: 192.168.7.254}\n");
  EXPECT_EQ(given.inventory->network.gateway, "192.168.7.254");
}

TEST(ParseInventory, ProfileFillsTimingAndExplicitKeysOverride) {
  auto out = parse("patroni: {profile: fast, ttl: 25}\nhaproxy: {check_rise: 5}\n");
  ASSERT_TRUE(out.inventory);
  const Timing& t = out.inventory->timing;
  EXPECT_EQ(t.profile, "fast");
  EXPECT_EQ(t.ttl, 25);
  EXPECT_EQ(t.loop_wait, 2);
  EXPECT_EQ(t.retry_timeout, 3);
  EXPECT_EQ(t.primary_start_timeout, 10);
  EXPECT_EQ(t.check_inter_ms, 1000);
  EXPECT_EQ(t.check_rise, 5);
  auto plain = parse("cluster: {name: x}\n");  // no profile: kDefaultProfile, the measured one
  EXPECT_EQ(plain.inventory->timing.profile, "fast");
  EXPECT_EQ(plain.inventory->timing.ttl, 20);
  EXPECT_EQ(plain.inventory->timing.check_fall, 2);
}

TEST(ParseInventory, UnknownProfileSuggestsAndFallsBackToDefault) {
  auto out = parse("patroni: {profile: saef}\n");
  EXPECT_EQ(messages(out), "unknown timing profile 'saef'; did you mean 'safe'?\n");
  EXPECT_EQ(out.inventory->timing.profile, "fast");
  EXPECT_EQ(out.inventory->timing.ttl, 20);
}

TEST(ParseInventory, InterpolatesEnvironmentVariables) {
  auto out = parse(R"(cluster: {name: "${NAME}"}
secrets:
  superuser_password: "${PW}"
  admin_password: "${UNSET:-fallback}"
  replication_password: "a$$b"
)",
                   {{"NAME", "fromenv"}, {"PW", "s3cret"}});
  ASSERT_TRUE(out.inventory);
  EXPECT_TRUE(out.diagnostics.empty()) << messages(out);
  EXPECT_EQ(out.inventory->cluster_name, "fromenv");
  EXPECT_EQ(out.inventory->secrets.superuser_password, "s3cret");
  EXPECT_EQ(out.inventory->secrets.admin_password, "fallback");
  EXPECT_EQ(out.inventory->secrets.replication_password, "a$b");
}

TEST(ParseInventory, UnsetVariableIsAnErrorAtThatScalar) {
  auto out = parse("secrets:\n  superuser_password: \"${PATRONI_SUPERUSER_PASSWORD}\"\n");
  ASSERT_EQ(out.diagnostics.size(), 1u);
  EXPECT_EQ(
      out.diagnostics[0].message,
      "environment variable PATRONI_SUPERUSER_PASSWORD is not set (needed by secrets.superuser_password)");
  EXPECT_EQ(out.diagnostics[0].at.line, 2);
  EXPECT_EQ(out.diagnostics[0].at.col, 23);
}

TEST(ParseInventory, SecretValuesNeverAppearInDiagnostics) {
  auto out = parse("secrets:\n  superuser_password: [hunter2]\n  admin_pasword: hunter3\n", {});
  EXPECT_TRUE(has_errors(out.diagnostics));
  EXPECT_EQ(messages(out).find("hunter"), std::string::npos);
}

TEST(ParseInventory, RoleOptionsAreParsedIntoPostgresAttributes) {
  auto out = parse(
      "users:\n  - name: app\n    options: [login, CONNECTION LIMIT 5, \"VALID UNTIL '2030-01-01'\"]\n");
  ASSERT_TRUE(out.diagnostics.empty()) << messages(out);
  ASSERT_EQ(out.inventory->users[0].options.size(), 3u);
  EXPECT_EQ(out.inventory->users[0].options[0].attribute, RoleAttribute::login);
  EXPECT_EQ(out.inventory->users[0].options[1].connection_limit, 5);
  EXPECT_EQ(out.inventory->users[0].options[2].valid_until, "2030-01-01");
}

TEST(ParseInventory, UnknownOrClashingRoleOptionsAreLocatedErrors) {
  auto out =
      parse("users:\n  - name: app\n    options: [LOGN, \"LOGIN $$pgha$$; \\\\! id\", LOGIN, NOLOGIN]\n");
  ASSERT_EQ(out.diagnostics.size(), 3u) << messages(out);
  EXPECT_EQ(out.diagnostics[0].message,
            "unknown role option 'LOGN' in users[0].options: not a PostgreSQL role option; did you mean "
            "'LOGIN'?");
  EXPECT_EQ(out.diagnostics[0].at.line, 3);
  EXPECT_EQ(out.diagnostics[0].at.col, 15);
  EXPECT_EQ(out.diagnostics[1].message.rfind("unknown role option 'LOGIN $pgha$; \\! id'", 0), 0u)
      << out.diagnostics[1].message;
  EXPECT_EQ(out.diagnostics[2].message,
            "role option 'NOLOGIN' in users[0].options sets the same attribute as 'LOGIN'");
  ASSERT_EQ(out.inventory->users[0].options.size(), 1u);
}

TEST(ParseInventory, UnknownKeysSuggestTheClosestKey) {
  auto out = parse("nodes:\n  - name: pg1\n    adress: 10.0.0.1\n");
  ASSERT_EQ(out.diagnostics.size(), 1u);
  EXPECT_EQ(out.diagnostics[0].message, "unknown key 'adress' in nodes[0]; did you mean 'address'?");
  EXPECT_EQ(out.diagnostics[0].at.line, 3);
  EXPECT_EQ(out.diagnostics[0].at.col, 5);
  auto top = parse("clustr: {name: x}\n");
  EXPECT_EQ(messages(top), "unknown key 'clustr' at the top level; did you mean 'cluster'?\n");
}

TEST(ParseInventory, DuplicateKeysAreErrors) {
  auto out = parse("cluster:\n  name: a\n  name: b\n");
  ASSERT_EQ(out.diagnostics.size(), 1u);
  EXPECT_EQ(out.diagnostics[0].message, "duplicate key 'name' in cluster (first at line 2)");
  EXPECT_EQ(out.diagnostics[0].at.line, 3);
  EXPECT_EQ(out.inventory->cluster_name, "a");
}

TEST(ParseInventory, WrongTypesAreReported) {
  auto out = parse("ports: {postgres: abc, pgbouncer: [1]}\nreplication: {strict: maybe}\nnodes: {a: 1}\n");
  std::string m = messages(out);
  EXPECT_NE(m.find("expected an integer for ports.postgres"), std::string::npos) << m;
  EXPECT_NE(m.find("expected an integer for ports.pgbouncer"), std::string::npos) << m;
  EXPECT_NE(m.find("expected true or false for replication.strict"), std::string::npos) << m;
  EXPECT_NE(m.find("expected a list for nodes"), std::string::npos) << m;
  EXPECT_EQ(out.inventory->ports.postgres, 5432);
  EXPECT_EQ(out.inventory->unreadable.size(), 3u);
}

TEST(ParseInventory, UnknownEnumValuesSuggest) {
  auto out =
      parse("provider: {type: proxmxo}\nreplication: {mode: asnyc}\ndefaults: {roles: [etcd, patrony]}\n");
  EXPECT_EQ(messages(out),
            "unknown provider type 'proxmxo'; did you mean 'proxmox'?\n"
            "unknown role 'patrony' in defaults.roles; did you mean 'patroni'?\n"
            "unknown replication mode 'asnyc'; did you mean 'async'?\n");
}

TEST(ParseInventory, SyntaxErrorsBecomeDiagnostics) {
  auto out = parse("nodes:\n  - name: [pg1\n");
  EXPECT_FALSE(out.inventory);
  ASSERT_EQ(out.diagnostics.size(), 1u);
  EXPECT_EQ(out.diagnostics[0].message.rfind("YAML syntax error: ", 0), 0u);
  EXPECT_GT(out.diagnostics[0].at.line, 0);
}

TEST(ParseInventory, EmptyAndNonMappingDocuments) {
  EXPECT_EQ(messages(parse("")), "the inventory is empty\n");
  EXPECT_EQ(parse("").diagnostics[0].at.line, 1);  // located, like every other diagnostic
  EXPECT_EQ(messages(parse("- a\n")),
            "expected a mapping of sections (cluster:, nodes:, ...) at the top level\n");
  EXPECT_FALSE(parse("42").inventory);
}

TEST(ParseInventory, YamlShapeProblemsAreOneLocatedError) {
  auto second = parse("cluster: {name: a}\n---\ncluster: {name: b}\n");
  ASSERT_EQ(second.diagnostics.size(), 1u);
  EXPECT_EQ(second.diagnostics[0].message,
            "a second YAML document starts here; an inventory is one document");
  EXPECT_EQ(second.diagnostics[0].at.line, 2);
  EXPECT_EQ(messages(parse("---\ncluster: {name: a}\n...\n")).find("second"), std::string::npos);
  auto quote = parse("cluster:\n  name: \"a\n  other: b\"\n");
  ASSERT_EQ(quote.diagnostics.size(), 1u);
  EXPECT_EQ(quote.diagnostics[0].message,
            "this quoted value has no closing \" on its line (a value cannot span lines)");
  EXPECT_EQ(quote.diagnostics[0].at.line, 2);
  EXPECT_EQ(quote.diagnostics[0].at.col, 9);
  EXPECT_TRUE(parse("cluster:\n  name: 'it''s'\n  x: \"a\\\"b\"\n").diagnostics.size() ==
              1u);  // only 'x' unknown
  const std::string deep = "nodes: " + std::string(10000, '[') + std::string(10000, ']') + "\n";
  auto nested = parse(deep);
  ASSERT_EQ(nested.diagnostics.size(), 1u);
  EXPECT_EQ(nested.diagnostics[0].message, "nesting deeper than 64 levels");
  EXPECT_EQ(nested.diagnostics[0].at.col, 8 + 64);
  EXPECT_LT(format_diagnostics(nested.diagnostics, deep).size(), 500u);
  std::string dashes = "nodes:\n";
  for (int i = 0; i < 10000; ++i) dashes += "- ";
  auto compact = parse(dashes + "x\n");
  ASSERT_EQ(compact.diagnostics.size(), 1u);
  EXPECT_EQ(compact.diagnostics[0].message, "nesting deeper than 64 levels");
  EXPECT_EQ(compact.diagnostics[0].at.line, 2);
  std::string indented = "nodes:\n";
  for (int i = 0; i < 3000; ++i) indented += std::string(i + 1, ' ') + "k" + std::to_string(i) + ":\n";
  auto block = parse(indented);
  ASSERT_EQ(block.diagnostics.size(), 1u);
  EXPECT_EQ(block.diagnostics[0].message, "nesting deeper than 64 levels");
  EXPECT_EQ(block.diagnostics[0].at.line, 65);
}

TEST(ParseInventory, AnAliasBombIsOneErrorAtTheAlias) {
  std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char level : std::string("bcde")) {
    text += std::string(1, level) + ": &" + level + " [";
    for (int i = 0; i < 10; ++i) text += std::string(i ? ", *" : "*") + static_cast<char>(level - 1);
    text += "]\n";
  }
  auto out = parse(text);
  ASSERT_EQ(out.diagnostics.size(), 1u) << messages(out);
  EXPECT_EQ(out.diagnostics[0].message,
            "this alias expands the inventory past 10000 values; aliases may not multiply the document");
  EXPECT_EQ(out.diagnostics[0].at.line, 4);
  // Aliases that do not multiply much are fine.
  EXPECT_EQ(messages(parse("defaults: {roles: &r [etcd, patroni]}\nnodes:\n  - {name: a, roles: *r}\n"))
                .find("alias"),
            std::string::npos);
}

TEST(ParseInventory, NeverThrowsOnOddInput) {
  const std::string deep(5000, '[');  // outlives the loop (a temporary's c_str() would dangle)
  for (const char* text : {"\t\t: :", "a: &x [*x]\nnodes: &n [*n]\n", "nodes: [[[[[[[[]]]]]]]]", "{", "'",
                           "nodes:\n  - !!binary abc\n", "secrets: {superuser_password: ${}}",
                           "cluster: {name: \"${A\"}", "\xff\xfe", deep.c_str()}) {
    EXPECT_NO_THROW(parse(text)) << text;
  }
}

TEST(Interpolate, Forms) {
  auto env = env_of({{"A", "1"}, {"EMPTY", ""}});
  EXPECT_EQ(interpolate("x${A}y", env).value(), "x1y");
  EXPECT_EQ(interpolate("${EMPTY}", env).value(), "");
  EXPECT_EQ(interpolate("${EMPTY:-d}", env).value(), "d");
  EXPECT_EQ(interpolate("${NOPE:-}", env).value(), "");
  EXPECT_EQ(interpolate("$$A $5 $", env).value(), "$A $5 $");
  EXPECT_EQ(interpolate("${NOPE}", env).error().message, "environment variable NOPE is not set");
  EXPECT_FALSE(interpolate("${A", env).ok());
  EXPECT_FALSE(interpolate("${1A}", env).ok());
}

// Shell forms pgha does not expand are refused, never kept as literal text.
TEST(Interpolate, ShellFormsAreRefused) {
  auto env = env_of({{"A", "1"}, {"B", "2"}});
  for (const char* text : {"${A:-${B}}", "${NOPE:-${B}}", "${A:-x{}", "${A-x}", "${A:=x}", "${A:?x}", "${#A}",
                           "${A/x/y}", "$A", "x$B", "$(id)", "a$(id)b", "$_X"}) {
    auto r = interpolate(text, env);
    EXPECT_FALSE(r.ok()) << text << " -> " << (r.ok() ? r.value() : "");
  }
  EXPECT_EQ(interpolate("${NOPE:-${B}}", env).error().message,
            "a default in '${NAME:-default}' cannot hold '$', '{' or '}'");
  EXPECT_EQ(interpolate("$(id)", env).error().message,
            "'$NAME' and '$(...)' are not expanded: write ${NAME}, or $$ for a literal $");
  EXPECT_EQ(interpolate("$$(id) $$A", env).value(), "$(id) $A");
}

TEST(NetAddr, ParsesAndFormats) {
  EXPECT_EQ(parse_ipv4("10.42.0.11"), 0x0A2A000Bu);
  EXPECT_FALSE(parse_ipv4("10.42.0"));
  EXPECT_FALSE(parse_ipv4("10.42.0.256"));
  EXPECT_FALSE(parse_ipv4("10.42.0.011"));
  EXPECT_FALSE(parse_ipv4("10.42.0.1."));
  EXPECT_FALSE(parse_ipv4(""));
  EXPECT_EQ(format_ipv4(0x0A2A000Bu), "10.42.0.11");
  auto s = parse_cidr("10.42.0.0/24");
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->contains(*parse_ipv4("10.42.0.200")));
  EXPECT_FALSE(s->contains(*parse_ipv4("10.42.1.1")));
  EXPECT_EQ(format_ipv4(s->first_host()), "10.42.0.1");
  EXPECT_EQ(format_ipv4(s->broadcast()), "10.42.0.255");
  EXPECT_TRUE(parse_cidr("10.42.0.5/24")->has_host_bits());
  EXPECT_FALSE(parse_cidr("10.42.0.0/33"));
  EXPECT_FALSE(parse_cidr("10.42.0.0"));
}

TEST(Profiles, KnownProfilesAreComplete) {
  for (const auto& name : timing_profile_names()) {
    auto t = timing_profile(name);
    ASSERT_TRUE(t) << name;
    EXPECT_EQ(t->profile, name);
    EXPECT_GE(t->ttl, 20);
    EXPECT_LE(t->loop_wait + 2 * t->retry_timeout, t->ttl);
    EXPECT_LT(t->check_inter_ms + (t->check_fall - 1) * t->check_fastinter_ms, t->ttl * 1000);
  }
  EXPECT_FALSE(timing_profile("turbo"));
  EXPECT_EQ(timing_profile("safe")->primary_start_timeout, 300);
}

}  // namespace
}  // namespace pgha
