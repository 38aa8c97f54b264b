#include "roles/backup.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "roles/remote.hpp"

namespace pgha {
namespace {

using json = nlohmann::json;

// A member of `j` of the wanted type, or `fallback` (a wrong type reads as absent).
int64_t int_at(const json& j, const char* key, int64_t fallback = 0) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}
std::string str_at(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}
const json& obj_at(const json& j, const char* key) {
  static const json empty = json::object();
  if (!j.is_object()) return empty;
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : empty;
}

}  // namespace

const char* backup_type_name(BackupType t) {
  switch (t) {
    case BackupType::full: return "full";
    case BackupType::diff: return "diff";
    case BackupType::incr: return "incr";
  }
  return "full";
}

std::optional<BackupType> backup_type_from_string(const std::string& s) {
  if (s == "full") return BackupType::full;
  if (s == "diff") return BackupType::diff;
  if (s == "incr") return BackupType::incr;
  return std::nullopt;
}

Result<StanzaInfo> parse_pgbackrest_info(const std::string& json_text, const std::string& stanza) {
  json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_array())
    return Error(ErrorKind::bad_input, "pgbackrest info: not the JSON array pgBackRest prints");
  for (const auto& s : j) {
    if (str_at(s, "name") != stanza) continue;
    StanzaInfo info;
    info.name = stanza;
    const json& status = obj_at(s, "status");
    info.status_code = static_cast<int>(int_at(status, "code", -1));
    info.status_message = str_at(status, "message");
    const json& lock_backup = obj_at(obj_at(status, "lock"), "backup");
    info.backup_running = lock_backup.value("held", false) == true;
    // The current database is the last in `db`; WAL and backups of an older one (before a
    // stanza-upgrade) cannot be replayed onto it.
    int64_t db_id = -1;
    if (auto it = s.find("db"); it != s.end() && it->is_array() && !it->empty()) {
      db_id = int_at(it->back(), "id", -1);
      if (auto sid = it->back().find("system-id"); sid != it->back().end() && sid->is_number_integer())
        info.system_id = std::to_string(sid->get<uint64_t>());
    }
    if (auto it = s.find("archive"); it != s.end() && it->is_array()) {
      for (const auto& a : *it) {
        if (int_at(obj_at(a, "database"), "id", -2) != db_id) continue;
        info.wal_min = str_at(a, "min");
        info.wal_max = str_at(a, "max");
      }
    }
    if (auto it = s.find("backup"); it != s.end() && it->is_array()) {
      for (const auto& b : *it) {
        if (int_at(obj_at(b, "database"), "id", -2) != db_id) continue;
        BackupSet set;
        set.label = str_at(b, "label");
        set.type = str_at(b, "type");
        set.start = int_at(obj_at(b, "timestamp"), "start");
        set.stop = int_at(obj_at(b, "timestamp"), "stop");
        set.size = int_at(obj_at(b, "info"), "size");
        set.repo_size = int_at(obj_at(obj_at(b, "info"), "repository"), "delta");
        set.wal_start = str_at(obj_at(b, "archive"), "start");
        set.wal_stop = str_at(obj_at(b, "archive"), "stop");
        set.error = b.contains("error") && b["error"] == true;
        if (set.label.empty()) continue;
        info.backups.push_back(std::move(set));
      }
    }
    return info;
  }
  return Error(ErrorKind::not_found, "pgbackrest info lists no stanza " + stanza);
}

RecoveryWindow recovery_window(const StanzaInfo& info, std::optional<int64_t> archived_until) {
  RecoveryWindow w;
  if (info.backups.empty()) return w;
  w.any = true;
  w.start = info.backups.front().stop;
  for (const auto& b : info.backups) w.start = std::min(w.start, b.stop);
  w.end_wal = info.wal_max;
  if (archived_until && *archived_until >= w.start) w.end = archived_until;
  return w;
}

std::string format_utc(int64_t epoch_s) {
  std::time_t t = static_cast<std::time_t>(epoch_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return std::string(buf) + "+00";
}

std::string format_utc_us(int64_t epoch_us) {
  int64_t s = epoch_us / 1000000;
  int64_t us = epoch_us % 1000000;
  if (us < 0) {
    us += 1000000;
    --s;
  }
  std::string base = format_utc(s);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(us));
  return base.substr(0, 19) + frac + "+00";
}

std::string format_bytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, v >= 100 ? "%.0f %s" : "%.1f %s", v, units[u]);
  }
  return buf;
}

std::string describe_window(const RecoveryWindow& w) {
  if (!w.any) return "no recoverable window: the repository holds no backup";
  std::string s = "the recoverable window from " + format_utc(w.start) + " to ";
  s += w.end ? format_utc(*w.end) : std::string("the newest archived WAL");
  if (!w.end_wal.empty()) s += " (WAL " + w.end_wal + ")";
  return s;
}

std::string format_backup_list(const StanzaInfo& info, const RecoveryWindow& w) {
  std::string out;
  if (info.backups.empty()) {
    out += "no backups in stanza " + info.name + " (" + info.status_message + ")\n";
    return out;
  }
  char line[256];
  std::snprintf(line, sizeof line, "%-36s %-5s %-22s %-22s %10s %10s\n", "LABEL", "TYPE", "START (UTC)",
                "STOP (UTC)", "SIZE", "STORED");
  out += line;
  for (const auto& b : info.backups) {
    std::snprintf(line, sizeof line, "%-36s %-5s %-22s %-22s %10s %10s%s\n", b.label.c_str(), b.type.c_str(),
                  format_utc(b.start).substr(0, 19).c_str(), format_utc(b.stop).substr(0, 19).c_str(),
                  format_bytes(b.size).c_str(), format_bytes(b.repo_size).c_str(),
                  b.error ? "  (checksum errors)" : "");
    out += line;
  }
  out += describe_window(w) + "\n";
  if (info.backup_running) out += "a backup is running now\n";
  return out;
}

nlohmann::ordered_json backup_list_json(const StanzaInfo& info, const RecoveryWindow& w) {
  nlohmann::ordered_json j;
  j["stanza"] = info.name;
  j["status"] = info.status_message;
  j["backups"] = nlohmann::ordered_json::array();
  for (const auto& b : info.backups) {
    j["backups"].push_back({{"label", b.label},
                            {"type", b.type},
                            {"start", format_utc(b.start)},
                            {"stop", format_utc(b.stop)},
                            {"size", b.size},
                            {"repo_size", b.repo_size},
                            {"wal_start", b.wal_start},
                            {"wal_stop", b.wal_stop}});
  }
  nlohmann::ordered_json win = nullptr;
  if (w.any) {
    win = {{"start", format_utc(w.start)},
           {"end", w.end ? nlohmann::ordered_json(format_utc(*w.end)) : nlohmann::ordered_json(nullptr)},
           {"end_wal", w.end_wal}};
  }
  j["window"] = win;
  return j;
}

std::string pgbackrest_command(const std::string& stanza) {
  return "runuser -u postgres -- pgbackrest --stanza=" + shell_quote(stanza) + " ";
}

Result<StanzaInfo> read_stanza_info(RemoteShell& sh, const std::string& stanza) {
  auto r = sh.run(pgbackrest_command(stanza) + "--log-level-console=warn --output=json info");
  if (!r) return std::move(r.error()).with("step pgbackrest:info");
  if (r->exit_code != 0)
    return Error(ErrorKind::remote_failure, "the repository does not answer: pgbackrest info exited " +
                                                std::to_string(r->exit_code) + ": " +
                                                tail_lines(r->err + r->out, 3))
        .with("step pgbackrest:info");
  return parse_pgbackrest_info(r->out, stanza);
}

Result<BackupSet> take_backup(RemoteShell& sh, const std::string& stanza, BackupType type) {
  auto before = read_stanza_info(sh, stanza);
  if (!before) return before.error();
  auto r = must(
      sh, "pgbackrest:backup",
      pgbackrest_command(stanza) + "--log-level-console=warn --type=" + backup_type_name(type) + " backup");
  if (!r) return r.error();
  auto after = read_stanza_info(sh, stanza);
  if (!after) return after.error();
  for (auto it = after->backups.rbegin(); it != after->backups.rend(); ++it) {
    bool old = false;
    for (const auto& b : before->backups) old = old || b.label == it->label;
    if (!old) return *it;
  }
  return Error(ErrorKind::remote_failure,
               "pgbackrest backup succeeded but the repository lists no new backup")
      .with("step pgbackrest:backup");
}

}  // namespace pgha
