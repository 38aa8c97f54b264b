// The backup lines of `pgha status`: the newest backup and the archive's end from the leader's
// pgBackRest, and the scheduled runs that failed on any node. Reading rides on the status probe.
#include <sstream>

#include "roles/remote.hpp"
#include "roles/status.hpp"

namespace pgha {
namespace {

const char* const kScheduledTypes[] = {"full", "diff"};

// systemctl show's blocks ("Key=value" lines, a blank line between units) as one map per unit.
std::vector<std::map<std::string, std::string>> unit_blocks(const std::string& text) {
  std::vector<std::map<std::string, std::string>> out(1);
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) {
      if (!out.back().empty()) out.emplace_back();
      continue;
    }
    auto eq = line.find('=');
    if (eq != std::string::npos) out.back()[line.substr(0, eq)] = line.substr(eq + 1);
  }
  if (out.back().empty()) out.pop_back();
  return out;
}

}  // namespace

std::string backup_probe_part(const Inventory& inv, const Node& node) {
  if (!has_role(node, Role::pgbackrest)) return "";
  std::string units;
  for (const char* type : kScheduledTypes) units += std::string(" pgha-backup@") + type + ".service";
  std::string cmd =
      "echo @@backup-units; systemctl show -p Id,Result,ExecMainExitTimestamp" + units + " 2>/dev/null\n";
  if (has_role(node, Role::patroni)) {
    cmd += "if [ \"$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 " +
           Reach(inv).patroni_curl(node.address, "/leader") +
           ")\" = 200 ]; then echo @@backup; date +%s; timeout 15 " + pgbackrest_command(inv.cluster_name) +
           "--log-level-console=warn info --output=json 2>&1; echo; fi\n";
  }
  return cmd;
}

void absorb_backup(const std::string& node, const std::string* units, const std::string* info,
                   const std::string& stanza, BackupStatus& b) {
  if (units) {
    for (const auto& unit : unit_blocks(*units)) {
      auto get = [&](const char* key) {
        auto it = unit.find(key);
        return it == unit.end() ? std::string() : it->second;
      };
      const std::string id = get("Id");
      const std::string result = get("Result");
      for (const char* type : kScheduledTypes) {
        if (id != std::string("pgha-backup@") + type + ".service" || result.empty() || result == "success")
          continue;
        b.failed.push_back({node, type, result, get("ExecMainExitTimestamp")});
      }
    }
  }
  if (!info || b.answered) return;
  const size_t newline = info->find('\n');
  const std::string clock = trim(info->substr(0, newline));
  const std::string text = newline == std::string::npos ? "" : info->substr(newline + 1);
  auto parsed = parse_pgbackrest_info(text, stanza);
  if (!parsed) {
    // pgBackRest's own words when it printed an error instead of JSON.
    const std::string said = trim(text);
    b.error = "pgbackrest info on " + node + ": " +
              (said.empty() || said[0] == '[' ? parsed.error().describe() : said.substr(0, said.find('\n')));
    return;
  }
  b.answered = true;
  b.error.clear();
  try {
    b.now = std::stoll(clock);
  } catch (const std::exception&) {
    b.now = 0;
  }
  if (!parsed->backups.empty()) b.last = parsed->backups.back();
  b.wal_max = parsed->wal_max;
}

std::string format_age(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 60) return std::to_string(seconds) + " s";
  const int64_t minutes = seconds / 60;
  if (minutes < 60) return std::to_string(minutes) + " min";
  const int64_t hours = minutes / 60;
  if (hours < 48) return std::to_string(hours) + " h " + std::to_string(minutes % 60) + " min";
  return std::to_string(hours / 24) + " d " + std::to_string(hours % 24) + " h";
}

std::string format_backup_status(const BackupStatus& b) {
  if (!b.expected) return "";
  std::string out = "\nbackup: ";
  if (!b.answered) {
    out += "(" + (b.error.empty() ? std::string("no Patroni leader answered for pgBackRest") : b.error) + ")";
  } else if (!b.last) {
    out += "no backup in the repository yet";
  } else {
    out += "last " + b.last->type + " " + b.last->label + ", finished " + format_utc(b.last->stop);
    if (b.now > 0) out += " (" + format_age(b.now - b.last->stop) + " ago)";
  }
  if (b.answered) out += b.wal_max.empty() ? "; no WAL archived" : "; WAL archived up to " + b.wal_max;
  out += "\n";
  for (const auto& f : b.failed) {
    out += "  ! the scheduled " + f.type + " backup failed on " + f.node + " (" + f.result +
           (f.at.empty() ? "" : ", " + f.at) + "): journalctl -u pgha-backup@" + f.type + ".service\n";
  }
  return out;
}

nlohmann::json backup_status_json(const BackupStatus& b) {
  nlohmann::json j;
  j["answered"] = b.answered;
  if (!b.error.empty()) j["error"] = b.error;
  if (b.last) {
    j["last"] = {{"label", b.last->label},
                 {"type", b.last->type},
                 {"stop", format_utc(b.last->stop)},
                 {"stop_epoch", b.last->stop},
                 {"age_seconds", b.now > 0 ? nlohmann::json(b.now - b.last->stop) : nlohmann::json(nullptr)}};
  } else {
    j["last"] = nullptr;
  }
  j["wal_max"] = b.wal_max.empty() ? nlohmann::json(nullptr) : nlohmann::json(b.wal_max);
  j["failed_scheduled"] = nlohmann::json::array();
  for (const auto& f : b.failed)
    j["failed_scheduled"].push_back({{"node", f.node}, {"type", f.type}, {"result", f.result}, {"at", f.at}});
  return j;
}

}  // namespace pgha
