#include "core/pg_settings.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

#include "core/embedded.hpp"
#include "core/pg_extensions.hpp"

namespace pgha {
namespace {

constexpr const char* kTable = "postgresql/pg15_settings.tsv";

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::map<std::string, PgSetting> parse_table(const std::string& text) {
  std::map<std::string, PgSetting> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto f = split(line, '\t');
    if (f.size() < 7) continue;
    PgSetting s;
    s.name = f[0];
    const std::string& t = f[1];
    s.type = t == "bool" || t == "boolean" ? PgType::boolean
             : t == "integer"              ? PgType::integer
             : t == "real"                 ? PgType::real
             : t == "enum"                 ? PgType::enumeration
                                           : PgType::string;
    s.context = f[2];
    if (!f[3].empty()) s.min = std::strtod(f[3].c_str(), nullptr);
    if (!f[4].empty()) s.max = std::strtod(f[4].c_str(), nullptr);
    s.unit = f[5];
    if (!f[6].empty()) s.enums = split(f[6], ',');
    out.emplace(s.name, std::move(s));
  }
  return out;
}

// Settings Patroni writes itself (its CMDLINE_OPTIONS, the files it manages, recovery and
// replication): a value from the inventory would fight it.
const std::set<std::string>& patroni_owned() {
  static const std::set<std::string> s = {"listen_addresses",
                                          "port",
                                          "cluster_name",
                                          "wal_level",
                                          "hot_standby",
                                          "max_wal_senders",
                                          "max_replication_slots",
                                          "wal_keep_size",
                                          "wal_log_hints",
                                          "hba_file",
                                          "ident_file",
                                          "data_directory",
                                          "config_file",
                                          "synchronous_standby_names",
                                          "primary_conninfo",
                                          "primary_slot_name",
                                          "promote_trigger_file",
                                          "restore_command",
                                          "archive_cleanup_command",
                                          "recovery_end_command",
                                          "recovery_min_apply_delay",
                                          "recovery_target",
                                          "recovery_target_action",
                                          "recovery_target_inclusive",
                                          "recovery_target_lsn",
                                          "recovery_target_name",
                                          "recovery_target_time",
                                          "recovery_target_timeline",
                                          "recovery_target_xid",
                                          "external_pid_file"};
  return s;
}

// Settings pgha's own design depends on (the socket Patroni and the steps use, archiving to
// pgBackRest, scram-sha-256 in pg_hba).
const std::map<std::string, std::string>& pgha_owned() {
  static const std::map<std::string, std::string> s = {
      {"unix_socket_directories", "pgha's steps and Patroni reach PostgreSQL through /var/run/postgresql"},
      {"archive_mode", "pgha turns archiving on with the pgbackrest role and off without it"},
      {"archive_command", "pgha archives to pgBackRest on nodes with the pgbackrest role"},
      {"archive_library", "pgha archives with archive_command to pgBackRest"},
      {"password_encryption", "pgha's pg_hba.conf and PgBouncer expect scram-sha-256"},
  };
  return s;
}

// Patroni 3.0.2 reads these from its dynamic configuration only: a member's own value is ignored.
const std::set<std::string>& cluster_wide_only() {
  static const std::set<std::string> s = {"max_connections", "max_prepared_transactions",
                                          "max_locks_per_transaction", "max_worker_processes",
                                          "track_commit_timestamp"};
  return s;
}

// Factor of a unit to the smallest of its family (kB for memory, ms for time); 0 when unknown.
double memory_kb(const std::string& u) {
  if (u == "B") return 1.0 / 1024;
  if (u == "kB") return 1;
  if (u == "8kB") return 8;
  if (u == "MB") return 1024;
  if (u == "GB") return 1024.0 * 1024;
  if (u == "TB") return 1024.0 * 1024 * 1024;
  return 0;
}
double time_ms(const std::string& u) {
  if (u == "us") return 0.001;
  if (u == "ms") return 1;
  if (u == "s") return 1000;
  if (u == "min") return 60000;
  if (u == "h") return 3600000;
  if (u == "d") return 86400000;
  return 0;
}

struct Number {
  double value = 0;
  bool integral = true;
  std::string unit;
};

// "-12", "1.5", "1e-3", "64MB", "10 s": the number and the unit after it.
std::optional<Number> parse_number(const std::string& text) {
  Number n;
  size_t i = 0;
  const size_t len = text.size();
  if (i < len && (text[i] == '-' || text[i] == '+')) ++i;
  size_t digits = 0;
  while (i < len && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++digits;
  if (i < len && text[i] == '.') {
    n.integral = false;
    ++i;
    while (i < len && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++digits;
  }
  if (digits == 0) return std::nullopt;
  if (i < len && (text[i] == 'e' || text[i] == 'E') && i + 1 < len &&
      (std::isdigit(static_cast<unsigned char>(text[i + 1])) || text[i + 1] == '-' || text[i + 1] == '+')) {
    n.integral = false;
    ++i;
    if (text[i] == '-' || text[i] == '+') ++i;
    size_t exp = 0;
    while (i < len && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++exp;
    if (exp == 0) return std::nullopt;
  }
  n.value = std::strtod(text.substr(0, i).c_str(), nullptr);
  while (i < len && text[i] == ' ') ++i;
  n.unit = text.substr(i);
  for (char c : n.unit) {
    if (!std::isalpha(static_cast<unsigned char>(c))) return std::nullopt;
  }
  return n;
}

// The value in the setting's base unit, or nullopt with *why.
std::optional<double> in_base_unit(const PgSetting& s, const Number& n, std::string* why) {
  if (n.unit.empty()) return n.value;
  if (s.unit.empty()) {
    *why = s.name + " takes no unit";
    return std::nullopt;
  }
  if (double base = memory_kb(s.unit); base > 0) {
    double f = memory_kb(n.unit);
    if (f == 0) {
      *why = "unit '" + n.unit + "' is not a memory unit (B, kB, MB, GB, TB)";
      return std::nullopt;
    }
    return n.value * f / base;
  }
  if (double base = time_ms(s.unit); base > 0) {
    double f = time_ms(n.unit);
    if (f == 0) {
      *why = "unit '" + n.unit + "' is not a time unit (us, ms, s, min, h, d)";
      return std::nullopt;
    }
    return n.value * f / base;
  }
  *why = s.name + " takes no unit";
  return std::nullopt;
}

std::string fmt_number(double v) {
  std::ostringstream o;
  o.precision(15);
  o << v;
  return o.str();
}

std::string range_text(const PgSetting& s) {
  return fmt_number(s.min) + " .. " + fmt_number(s.max) + (s.unit.empty() ? "" : " (in " + s.unit + ")");
}

// Printable ASCII without quotes, backslashes or comment signs: what a postgresql.conf line and a
// YAML or JSON string carry unchanged.
bool safe_string(const std::string& v, std::string* why) {
  if (v.size() > 1024) {
    *why = "it is longer than 1024 characters";
    return false;
  }
  for (unsigned char c : v) {
    if (c < 0x20 || c >= 0x7f) {
      *why = "it holds a control or non-ASCII character";
      return false;
    }
    if (c == '\'' || c == '\\' || c == '#' || c == '`') {
      *why =
          std::string("it holds ") + static_cast<char>(c) + ", which pgha does not pass to postgresql.conf";
      return false;
    }
  }
  return true;
}

std::optional<std::string> checked(const PgSetting& s, const std::string& value, std::string* why,
                                   std::string* setting_form) {
  const std::string v = value;
  switch (s.type) {
    case PgType::boolean: {
      static const std::set<std::string> on = {"on", "true", "yes", "1"}, off = {"off", "false", "no", "0"};
      const std::string l = lower(v);
      if (on.count(l)) return *setting_form = "on";
      if (off.count(l)) return *setting_form = "off";
      *why = "a boolean is on or off (true/false, yes/no, 1/0)";
      return std::nullopt;
    }
    case PgType::integer:
    case PgType::real: {
      auto n = parse_number(v);
      if (!n) {
        *why =
            s.type == PgType::integer ? "expected an integer, optionally with a unit" : "expected a number";
        return std::nullopt;
      }
      if (s.type == PgType::integer && !n->integral && n->unit.empty()) {
        *why = "expected an integer";
        return std::nullopt;
      }
      auto base = in_base_unit(s, *n, why);
      if (!base) return std::nullopt;
      double b = s.type == PgType::integer ? std::round(*base) : *base;
      if (b < s.min || b > s.max) {
        *why = "out of range " + range_text(s);
        return std::nullopt;
      }
      *setting_form = s.type == PgType::integer ? std::to_string(static_cast<long long>(b)) : fmt_number(b);
      std::string text;
      for (char c : v) {
        if (c != ' ') text += c;
      }
      return text;
    }
    case PgType::enumeration: {
      const std::string l = lower(v);
      for (const auto& e : s.enums) {
        if (e == l) return *setting_form = l;
      }
      std::string all;
      for (const auto& e : s.enums) all += (all.empty() ? "" : ", ") + e;
      *why = "expected one of " + all;
      return std::nullopt;
    }
    case PgType::string:
      if (!safe_string(v, why)) return std::nullopt;
      return *setting_form = v;
  }
  return std::nullopt;
}

}  // namespace

const std::map<std::string, PgSetting>& pg_settings() {
  static const std::map<std::string, PgSetting> table = [] {
    const auto& data = embedded_data();
    auto it = data.find(kTable);
    return it == data.end() ? std::map<std::string, PgSetting>{} : parse_table(it->second);
  }();
  return table;
}

const PgSetting* find_pg_setting(std::string_view name) {
  const auto& t = pg_settings();
  auto it = t.find(std::string(name));
  return it == t.end() ? nullptr : &it->second;
}

std::vector<std::string> pg_setting_names() {
  std::vector<std::string> out;
  for (const auto& [name, s] : pg_settings()) out.push_back(name);
  return out;
}

std::string pg_setting_refusal(const PgSetting& s, bool node_level) {
  if (patroni_owned().count(s.name))
    return "Patroni owns " + s.name + ": it sets it on every member itself and would override the inventory";
  if (auto it = pgha_owned().find(s.name); it != pgha_owned().end())
    return "pgha owns " + s.name + ": " + it->second;
  if (s.context == "internal") return s.name + " is read-only: PostgreSQL fixes it when it is built";
  if (s.name.size() > 8 && s.name.compare(s.name.size() - 8, 8, "_command") == 0)
    return s.name + " runs a shell command on the nodes; pgha does not take commands from parameters";
  if (node_level && cluster_wide_only().count(s.name))
    return s.name +
           " must be the same on every member (Patroni takes it from its dynamic configuration "
           "only): set it in postgresql.parameters";
  return "";
}

std::optional<std::string> check_pg_value(const PgSetting& s, const std::string& value, std::string* why) {
  std::string form;
  return checked(s, value, why, &form);
}

std::optional<std::string> pg_setting_form(const PgSetting& s, const std::string& value) {
  std::string why, form;
  if (!checked(s, value, &why, &form)) return std::nullopt;
  return form;
}

const std::vector<std::pair<std::string, std::string>>& pgha_dcs_parameters() {
  static const std::vector<std::pair<std::string, std::string>> p = {{"password_encryption", "scram-sha-256"},
                                                                     {"wal_level", "replica"},
                                                                     {"hot_standby", "on"},
                                                                     {"wal_log_hints", "on"},
                                                                     {"max_connections", "200"},
                                                                     {"max_wal_senders", "10"},
                                                                     {"max_replication_slots", "10"},
                                                                     {"wal_keep_size", "256MB"},
                                                                     {"archive_timeout", "60"}};
  return p;
}

namespace {

void put_checked(std::map<std::string, std::string>& out, const std::map<std::string, std::string>& params,
                 bool node_level) {
  for (const auto& [name, value] : params) {
    const PgSetting* s = find_pg_setting(name);
    std::string why;
    if (!s || !pg_setting_refusal(*s, node_level).empty()) continue;
    if (auto v = check_pg_value(*s, value, &why)) out[name] = *v;
  }
}

}  // namespace

std::map<std::string, std::string> dcs_parameters(const Inventory& inv) {
  std::map<std::string, std::string> out(pgha_dcs_parameters().begin(), pgha_dcs_parameters().end());
  put_checked(out, inv.pg_parameters, false);
  // The libraries the extensions need join whatever the user preloads (core/pg_extensions.hpp).
  if (auto libs = extension_preloads(inv); !libs.empty()) {
    auto it = out.find("shared_preload_libraries");
    out["shared_preload_libraries"] = merge_preload_libraries(it == out.end() ? "" : it->second, libs);
  }
  return out;
}

bool same_pg_value(const std::string& name, const std::string& a, const std::string& b) {
  const PgSetting* s = find_pg_setting(name);
  if (!s) return a == b;
  auto fa = pg_setting_form(*s, a), fb = pg_setting_form(*s, b);
  return fa && fb ? *fa == *fb : a == b;
}

bool standby_needs_at_least_primary(const std::string& name) {
  static const std::set<std::string> names = {"max_connections", "max_prepared_transactions",
                                              "max_locks_per_transaction", "max_worker_processes",
                                              "max_wal_senders"};
  return names.count(name) > 0;
}

bool lowers_standby_minimum(const std::string& name, const std::string& from, const std::string& to) {
  const PgSetting* s = find_pg_setting(name);
  if (!s || !standby_needs_at_least_primary(name) || from.empty() || to.empty()) return false;
  auto a = pg_setting_form(*s, from), b = pg_setting_form(*s, to);
  if (!a || !b) return false;
  try {
    return std::stoll(*b) < std::stoll(*a);
  } catch (const std::exception&) {
    return false;
  }
}

std::map<std::string, std::string> node_parameters(const Node& node) {
  std::map<std::string, std::string> out;
  put_checked(out, node.parameters, true);
  return out;
}

}  // namespace pgha
