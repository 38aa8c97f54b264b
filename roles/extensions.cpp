// databases[].extensions on the leader: CREATE EXTENSION IF NOT EXISTS for each one a database
// lacks. Runs in the services phase, after the users and databases (the database must exist) and
// after the postgres phase's rolling restart (a library the extension needs is then preloaded).
#include <set>
#include <sstream>

#include "core/pg_extensions.hpp"
#include "core/sql_quote.hpp"
#include "roles/engine.hpp"
#include "roles/remote.hpp"

namespace pgha {

std::string create_extensions_sql(const std::vector<std::string>& names) {
  std::string sql;
  for (const auto& name : names) {
    // Only the table's names reach SQL, and quoted even so.
    if (!find_pg_extension(name)) continue;
    // \gexec runs the CREATE, then prints "created <name>", only when pg_extension lacks it.
    sql += "SELECT " + quote_literal("CREATE EXTENSION IF NOT EXISTS " + quote_ident(name)) + ", " +
           quote_literal("SELECT " + quote_literal("created " + name)) +
           " WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = " + quote_literal(name) +
           ")\\gexec\n";
  }
  return sql;
}

Status converge_extensions(EngineContext& ctx) {
  NodeHandle* leader = nullptr;
  for (const auto& d : ctx.inv.databases) {
    const std::string sql = create_extensions_sql(d.extensions);
    if (sql.empty()) continue;
    if (!leader) leader = ctx.leader ? ctx.leader : find_leader(ctx);
    if (!leader) return Error(ErrorKind::remote_failure, "no Patroni leader to create extensions on");
    auto r = must(*leader->shell, "sql:extensions",
                  "runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -tA -d " +
                      shell_quote(conninfo_for(d.name)) + " -f -",
                  sql);
    if (!r) return std::move(r.error()).with("database " + d.name);
    std::set<std::string> lines;
    std::istringstream out(r->out);
    for (std::string line; std::getline(out, line);) lines.insert(trim(line));
    for (const auto& name : d.extensions) {
      if (!lines.count("created " + name)) continue;
      ctx.cluster_actions.push_back(
          Change{ChangeKind::pg_extension, ctx.inv.cluster_name, d.name + "." + name,
                 "created extension " + name + " in database " + d.name + " on " + leader->node->name});
    }
  }
  return {};
}

}  // namespace pgha
