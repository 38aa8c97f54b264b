// converge_sql_objects: the SQL it sends for users and databases, read as text, and run by a real
// PostgreSQL when one is installed here (Debian's postgresql-15; skipped otherwise).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fakes/fake_shell.hpp"
#include "roles/engine.hpp"

namespace pgha {
namespace {

using testing::FakeShell;
namespace fs = std::filesystem;

const char* kHostilePassword = "$pgha$ x'\"\\;`$(touch /tmp/pgha-sql-objects-pwned)";

RoleOption option(const char* text) {
  std::string why;
  return *parse_role_option(text, &why);
}

struct Fixture {
  Inventory inv;
  ResolvedSecrets secrets;
  std::unique_ptr<Progress> progress = make_progress(std::cerr, ProgressStyle::quiet);
  std::vector<NodeHandle> nodes;
  FakeShell* shell = nullptr;

  Fixture() {
    Node node;
    node.name = "pg1";
    node.address = "10.0.0.11";
    node.roles = {Role::patroni};
    inv.nodes = {node};
    inv.users = {
        User{"app", "", {option("LOGIN"), option("CONNECTION LIMIT 7"), option("VALID UNTIL 2031-02-03")}},
        User{"we\"ird$pgha$", "", {option("NOLOGIN"), option("CREATEDB")}}};
    inv.databases = {Database{"app", "app"}, Database{"d\"b\\x", "we\"ird$pgha$"}};
    secrets.user_passwords = {{"app", kHostilePassword}, {"we\"ird$pgha$", "plain-Secret-42"}};
    NodeHandle h;
    h.node = &inv.nodes[0];
    auto fake = std::make_unique<FakeShell>("pg1");
    shell = fake.get();
    h.shell = std::move(fake);
    nodes.push_back(std::move(h));
  }
  // The SQL converge_sql_objects sends to the leader's psql.
  std::string sql(const std::string& answer = "") {
    shell->on("psql", CommandResult{0, answer, ""});
    EngineContext ctx{inv, secrets, *progress, nodes, GateTimeouts{}};
    ctx.leader = &nodes[0];
    EXPECT_TRUE(converge_sql_objects(ctx).ok());
    actions = ctx.cluster_actions.size();
    EXPECT_EQ(shell->stdins.size(), 1u);
    return shell->stdins.empty() ? "" : shell->stdins.back();
  }
  size_t actions = 0;
};

TEST(SqlObjects, NoPlaintextPasswordAndNoDollarQuotedBlock) {
  Fixture f;
  std::string sql = f.sql();
  EXPECT_EQ(sql.find("plain-Secret-42"), std::string::npos) << sql;
  EXPECT_EQ(sql.find("touch /tmp"), std::string::npos) << sql;
  EXPECT_EQ(sql.find(" DO "), std::string::npos) << sql;
  size_t verifiers = 0;
  for (size_t at = sql.find("SCRAM-SHA-256$4096:"); at != std::string::npos;
       at = sql.find("SCRAM-SHA-256$4096:", at + 1))
    ++verifiers;
  EXPECT_EQ(verifiers, 6u) << sql;  // per user: CREATE ROLE, ALTER ROLE, and the check whether it changed
  std::istringstream lines(sql);
  size_t n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    EXPECT_EQ(line.rfind("SELECT ", 0), 0u) << line;
    EXPECT_EQ(line.substr(line.size() - 6), "\\gexec") << line;
  }
  EXPECT_EQ(n, 6u);          // per user a CREATE and an ALTER, per database a CREATE
  EXPECT_EQ(f.actions, 0u);  // psql printed nothing: nothing was missing
}

TEST(SqlObjects, CreatedIsReported) {
  Fixture f;
  f.sql("created\n");
  EXPECT_EQ(f.actions, 1u);
}

// Runs the SQL with psql against a throw-away PostgreSQL, as converge_sql_objects has the leader do.
class RealPostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (runs PostgreSQL as postgres)";
    if (!fs::exists(kBin + "/initdb") || std::system("id postgres >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "PostgreSQL 15 is not installed";
    char tmpl[] = "/tmp/pgha-sql-objects-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    fs::permissions(dir_, fs::perms::all);
    std::string d = dir_.string();
    ASSERT_EQ(
        sh("runuser -u postgres -- " + kBin + "/initdb -D " + d + "/data -A trust -U postgres >/dev/null"),
        0);
    std::ofstream(dir_ / "data" / "pg_hba.conf") << "local all postgres trust\nlocal all all scram-sha-256\n";
    ASSERT_EQ(
        sh("runuser -u postgres -- " + kBin + "/pg_ctl -D " + d + "/data -w -l " + d +
           "/log -o \"-c listen_addresses='' -k " + d + " -p 5499 -c log_statement=all\" start >/dev/null"),
        0);
    started_ = true;
  }
  void TearDown() override {
    if (started_)
      sh("runuser -u postgres -- " + kBin + "/pg_ctl -D " + dir_.string() + "/data -m fast stop >/dev/null");
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  static int sh(const std::string& cmd) { return std::system(("bash -c " + quote(cmd)).c_str()); }
  static std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  }
  std::string psql(const std::string& user, const std::string& password, const std::string& sql) {
    fs::path out = dir_ / "out";
    std::ofstream(dir_ / "in.sql") << sql;
    std::string cmd = "PGPASSWORD=" + quote(password) + " psql -X -q -v ON_ERROR_STOP=1 -tA -h " +
                      dir_.string() + " -p 5499 -U " + quote(user) + " -d postgres -f " +
                      (dir_ / "in.sql").string() + " > " + out.string() + " 2>&1";
    int rc = sh(cmd);
    std::ifstream in(out);
    std::stringstream ss;
    ss << in.rdbuf();
    return (rc == 0 ? "" : "FAILED: ") + ss.str();
  }
  const std::string kBin = "/usr/lib/postgresql/15/bin";
  fs::path dir_;
  bool started_ = false;
};

TEST_F(RealPostgres, RolesAndDatabasesExistAsIntendedAndNoPasswordIsLogged) {
  Fixture f;
  std::string sql = f.sql();
  EXPECT_EQ(psql("postgres", "", sql), "created\ncreated\ncreated\ncreated\n");
  EXPECT_EQ(psql("postgres", "", sql), "");  // a second run creates nothing
  EXPECT_EQ(
      psql("postgres", "",
           "SELECT rolname, rolcanlogin, rolcreatedb, rolconnlimit, rolvaliduntil::date, "
           "left(rolpassword, 19) FROM pg_authid WHERE rolname IN ('app', 'we\"ird$pgha$') ORDER BY 1;\n"
           "SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname IN ('app', E'd\"b\\\\x') "
           "ORDER BY 1;\n"),
      "app|t|f|7|2031-02-03|SCRAM-SHA-256$4096:\n"
      "we\"ird$pgha$|f|t|-1||SCRAM-SHA-256$4096:\n"
      "app|app\n"
      "d\"b\\x|we\"ird$pgha$\n");
  EXPECT_EQ(psql("app", kHostilePassword, "SELECT current_user;"), "app\n");
  EXPECT_NE(psql("app", "wrong", "SELECT 1;").rfind("FAILED: ", 0), std::string::npos);
  EXPECT_FALSE(fs::exists("/tmp/pgha-sql-objects-pwned"));
  std::ifstream log(dir_ / "log");
  std::stringstream ss;
  ss << log.rdbuf();
  EXPECT_NE(ss.str().find("CREATE ROLE"), std::string::npos) << "log_statement=all logs the statements";
  EXPECT_EQ(ss.str().find("plain-Secret-42"), std::string::npos);
  EXPECT_EQ(ss.str().find("touch /tmp/pgha-sql-objects-pwned"), std::string::npos);
}

}  // namespace
}  // namespace pgha
