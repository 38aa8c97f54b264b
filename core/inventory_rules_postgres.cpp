// postgresql.parameters and nodes[].postgresql.parameters: every name a setting of PostgreSQL 15,
// none that Patroni or pgha owns, every value of the setting's type and within its bounds.
#include "core/inventory_rules.hpp"
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

}  // namespace

void check_postgres(RuleContext& c) {
  const Inventory& inv = c.inv();
  check_parameters(c, inv.pg_parameters, "postgresql.parameters", false);
  for (size_t i = 0; i < inv.nodes.size(); ++i)
    check_parameters(c, inv.nodes[i].parameters, node_path(i) + ".postgresql.parameters", true);
}

}  // namespace pgha
