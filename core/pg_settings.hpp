// PostgreSQL 15's settings (data/postgresql/pg15_settings.tsv, made by scripts/gen-pg-settings.sh
// from `postgres --describe-config` and pg_settings) and the checks a value from the inventory
// passes before it reaches a configuration file.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/inventory.hpp"

namespace pgha {

enum class PgType { boolean, integer, real, string, enumeration };

struct PgSetting {
  std::string name;
  PgType type = PgType::string;
  std::string context;      // internal | postmaster | sighup | superuser-backend | backend | superuser | user
  double min = 0, max = 0;  // integer and real only
  std::string unit;         // "", "kB", "8kB", "MB", "B", "ms", "s", "min"
  std::vector<std::string> enums;  // the values pg_settings lists for an enum
  // Taking a new value needs a PostgreSQL restart (postmaster context); otherwise a reload does.
  bool needs_restart() const { return context == "postmaster"; }
};

// Every setting of the table, by name. Parsed once from the embedded table.
const std::map<std::string, PgSetting>& pg_settings();
const PgSetting* find_pg_setting(std::string_view name);
std::vector<std::string> pg_setting_names();

// Why a setting may not come from postgresql.parameters ("" when it may): Patroni or pgha sets it,
// or it runs a shell command, or it is read-only. `node_level` asks about nodes[].postgresql.parameters,
// which also refuses the settings Patroni takes only from its dynamic configuration.
std::string pg_setting_refusal(const PgSetting& s, bool node_level);

// Checks `value` against the setting's type, unit and bounds. Returns the canonical text written
// to the configuration ("on", "64MB", "0.5", "ddl"), or nullopt with *why set.
std::optional<std::string> check_pg_value(const PgSetting& s, const std::string& value, std::string* why);

// The value as pg_settings.setting shows it (an integer in the setting's base unit, "on"/"off", the
// enum in lower case), for comparing what a member runs with what was asked. nullopt when invalid.
std::optional<std::string> pg_setting_form(const PgSetting& s, const std::string& value);

// The parameters pgha puts into Patroni's dynamic configuration before the inventory's own.
const std::vector<std::pair<std::string, std::string>>& pgha_dcs_parameters();

// What goes into Patroni's dynamic configuration's postgresql.parameters: pgha's, then the
// inventory's postgresql.parameters over them, each in canonical form. A name or value that fails
// the checks above is left out (validate refuses it before anything renders). The libraries the
// databases' extensions need are merged into shared_preload_libraries (merge_preload_libraries).
std::map<std::string, std::string> dcs_parameters(const Inventory& inv);
// Whether two texts are the same value of `name` (64MB and 65536kB, on and true); a name that is not
// a setting compares as text.
bool same_pg_value(const std::string& name, const std::string& a, const std::string& b);

// Settings a hot standby must run at least as high as its primary (PostgreSQL's "insufficient
// parameter settings" check; Patroni starts a standby with pg_control's value when it is higher):
// max_connections, max_prepared_transactions, max_locks_per_transaction, max_worker_processes,
// max_wal_senders.
bool standby_needs_at_least_primary(const std::string& name);
// Whether changing `name` from `from` to `to` lowers such a setting (both read as integers).
bool lowers_standby_minimum(const std::string& name, const std::string& from, const std::string& to);

// A node's own postgresql.parameters for its patroni.yml, checked likewise.
std::map<std::string, std::string> node_parameters(const Node& node);

}  // namespace pgha
