// postgresql.parameters and nodes[].postgresql.parameters: every name a setting of PostgreSQL 15,
// none that Patroni or pgha owns, every value of the setting's type and within its bounds.
// databases[].extensions: every name one of the extension table's, packaged for the cluster's
// PostgreSQL version, each once per database.
#include <set>

#include "core/inventory_rules.hpp"
#include "core/pg_extensions.hpp"
#include "core/pg_settings.hpp"

namespace pgha {
namespace {

void check_parameters(RuleContext& c, const std::map<std::string, std::string>& params,
                      const std::string& path, bool node_level) {
  static const std::vector<std::string> names = pg_setting_names();
  for (const auto& [name, value] : params) {
    const std::string at_path = path + "." + name;
    const Mark at = c.at({at_path, path});
    const PgSetting* s = find_pg_setting(name);
    if (!s) {
      std::string hint = did_you_mean(name, names);
      c.error(at, "unknown PostgreSQL 15 setting '" + name + "' in " + path +
                      (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
      continue;
    }
    if (auto refusal = pg_setting_refusal(*s, node_level); !refusal.empty()) {
      c.error(at, at_path + " is refused: " + refusal);
      continue;
    }
    std::string why;
    if (!check_pg_value(*s, value, &why)) {
      // A string that fails the grammar may hold anything: it is not echoed.
      const std::string shown = s->type == PgType::string ? "" : ": '" + value + "'";
      c.error(at, at_path + shown + " is not a valid value: " + why);
    }
  }
}

void check_extensions(RuleContext& c) {
  const Inventory& inv = c.inv();
  static const std::vector<std::string> names = pg_extension_names();
  for (size_t i = 0; i < inv.databases.size(); ++i) {
    const std::string path = "databases[" + std::to_string(i) + "].extensions";
    std::set<std::string> seen;
    const auto& list = inv.databases[i].extensions;
    for (size_t j = 0; j < list.size(); ++j) {
      const std::string& name = list[j];
      const Mark at = c.at({path + "[" + std::to_string(j) + "]", path});
      const PgExtension* e = find_pg_extension(name);
      if (!e) {
        std::string hint = did_you_mean(name, names);
        c.error(at, "unknown extension '" + name + "' in " + path +
                        (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
      } else if (auto refusal = pg_extension_refusal(*e, inv.postgres_version); !refusal.empty()) {
        c.error(at, refusal);
      } else if (!seen.insert(name).second) {
        c.error(at, "extension '" + name + "' is listed twice in " + path);
      }
    }
  }
  // A node's own shared_preload_libraries replaces the cluster's on that node (Patroni's local
  // parameters win), so the extensions' libraries would be missing there.
  const auto libs = extension_preloads(inv);
  if (libs.empty()) return;
  std::string all;
  for (const auto& l : libs) all += (all.empty() ? "" : ", ") + l;
  for (size_t i = 0; i < inv.nodes.size(); ++i) {
    if (!inv.nodes[i].parameters.count("shared_preload_libraries")) continue;
    const std::string p = node_path(i) + ".postgresql.parameters.shared_preload_libraries";
    c.error(c.at({p, node_path(i) + ".postgresql.parameters"}),
            p + " would replace on this node the libraries the extensions need preloaded (" + all +
                "): set shared_preload_libraries in postgresql.parameters, where pgha adds them");
  }
}

}  // namespace

void check_postgres(RuleContext& c) {
  const Inventory& inv = c.inv();
  check_parameters(c, inv.pg_parameters, "postgresql.parameters", false);
  for (size_t i = 0; i < inv.nodes.size(); ++i)
    check_parameters(c, inv.nodes[i].parameters, node_path(i) + ".postgresql.parameters", true);
  check_extensions(c);
}

}  // namespace pgha
