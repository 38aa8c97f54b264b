// After Patroni: SQL users and databases, PgBouncer, HAProxy, keepalived, pgBackRest — each to its gate.
#include <nlohmann/json.hpp>

#include "core/pgbouncer_auth.hpp"
#include "core/scram.hpp"
#include "core/sql_quote.hpp"
#include "roles/engine.hpp"
#include "roles/parallel.hpp"
#include "roles/remote.hpp"

namespace pgha {
namespace {

// How often a gate looks again. Each look is one SSH round trip (tens of ms).
constexpr std::chrono::milliseconds kGatePoll(250);

// Runs `statement` (already quoted) unless `exists` (a query returning a row) finds the object; then
// prints "created". Both are passed to psql's \gexec as literals, so the values inside them are data
// to the server's lexer, never psql meta-commands or the end of a block.
std::string create_unless(const std::string& statement, const std::string& exists) {
  return "SELECT " + quote_literal(statement) + ", " + quote_literal("SELECT 'created'") +
         " WHERE NOT EXISTS (" + exists + ")\\gexec\n";
}

// Whether a pg_authid row already has `option` (the columns CREATE ROLE sets).
std::string has_option(const RoleOption& o) {
  switch (o.attribute) {
    case RoleAttribute::superuser: return "rolsuper";
    case RoleAttribute::nosuperuser: return "NOT rolsuper";
    case RoleAttribute::createdb: return "rolcreatedb";
    case RoleAttribute::nocreatedb: return "NOT rolcreatedb";
    case RoleAttribute::createrole: return "rolcreaterole";
    case RoleAttribute::nocreaterole: return "NOT rolcreaterole";
    case RoleAttribute::inherit: return "rolinherit";
    case RoleAttribute::noinherit: return "NOT rolinherit";
    case RoleAttribute::login: return "rolcanlogin";
    case RoleAttribute::nologin: return "NOT rolcanlogin";
    case RoleAttribute::replication: return "rolreplication";
    case RoleAttribute::noreplication: return "NOT rolreplication";
    case RoleAttribute::bypassrls: return "rolbypassrls";
    case RoleAttribute::nobypassrls: return "NOT rolbypassrls";
    case RoleAttribute::connection_limit: return "rolconnlimit = " + std::to_string(o.connection_limit);
    case RoleAttribute::valid_until:
      return "rolvaliduntil IS NOT DISTINCT FROM " + quote_literal(o.valid_until) + "::timestamptz";
  }
  return "false";
}

// A role as the inventory describes it: CREATE ROLE when missing; ALTER ROLE when it exists but one of
// its options or its verifier differs (printing "altered"). The options are the ones parsed at the
// inventory; the password goes as a SCRAM verifier whose salt is derived (stable_scram_verifier), so
// the server stores it as given, no plaintext reaches any statement, log or pg_stat_activity, and
// comparing it with pg_authid tells whether the password changed. An option removed from the
// inventory is not reset: ALTER ROLE sets only what is listed.
std::string converge_role_sql(const std::string& name, const std::vector<RoleOption>& given,
                              const std::string& verifier) {
  std::vector<RoleOption> options = given;
  if (options.empty()) options.push_back(RoleOption{RoleAttribute::login});
  std::string attributes;
  std::string current = "rolpassword = " + quote_literal(verifier);
  for (const auto& o : options) {
    attributes += " " + to_sql(o);
    current += " AND " + has_option(o);
  }
  attributes += " PASSWORD " + quote_literal(verifier);
  const std::string exists = "SELECT FROM pg_catalog.pg_authid WHERE rolname = " + quote_literal(name);
  return create_unless("CREATE ROLE " + quote_ident(name) + attributes, exists) + "SELECT " +
         quote_literal("ALTER ROLE " + quote_ident(name) + attributes) + ", " +
         quote_literal("SELECT 'altered'") + " WHERE EXISTS (" + exists + " AND NOT (" + current +
         "))\\gexec\n";
}

std::string create_database_sql(const Database& d) {
  std::string statement = "CREATE DATABASE " + quote_ident(d.name);
  if (!d.owner.empty()) statement += " OWNER " + quote_ident(d.owner);
  return create_unless(statement, "SELECT FROM pg_database WHERE datname = " + quote_literal(d.name));
}

enum class GateUser { superuser, pgbouncer_lookup };

// PgBouncer refuses superusers (its auth_query returns no verifier for them), so its gate logs in as
// the lookup role, whose password PgBouncer holds.
Status gate_query(EngineContext& ctx, NodeHandle& from, const std::string& what, const std::string& host,
                  int port, const std::string& sql, const std::string& expect,
                  GateUser as = GateUser::superuser) {
  const bool lookup = as == GateUser::pgbouncer_lookup;
  const std::string user = lookup ? kPgbouncerLookupRole : "postgres";
  const std::string password =
      lookup ? pgbouncer_lookup_password(ctx.secrets) : ctx.secrets.superuser_password;
  return poll_until(what, std::chrono::seconds(ctx.timeouts.service_s), kGatePoll, [&](std::string& why) {
    auto r = query_tcp(from, "gate", host, port, password, sql, user);
    if (!r) {
      why = r.error().message;
      return false;
    }
    if (trim(r->out) != expect) {
      why = "answered '" + trim(r->out) + "', expected '" + expect + "'";
      return false;
    }
    return true;
  });
}

// The users step as one shell command and the SQL on its stdin. The roles and databases go through one
// psql (values quoted in the SQL, the verifiers on stdin only). With PgBouncer, the lookup function
// then goes into template1 (so a database created later has it), postgres and every inventory
// database, each by its own psql -c: that SQL is constant, and the database name reaches psql as one
// shell-quoted conninfo.
struct SqlObjectsCommand {
  std::string command;
  std::string sql;
};

SqlObjectsCommand sql_objects_command(const Inventory& inv, const ResolvedSecrets& secrets) {
  const bool pooled = !inv.nodes_with(Role::pgbouncer).empty();
  SqlObjectsCommand out;
  if (pooled)
    out.sql += converge_role_sql(kPgbouncerLookupRole, {RoleOption{RoleAttribute::login}},
                                 stable_scram_verifier(secrets.admin_password, kPgbouncerLookupRole,
                                                       pgbouncer_lookup_password(secrets)));
  for (const auto& u : inv.users)
    out.sql += converge_role_sql(
        u.name, u.options,
        stable_scram_verifier(secrets.admin_password, u.name, secrets.user_passwords.at(u.name)));
  for (const auto& d : inv.databases) out.sql += create_database_sql(d);
  if (out.sql.empty()) return out;
  const std::string psql = "runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -tA -d ";
  const std::string lookup = " -c " + shell_quote(pgbouncer_lookup_function_sql());
  out.command = psql + shell_quote(conninfo_for("postgres")) + " -f -";
  if (pooled) {
    for (const char* db : {"template1", "postgres"})
      out.command += " && " + psql + shell_quote(conninfo_for(db)) + lookup + " </dev/null";
    for (const auto& d : inv.databases)
      out.command += " && " + psql + shell_quote(conninfo_for(d.name)) + lookup + " </dev/null";
  }
  return out;
}

}  // namespace

std::string conninfo_for(const std::string& database) {
  std::string out = "dbname='";
  for (char c : database) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

Status converge_sql_objects(EngineContext& ctx) {
  const SqlObjectsCommand c = sql_objects_command(ctx.inv, ctx.secrets);
  if (c.sql.empty()) return {};
  NodeHandle* leader = ctx.leader ? ctx.leader : find_leader(ctx);
  if (!leader) return Error(ErrorKind::remote_failure, "no Patroni leader to create users and databases on");
  auto r = must(*leader->shell, "sql:users-databases", c.command, c.sql);
  if (!r) return r.error();
  const bool created = r->out.find("created") != std::string::npos;
  if (created || r->out.find("altered") != std::string::npos)
    ctx.cluster_actions.push_back(
        Change{ChangeKind::sql_objects, ctx.inv.cluster_name, "",
               std::string(created ? "created" : "altered") + " users/databases on " + leader->node->name});
  return {};
}

Status start_edge_units(EngineContext& ctx) {
  return for_each_parallel<NodeHandle>(ctx.nodes, [&](NodeHandle& n) -> Status {
    std::vector<Role> roles;
    for (Role role : {Role::haproxy, Role::pgbouncer, Role::keepalived}) {
      if (role == Role::keepalived && ctx.inv.network.vip.empty()) continue;
      if (has_role(*n.node, role)) roles.push_back(role);
    }
    return ensure_roles_units(n, roles);
  });
}

// PgBouncer reaches PostgreSQL through the local HAProxy write port, which comes next: here it must
// only accept connections; the query gate runs once HAProxy is up (converge_haproxy).
Status converge_pgbouncer(EngineContext& ctx) {
  auto nodes = nodes_with_role(ctx, Role::pgbouncer);
  return for_each_node(nodes, [&](NodeHandle& n) -> Status {
    if (auto s = ensure_role_units(n, Role::pgbouncer); !s) return s;
    return poll_until(
        "PgBouncer on " + n.node->name, std::chrono::seconds(ctx.timeouts.service_s), kGatePoll,
        [&](std::string& why) {
          auto r =
              n.shell->run("pg_isready -q -t 3 -h 127.0.0.1 -p " + std::to_string(ctx.inv.ports.pgbouncer));
          if (r && r->exit_code == 0) return true;
          why = "it does not accept connections on port " + std::to_string(ctx.inv.ports.pgbouncer);
          return false;
        });
  });
}

Status converge_haproxy(EngineContext& ctx) {
  auto nodes = nodes_with_role(ctx, Role::haproxy);
  const bool has_replicas = ctx.inv.nodes_with(Role::patroni).size() > 1;
  if (auto s = for_each_node(
          nodes,
          [&](NodeHandle& n) -> Status {
            if (auto s = ensure_role_units(n, Role::haproxy); !s) return s;
            if (auto s = gate_query(ctx, n, "HAProxy write port on " + n.node->name, "127.0.0.1",
                                    ctx.inv.ports.haproxy_write, "SELECT pg_is_in_recovery();", "f");
                !s)
              return s;
            if (!has_replicas) return {};
            return gate_query(ctx, n, "HAProxy read port on " + n.node->name, "127.0.0.1",
                              ctx.inv.ports.haproxy_read, "SELECT pg_is_in_recovery();", "t");
          });
      !s)
    return s;
  // With the write port up, every PgBouncer must pass a query through to the primary.
  auto bouncers = nodes_with_role(ctx, Role::pgbouncer);
  return for_each_node(bouncers, [&](NodeHandle& n) {
    return gate_query(ctx, n, "PgBouncer on " + n.node->name, "127.0.0.1", ctx.inv.ports.pgbouncer,
                      "SELECT pg_is_in_recovery();", "f", GateUser::pgbouncer_lookup);
  });
}

Status converge_keepalived(EngineContext& ctx) {
  auto nodes = nodes_with_role(ctx, Role::keepalived);
  if (nodes.empty() || ctx.inv.network.vip.empty()) return {};
  if (auto s = for_each_node(nodes, [](NodeHandle& n) { return ensure_role_units(n, Role::keepalived); }); !s)
    return s;
  return gate_query(ctx, *nodes.front(), "the VIP " + ctx.inv.network.vip, ctx.inv.network.vip,
                    ctx.inv.ports.haproxy_write, "SELECT pg_is_in_recovery();", "f");
}

Status converge_pgbackrest(EngineContext& ctx) {
  if (ctx.inv.nodes_with(Role::pgbackrest).empty()) return {};
  NodeHandle* leader = ctx.leader ? ctx.leader : find_leader(ctx);
  if (!leader)
    return Error(ErrorKind::remote_failure, "no Patroni leader to create the pgBackRest stanza on");
  if (!has_role(*leader->node, Role::pgbackrest)) return {};
  RemoteShell* sh = leader->shell.get();
  std::unique_ptr<RemoteShell> extra;
  if (ctx.open_extra_shell) {
    auto opened = ctx.open_extra_shell(*leader);
    if (!opened)
      return std::move(opened.error()).with("step pgbackrest:connect").with("host " + leader->node->name);
    extra = std::move(opened.value());
    sh = extra.get();
  }
  const std::string stanza = shell_quote(ctx.inv.cluster_name);
  const std::string pgbr =
      "runuser -u postgres -- pgbackrest --stanza=" + stanza + " --log-level-console=warn ";
  // stanza-create is idempotent; `info` tells whether it already ran, so a no-op `up` skips it.
  // Status code 2 ("no valid backups") still means the stanza exists: its db list is what counts.
  auto info = sh->run(pgbr + "info --output=json");
  bool exists = false;
  if (info && info->exit_code == 0) {
    auto j = nlohmann::json::parse(info->out, nullptr, false);
    exists =
        j.is_array() && !j.empty() && j[0].contains("db") && j[0]["db"].is_array() && !j[0]["db"].empty();
  }
  if (!exists) {
    if (auto r = must(*sh, "pgbackrest:stanza-create", pgbr + "stanza-create"); !r) return r.error();
    ctx.cluster_actions.push_back(Change{ChangeKind::backup_stanza, ctx.inv.cluster_name,
                                         ctx.inv.cluster_name,
                                         "created pgBackRest stanza " + ctx.inv.cluster_name});
  }
  if (auto r = must(*sh, "pgbackrest:check", pgbr + "check"); !r) return r.error();
  // The scheduled backups' timers, on every pgBackRest node: only once the stanza exists and archives.
  auto nodes = nodes_with_role(ctx, Role::pgbackrest);
  return for_each_node(nodes, [](NodeHandle& n) { return ensure_role_units(n, Role::pgbackrest); });
}

}  // namespace pgha

namespace pgha {

Status converge_services(EngineContext& ctx) {
  std::vector<std::function<Status()>> parts = {
      [&]() -> Status {
        if (auto s = converge_sql_objects(ctx); !s) return s;
        if (auto s = converge_extensions(ctx); !s) return s;
        return converge_pgbackrest(ctx);
      },
      [&] { return converge_pgbouncer(ctx); },
      [&] { return converge_haproxy(ctx); },
      [&] { return converge_keepalived(ctx); },
  };
  return for_each_parallel<std::function<Status()>>(parts,
                                                    [](std::function<Status()>& part) { return part(); });
}

}  // namespace pgha
