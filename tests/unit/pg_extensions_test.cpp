// databases[].extensions: the extension table, validate's refusals, the merged
// shared_preload_libraries, and what the plan does for a new extension (package, preload and
// restart, CREATE EXTENSION), for one that exists (nothing) and for one the inventory dropped
// (a warning, no DROP). compute_plan() is pure: each case is an observed state in, a plan out.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/inventory_parse.hpp"
#include "core/pg_extensions.hpp"
#include "core/pg_settings.hpp"
#include "core/validate.hpp"
#include "fakes/fake_shell.hpp"
#include "roles/catalog.hpp"
#include "roles/engine.hpp"
#include "roles/plan.hpp"

namespace pgha {
namespace {

TEST(PgExtensions, TableLookups) {
  const PgExtension* pss = find_pg_extension("pg_stat_statements");
  ASSERT_NE(pss, nullptr);
  EXPECT_EQ(pss->package(15), "");  // contrib: postgresql-15 ships it
  EXPECT_EQ(pss->preload, "pg_stat_statements");
  EXPECT_TRUE(pss->available_for(15));
  const PgExtension* crypto = find_pg_extension("pgcrypto");
  ASSERT_NE(crypto, nullptr);
  EXPECT_EQ(crypto->package(15), "");
  EXPECT_EQ(crypto->preload, "");
  const PgExtension* audit = find_pg_extension("pgaudit");
  ASSERT_NE(audit, nullptr);
  EXPECT_EQ(audit->package(15), "postgresql-15-pgaudit");
  EXPECT_EQ(audit->preload, "pgaudit");
  const PgExtension* vector = find_pg_extension("vector");
  ASSERT_NE(vector, nullptr);
  EXPECT_FALSE(vector->available_for(15));
  EXPECT_TRUE(vector->available_for(17));
  EXPECT_EQ(vector->package(17), "postgresql-17-pgvector");
  EXPECT_EQ(pg_extension_refusal(*vector, 15),
            "extension 'vector' is not available for PostgreSQL 15: Debian 12 has no postgresql-15-pgvector "
            "package; it is packaged for PostgreSQL 17 (postgresql-17-pgvector, Debian 13)");
  EXPECT_EQ(pg_extension_refusal(*vector, 17), "");
  EXPECT_EQ(find_pg_extension("pg_stat_statement"), nullptr);
  EXPECT_EQ(find_pg_extension(""), nullptr);
  // Every name is one CREATE EXTENSION takes unquoted or as a plain identifier, each once.
  auto names = pg_extension_names();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
  for (const auto& n : names)
    EXPECT_EQ(n.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-"), std::string::npos);
}

Inventory with_extensions(std::vector<std::vector<std::string>> per_database) {
  Inventory inv;
  inv.cluster_name = "c";
  for (size_t i = 0; i < per_database.size(); ++i)
    inv.databases.push_back(Database{"db" + std::to_string(i + 1), "", per_database[i]});
  return inv;
}

TEST(PgExtensions, PackagesAndPreloadsFromTheInventory) {
  Inventory inv = with_extensions({{"pgaudit", "pg_stat_statements", "pgcrypto"}, {"pg_repack", "pgaudit"}});
  EXPECT_EQ(extension_packages(inv),
            (std::vector<std::string>{"postgresql-15-pgaudit", "postgresql-15-repack"}));
  EXPECT_EQ(extension_preloads(inv), (std::vector<std::string>{"pgaudit", "pg_stat_statements"}));
  EXPECT_TRUE(extension_packages(with_extensions({{"pg_stat_statements"}})).empty());
}

TEST(PgExtensions, PreloadMergesWithTheUsersList) {
  EXPECT_EQ(merge_preload_libraries("", {"pg_stat_statements"}), "pg_stat_statements");
  EXPECT_EQ(merge_preload_libraries("auto_explain", {"pg_stat_statements"}),
            "auto_explain,pg_stat_statements");
  EXPECT_EQ(merge_preload_libraries(" pg_stat_statements , auto_explain", {"pg_stat_statements", "pgaudit"}),
            "pg_stat_statements,auto_explain,pgaudit");
  Inventory inv = with_extensions({{"pg_stat_statements"}});
  inv.pg_parameters = {{"shared_preload_libraries", "auto_explain"}};
  EXPECT_EQ(dcs_parameters(inv).at("shared_preload_libraries"), "auto_explain,pg_stat_statements");
  EXPECT_FALSE(dcs_parameters(with_extensions({{"pgcrypto"}})).count("shared_preload_libraries"));
}

// The errors only: a one-node inventory also draws warnings that are not this file's concern.
std::vector<Diagnostic> errors_of(std::vector<Diagnostic> all) {
  std::vector<Diagnostic> out;
  for (auto& d : all) {
    if (d.severity == Severity::error) out.push_back(std::move(d));
  }
  return out;
}

std::vector<Diagnostic> check(const std::string& extra) {
  const std::string text =
      "cluster:\n  name: pgha-test\nprovider:\n  type: docker\nnetwork:\n  subnet: 10.42.0.0/24\n  vip: "
      "10.42.0.100\n"
      "nodes:\n  - name: pg1\n    address: 10.42.0.11\n" +
      extra;
  auto out = parse_inventory(text, "inv.yml", [](const std::string&) { return std::nullopt; });
  EXPECT_TRUE(out.inventory) << text;
  if (out.inventory) {
    auto more = validate_inventory(*out.inventory);
    out.diagnostics.insert(out.diagnostics.end(), more.begin(), more.end());
  }
  return errors_of(out.diagnostics);
}

TEST(PgExtensions, ValidateAcceptsKnownOnes) {
  auto d = check("databases:\n  - name: app\n    extensions: [pg_stat_statements, pgcrypto, pgaudit]\n");
  EXPECT_FALSE(has_errors(d)) << (d.empty() ? "" : d[0].message);
}

TEST(PgExtensions, ValidateRefusesUnknownWithDidYouMean) {
  auto d = check("databases:\n  - name: app\n    extensions: [pgcrypto, pg_stat_statement]\n");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].at.line, 13);
  EXPECT_EQ(d[0].at.col, 28);
  EXPECT_EQ(d[0].message,
            "unknown extension 'pg_stat_statement' in databases[0].extensions; did you mean "
            "'pg_stat_statements'?");
}

TEST(PgExtensions, ValidateRefusesVectorOnPostgres15) {
  auto d = check("databases:\n  - name: app\n    extensions:\n      - vector\n");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].at.line, 14);
  EXPECT_NE(d[0].message.find("no postgresql-15-pgvector"), std::string::npos) << d[0].message;
}

TEST(PgExtensions, ValidateRefusesATwiceListedOneAndANodesOwnPreload) {
  auto d = check(
      "databases:\n  - name: app\n    extensions: [pgcrypto, pgcrypto]\n"
      "  - name: b\n    extensions: [pg_stat_statements]\n");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].message, "extension 'pgcrypto' is listed twice in databases[0].extensions");
  const std::string node_preload =
      "cluster:\n  name: pgha-test\nprovider:\n  type: docker\nnetwork:\n  subnet: 10.42.0.0/24\n  vip: "
      "10.42.0.100\n"
      "nodes:\n  - name: pg1\n    address: 10.42.0.11\n    postgresql:\n      parameters:\n"
      "        shared_preload_libraries: auto_explain\n"
      "databases:\n  - name: app\n    extensions: [pg_stat_statements]\n";
  auto out = parse_inventory(node_preload, "inv.yml", [](const std::string&) { return std::nullopt; });
  ASSERT_TRUE(out.inventory);
  auto v = errors_of(validate_inventory(*out.inventory));
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].at.line, 13);
  EXPECT_NE(v[0].message.find("would replace on this node the libraries the extensions need preloaded "
                              "(pg_stat_statements)"),
            std::string::npos)
      << v[0].message;
}

// A running 3-node cluster, converged: pg1 the leader; its databases' extensions as `have`.
struct Cluster {
  Inventory inv;
  PlanInput in{inv, {}, {}, false};
  explicit Cluster(std::vector<std::string> wanted, std::set<std::string> have = {"plpgsql"}) {
    inv.cluster_name = "c";
    const nlohmann::json before = dcs_config_patch(inv, nlohmann::json::object());
    inv.databases.push_back(Database{"app", "", std::move(wanted)});
    for (int i = 1; i <= 3; ++i) {
      Node n;
      n.name = "pg" + std::to_string(i);
      n.address = "10.0.0." + std::to_string(10 + i);
      n.roles = {Role::etcd, Role::patroni};
      inv.nodes.push_back(n);
    }
    for (const auto& n : inv.nodes) {
      PlanNode p{n, false, Machine{n.name, n.address, 22, "root", "id" + n.name, true}, {}, {}};
      p.seen.valid = true;
      p.seen.system_state = "running";
      p.seen.patroni_fixed = true;
      p.seen.etcd_data = true;
      for (const auto& pkg : node_packages(n, 15)) p.seen.installed.insert(pkg);
      for (const auto& spec : role_catalog()) {
        if (!has_role(n, spec.role)) continue;
        for (const auto& u : spec.units) p.seen.units[u] = UnitState{true, true};
      }
      in.nodes.push_back(std::move(p));
      in.view.etcd.push_back(EtcdMember{100u + in.view.etcd.size(), n.name, etcd_peer_url(inv, n),
                                        "http://" + n.address + ":2379", false, true});
      in.view.member_keys[n.name] = 1;
    }
    in.view.etcd_answered = true;
    PatroniCluster c;
    for (const char* name : {"pg1", "pg2", "pg3"}) {
      PatroniMember m;
      m.name = name;
      m.role = std::string(name) == "pg1" ? "leader" : "replica";
      m.state = "running";
      m.timeline = 1;
      c.members.push_back(m);
    }
    in.view.patroni = c;
    in.view.sql_known = true;
    in.view.sql_databases = {"postgres", "app"};
    in.view.sql_extensions["app"] = std::move(have);
    in.view.dcs_config = before;  // the configuration before any extension
  }
  // Everything the inventory's extensions need is in place: packages, preload, the extensions.
  void converged() {
    for (auto& n : in.nodes) {
      for (const auto& p : extension_packages(inv)) n.seen.installed.insert(p);
    }
    in.view.dcs_config = dcs_config_patch(inv, nlohmann::json::object());
    for (const auto& e : inv.databases[0].extensions) in.view.sql_extensions["app"].insert(e);
  }
};

std::vector<std::string> keys(const Plan& p) {
  std::vector<std::string> out;
  for (const auto& c : p.changes) out.push_back(change_key(c));
  return out;
}

TEST(PgExtensionsPlan, ANewExtensionGetsItsPackagePreloadRestartAndCreate) {
  Cluster f({"pgaudit", "pgcrypto"});
  Plan p = compute_plan(f.in);
  EXPECT_EQ(keys(p),
            (std::vector<std::string>{
                "pg_package pg1 postgresql-15-pgaudit",
                "pg_package pg2 postgresql-15-pgaudit",
                "pg_package pg3 postgresql-15-pgaudit",
                "dcs_patch c {\"postgresql\":{\"parameters\":{\"shared_preload_libraries\":\"pgaudit\"}}}",
                "pg_parameter c shared_preload_libraries",
                "pg_restart c",
                "pg_extension c app.pgaudit",
                "pg_extension c app.pgcrypto",
            }));
  EXPECT_EQ(p.changes[4].summary, "set shared_preload_libraries = pgaudit: needs a restart");
  EXPECT_EQ(p.changes[6].summary, "CREATE EXTENSION IF NOT EXISTS pgaudit in database app on the leader");
  EXPECT_TRUE(p.warnings.empty());
}

TEST(PgExtensionsPlan, AContribExtensionNeedsNoPackage) {
  Cluster f({"pg_stat_statements"});
  Plan p = compute_plan(f.in);
  EXPECT_FALSE(p.has(ChangeKind::pg_package));
  EXPECT_TRUE(p.has(ChangeKind::pg_restart));
  EXPECT_TRUE(p.has(ChangeKind::pg_extension));
}

TEST(PgExtensionsPlan, ANodeNotObservedYetIsPlannedWithThePackage) {
  Cluster f({"pg_repack"});
  f.converged();
  f.in.nodes[2].seen = NodeObservation{};
  f.in.nodes[2].machine.reset();
  Plan p = compute_plan(f.in);
  int packages = 0;
  for (const auto& c : p.changes) packages += c.kind == ChangeKind::pg_package;
  EXPECT_EQ(packages, 1);
  auto k = keys(p);
  EXPECT_NE(std::find(k.begin(), k.end(), "pg_package pg3 postgresql-15-repack"), k.end());
}

TEST(PgExtensionsPlan, NothingWhenEverythingExists) {
  Cluster f({"pgaudit", "pg_stat_statements", "pgcrypto"});
  f.converged();
  Plan p = compute_plan(f.in);
  EXPECT_TRUE(p.empty()) << format_plan(p, {});
  EXPECT_TRUE(p.warnings.empty());
}

TEST(PgExtensionsPlan, ARemovedExtensionIsLeftWithAWarning) {
  Cluster f({"pgcrypto"}, {"plpgsql", "pgcrypto", "hstore"});
  f.converged();
  Plan p = compute_plan(f.in);
  EXPECT_TRUE(p.empty()) << format_plan(p, {});
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_EQ(p.warnings[0],
            "extension hstore in database app is not in the inventory: it is left installed (dropping an "
            "extension can drop the data that uses it; DROP EXTENSION by hand if that is meant)");
}

TEST(PgExtensionsPlan, ADatabaseNotCreatedYetGetsEveryExtension) {
  Cluster f({"pgcrypto", "citext"});
  f.in.view.sql_extensions.clear();
  f.in.view.sql_databases = {"postgres"};
  Plan p = compute_plan(f.in);
  EXPECT_TRUE(p.has(ChangeKind::sql_objects));
  auto k = keys(p);
  EXPECT_NE(std::find(k.begin(), k.end(), "pg_extension c app.citext"), k.end());
  EXPECT_NE(std::find(k.begin(), k.end(), "pg_extension c app.pgcrypto"), k.end());
}

TEST(PgExtensionsSql, OnlyTableNamesQuotedUnderGexec) {
  EXPECT_EQ(create_extensions_sql({"uuid-ossp"}),
            "SELECT 'CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\"', 'SELECT ''created uuid-ossp''' WHERE NOT "
            "EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'uuid-ossp')\\gexec\n");
  EXPECT_EQ(create_extensions_sql({"x\"; DROP TABLE t; --", "nope"}), "");
}

// converge_extensions on the leader: one psql per database with extensions, the database as a quoted
// conninfo, the SQL on stdin; what psql reports created becomes the pg_extension changes.
TEST(PgExtensionsUp, CreatesOnTheLeaderPerDatabaseAndReportsWhatItCreated) {
  Inventory inv;
  inv.cluster_name = "c";
  Node node;
  node.name = "pg1";
  node.roles = {Role::patroni};
  inv.nodes = {node};
  inv.databases = {Database{"app", "", {"pgcrypto", "citext"}}, Database{"plain", "", {}},
                   Database{"o'db", "", {"hstore"}}};
  ResolvedSecrets secrets;
  auto progress = make_progress(std::cerr, ProgressStyle::quiet);
  std::vector<NodeHandle> nodes(1);
  nodes[0].node = &inv.nodes[0];
  auto fake = std::make_unique<testing::FakeShell>("pg1");
  testing::FakeShell* shell = fake.get();
  nodes[0].shell = std::move(fake);
  shell->on("dbname='\\''app", CommandResult{0, "created citext\n", ""});
  shell->on("psql", CommandResult{0, "", ""});
  EngineContext ctx{inv, secrets, *progress, nodes, GateTimeouts{}};
  ctx.leader = &nodes[0];
  ASSERT_TRUE(converge_extensions(ctx).ok());
  ASSERT_EQ(shell->commands.size(), 2u);
  EXPECT_NE(shell->commands[0].find("-d 'dbname='\\''app'\\'''"), std::string::npos) << shell->commands[0];
  EXPECT_EQ(shell->stdins[0], create_extensions_sql({"pgcrypto", "citext"}));
  EXPECT_NE(shell->commands[1].find("o\\'\\''db"), std::string::npos) << shell->commands[1];
  ASSERT_EQ(ctx.cluster_actions.size(), 1u);
  EXPECT_EQ(change_key(ctx.cluster_actions[0]), "pg_extension c app.citext");
}

}  // namespace
}  // namespace pgha
