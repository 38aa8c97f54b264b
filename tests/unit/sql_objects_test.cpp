// converge_sql_objects: the SQL it sends for users and databases, read as text, and run by a real
// PostgreSQL when one is installed here (Debian's postgresql-15; skipped otherwise).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/pgbouncer_auth.hpp"
#include "core/render.hpp"
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
    const size_t before = shell->stdins.size();
    EXPECT_TRUE(converge_sql_objects(ctx).ok());
    actions = ctx.cluster_actions.size();
    EXPECT_EQ(shell->stdins.size(), before + 1);
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
  // The users step's whole command (several psql, as the leader runs them) with its SQL on stdin,
  // against this server.
  std::string run_step(Fixture& f) {
    const std::string sql = f.sql();
    std::ofstream(dir_ / "step.sql") << sql;
    fs::path out = dir_ / "step.out";
    int rc = sh("export PGHOST=" + dir_.string() + " PGPORT=5499; { " + f.shell->commands.back() + "; } < " +
                (dir_ / "step.sql").string() + " > " + out.string() + " 2>&1");
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

namespace pgha {
namespace {

// A role whose password and options change in the inventory is altered on the next run, and only it.
TEST_F(RealPostgres, AChangedPasswordOrOptionIsConverged) {
  Fixture f;
  ASSERT_EQ(psql("postgres", "", f.sql()), "created\ncreated\ncreated\ncreated\n");
  f.secrets.user_passwords["app"] = "new-Secret-9";
  f.inv.users[0].options = {option("LOGIN"), option("CONNECTION LIMIT 9"), option("VALID UNTIL 2031-02-03")};
  const std::string sql = f.sql();
  EXPECT_EQ(sql.find("new-Secret-9"), std::string::npos);
  EXPECT_EQ(psql("postgres", "", sql), "altered\n");
  EXPECT_EQ(psql("postgres", "", sql), "");  // converged: nothing more to alter
  EXPECT_EQ(psql("app", "new-Secret-9", "SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user;"),
            "9\n");
  EXPECT_NE(psql("app", kHostilePassword, "SELECT 1;").rfind("FAILED: ", 0), std::string::npos);
}

// PgBouncer on the files pgha renders, in front of this PostgreSQL (its [databases] line pointed at
// the test's socket): an application user logs in with its own password through auth_query, the
// superuser and the replication role are refused, and the lookup role can do nothing but look up.
TEST_F(RealPostgres, PgBouncerLogsUsersInThroughAuthQueryAndRefusesSuperusers) {
  if (!fs::exists("/usr/sbin/pgbouncer")) GTEST_SKIP() << "pgbouncer is not installed";
  Fixture f;
  f.inv.nodes[0].roles = {Role::patroni, Role::haproxy, Role::pgbouncer};
  f.inv.nodes[0].address = "127.0.0.1";
  f.secrets.admin_password = "adm'in\"pw";
  f.secrets.superuser_password = "su-pw";
  EXPECT_EQ(run_step(f), "created\ncreated\ncreated\ncreated\ncreated\n");
  EXPECT_EQ(run_step(f), "");  // nothing to create or alter the second time
  EXPECT_EQ(psql("postgres", "",
                 "CREATE ROLE replicator REPLICATION LOGIN PASSWORD 'repl-pw';"
                 "ALTER ROLE postgres PASSWORD 'su-pw';"),
            "");
  auto templates = embedded_template_source();
  auto files = render_node(f.inv, f.inv.nodes[0], f.secrets, *templates);
  ASSERT_TRUE(files.ok());
  std::string ini, userlist;
  for (const auto& file : *files) {
    if (file.path == "/etc/pgbouncer/pgbouncer.ini") ini = file.content;
    if (file.path == "/etc/pgbouncer/userlist.txt") userlist = file.content;
  }
  ASSERT_FALSE(ini.empty());
  EXPECT_EQ(userlist.find("su-pw"), std::string::npos);
  EXPECT_EQ(userlist.find(kHostilePassword), std::string::npos);
  EXPECT_EQ(userlist.find("adm'in"), std::string::npos);
  const std::string d = dir_.string();
  const int port = 6499;
  std::istringstream in(ini);
  std::ofstream out(dir_ / "pgbouncer.ini");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("* = ", 0) == 0) line = "* = host=" + d + " port=5499";
    if (line.rfind("listen_addr", 0) == 0) line = "listen_addr = 127.0.0.1";
    if (line.rfind("listen_port", 0) == 0) line = "listen_port = " + std::to_string(port);
    if (line.rfind("unix_socket_dir", 0) == 0) line = "unix_socket_dir = " + d;
    if (line.rfind("logfile", 0) == 0) line = "logfile = " + d + "/pgbouncer.log";
    if (line.rfind("pidfile", 0) == 0) line = "pidfile = " + d + "/pgbouncer.pid";
    if (line.rfind("auth_file", 0) == 0) line = "auth_file = " + d + "/userlist.txt";
    if (line.rfind("query_wait_timeout", 0) == 0) continue;
    out << line << "\n";
    if (line == "[pgbouncer]") out << "query_wait_timeout = 5\n";
  }
  out.close();
  std::ofstream(dir_ / "userlist.txt") << userlist;
  ASSERT_EQ(sh("chown postgres " + d + "/pgbouncer.ini " + d +
               "/userlist.txt && runuser -u postgres -- "
               "pgbouncer -d " +
               d + "/pgbouncer.ini"),
            0);
  auto through = [&](const std::string& user, const std::string& password, const std::string& sql,
                     const std::string& db = "postgres") {
    std::ofstream(dir_ / "q.sql") << sql;
    const std::string o = (dir_ / "q.out").string();
    int rc =
        sh("PGPASSWORD=" + quote(password) +
           " PGCONNECT_TIMEOUT=5 psql -X -q -v ON_ERROR_STOP=1 -tA -h 127.0.0.1 -p " + std::to_string(port) +
           " -U " + quote(user) + " -d " + quote(db) + " -f " + d + "/q.sql > " + o + " 2>&1");
    std::ifstream r(o);
    std::stringstream ss;
    ss << r.rdbuf();
    return (rc == 0 ? "" : "FAILED: ") + ss.str();
  };
  std::string got;
  for (int i = 0; i < 50; ++i) {  // PgBouncer daemonizes before it listens
    got = through("app", kHostilePassword, "SELECT current_user;");
    if (got == "app\n") break;
    ::usleep(100000);
  }
  EXPECT_EQ(got, "app\n");
  EXPECT_EQ(through("app", "wrong", "SELECT 1;").rfind("FAILED: ", 0), 0u);
  // In a database pgha created (auth_query runs in the database the client asks for).
  EXPECT_EQ(through("app", kHostilePassword, "SELECT current_database();", "app"), "app\n")
      << psql("postgres", "", "\\c app\n\\df pgha_pgbouncer.*\n")
      << sh("tail -5 " + d + "/pgbouncer.log >&2");
  // And in the database with a quote and a backslash in its name.
  std::ofstream(dir_ / "count.sql") << "SELECT count(*) FROM pg_proc WHERE proname = 'lookup';\n";
  EXPECT_EQ(sh("export PGHOST=" + d +
               " PGPORT=5499; [ \"$(psql -X -tA -U postgres -d \"dbname='d\\\"b\\\\\\\\x'\" -f " + d +
               "/count.sql)\" = 1 ]"),
            0);
  EXPECT_EQ(through("postgres", "su-pw", "SELECT 1;").rfind("FAILED: ", 0), 0u);
  EXPECT_EQ(through("replicator", "repl-pw", "SELECT 1;").rfind("FAILED: ", 0), 0u);
  const std::string lookup = pgbouncer_lookup_password(f.secrets);
  EXPECT_EQ(through("pgha_pgbouncer", lookup, "SELECT pg_is_in_recovery();"), "f\n");
  // The lookup role reads verifiers only through the function, and not the superuser's.
  EXPECT_EQ(through("pgha_pgbouncer", lookup, "SELECT count(*) FROM pgha_pgbouncer.lookup('postgres');"),
            "0\n");
  EXPECT_EQ(through("pgha_pgbouncer", lookup, "SELECT rolpassword FROM pg_authid;").rfind("FAILED: ", 0), 0u);
  sh("kill $(cat " + d + "/pgbouncer.pid)");
  std::ifstream log(dir_ / "pgbouncer.log");
  std::stringstream ss;
  ss << log.rdbuf();
  EXPECT_EQ(ss.str().find("plain-Secret-42"), std::string::npos);
  EXPECT_EQ(ss.str().find("su-pw"), std::string::npos);
}

}  // namespace
}  // namespace pgha

namespace pgha {
namespace {

// databases[].extensions: the SQL converge_extensions sends creates each missing one once, and a
// second run creates nothing (contrib comes with Debian's postgresql-15).
TEST_F(RealPostgres, ExtensionsAreCreatedOnce) {
  const std::string sql = create_extensions_sql({"pgcrypto", "pg_stat_statements", "uuid-ossp"});
  EXPECT_EQ(psql("postgres", "", sql), "created pgcrypto\ncreated pg_stat_statements\ncreated uuid-ossp\n");
  EXPECT_EQ(psql("postgres", "", sql), "");
  EXPECT_EQ(psql("postgres", "", "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1;"),
            "pg_stat_statements\npgcrypto\nuuid-ossp\n");
}

}  // namespace
}  // namespace pgha
