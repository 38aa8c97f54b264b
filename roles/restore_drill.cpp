#include "roles/restore_drill.hpp"

#include <chrono>
#include <cstdio>
#include <sstream>

#include "core/remote_shell.hpp"
#include "roles/backup.hpp"
#include "roles/remote.hpp"
#include "roles/restore_steps.hpp"

namespace pgha {

namespace {

constexpr uint64_t kSegmentBytes = 16ull * 1024 * 1024;  // Debian's PostgreSQL: 16 MiB segments
constexpr uint64_t kSegmentsPerLog = 0x100000000ull / kSegmentBytes;

bool hex_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// The drill's scratch places: the copy (postgres's own, 0700) and its socket and log directory.
const char* const kDrillData = "/var/lib/pgha/drill";
const char* const kDrillRun = "/var/lib/pgha/drill-run";
constexpr int kDrillPort = 5999;  // the socket file's name only: the copy listens on no TCP address

std::string as_postgres(const std::string& cmd) {
  return "runuser -u postgres -- " + cmd;
}

}  // namespace

std::optional<uint64_t> parse_lsn(const std::string& s) {
  auto slash = s.find('/');
  if (slash == std::string::npos) return std::nullopt;
  const std::string hi = s.substr(0, slash), lo = s.substr(slash + 1);
  if (!hex_digits(hi) || !hex_digits(lo) || hi.size() > 8 || lo.size() > 8) return std::nullopt;
  return (std::stoull(hi, nullptr, 16) << 32) | std::stoull(lo, nullptr, 16);
}

std::string format_lsn(uint64_t lsn) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(lsn >> 32),
                static_cast<unsigned>(lsn & 0xffffffffu));
  return buf;
}

std::string wal_segment_name(uint32_t timeline, uint64_t lsn) {
  const uint64_t number = lsn / kSegmentBytes;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08X%08X%08X", timeline, static_cast<unsigned>(number / kSegmentsPerLog),
                static_cast<unsigned>(number % kSegmentsPerLog));
  return buf;
}

std::optional<WalSegment> parse_wal_segment(const std::string& name) {
  if (name.size() != 24 || !hex_digits(name)) return std::nullopt;
  WalSegment w;
  w.timeline = static_cast<uint32_t>(std::stoul(name.substr(0, 8), nullptr, 16));
  const uint64_t log = std::stoull(name.substr(8, 8), nullptr, 16);
  const uint64_t seg = std::stoull(name.substr(16, 8), nullptr, 16);
  if (seg >= kSegmentsPerLog) return std::nullopt;
  w.number = log * kSegmentsPerLog + seg;
  return w;
}

std::optional<uint64_t> redo_done_lsn(const std::string& log) {
  static const std::string kMark = "redo done at ";
  std::optional<uint64_t> last;
  for (size_t at = log.find(kMark); at != std::string::npos; at = log.find(kMark, at + 1)) {
    size_t begin = at + kMark.size(), end = begin;
    while (end < log.size() && (std::isxdigit(static_cast<unsigned char>(log[end])) || log[end] == '/'))
      ++end;
    if (auto lsn = parse_lsn(log.substr(begin, end - begin))) last = lsn;
  }
  return last;
}

std::string replay_shortfall(const std::string& wal_max, uint64_t redo_done) {
  auto max = parse_wal_segment(wal_max);
  if (!max) return "the repository's newest WAL segment '" + wal_max + "' is not a segment name";
  const uint64_t reached = redo_done / kSegmentBytes;
  if (reached >= max->number) return "";
  return "the replay stopped at " + format_lsn(redo_done) + " (segment " +
         wal_segment_name(max->timeline, redo_done) + ") but the archive reaches " + wal_max +
         ": WAL segment " + wal_segment_name(max->timeline, (reached + 1) * kSegmentBytes) +
         " is missing from the repository or cannot be read, so no restore can reach past it";
}

Result<DrillReport> run_restore_drill(RemoteShell& leader, RemoteShell& drill, const std::string& drill_node,
                                      const std::string& stanza, const std::string& bin_dir,
                                      int recovery_timeout_s) {
  const auto started = std::chrono::steady_clock::now();
  DrillReport rep;
  rep.node = drill_node;
  // Every commit before this moment is in the repository (check switches WAL and waits for it).
  if (auto r = must(leader, "check-restore:pgbackrest-check",
                    pgbackrest_command(stanza) + "--log-level-console=warn check");
      !r)
    return r.error();
  auto info = read_stanza_info(drill, stanza);
  if (!info) return info.error();
  if (info->backups.empty())
    return Error(ErrorKind::conflict, "the repository holds no backup to restore: run `pgha backup` first")
        .with("step check-restore:info");
  rep.backup = info->backups.back().label;
  rep.backup_size = info->backups.back().size;
  rep.wal_max = info->wal_max;

  const std::string pg_ctl = bin_dir + "/pg_ctl";
  const std::string data = kDrillData, run = kDrillRun, log = std::string(kDrillRun) + "/postgresql.log";
  const std::string cleanup = "if [ -e " + data + "/postmaster.pid ]; then " +
                              as_postgres(pg_ctl + " -D " + data + " stop -m immediate -w -t 60") +
                              " >/dev/null 2>&1 || true; fi; rm -rf " + data + " " + run;
  auto finish = [&](Result<DrillReport> out) -> Result<DrillReport> {
    auto c = drill.run(cleanup);
    if (out && (!c || c->exit_code != 0))
      return Error(ErrorKind::remote_failure, "the drill's copy could not be removed: " + data)
          .with("step check-restore:cleanup");
    return out;
  };

  if (auto r =
          must(drill, "check-restore:restore",
               "set -e; " + cleanup + "; install -d -o postgres -g postgres -m 0700 " + data + " " + run +
                   "; " + pgbackrest_command(stanza) + "--log-level-console=warn --pg1-path=" + data +
                   " --set=" + shell_quote(rep.backup) + " --type=default --archive-mode=off restore");
      !r)
    return finish(r.error());
  const std::string options = "-c listen_addresses='' -c unix_socket_directories=" + run +
                              " -c port=" + std::to_string(kDrillPort) +
                              " -c archive_mode=off -c logging_collector=off -c hot_standby=on";
  if (auto r = must(drill, "check-restore:start",
                    as_postgres(pg_ctl + " -D " + data + " -l " + log + " -o \"" + options + "\" -W start"));
      !r)
    return finish(r.error());

  const std::string psql =
      as_postgres("psql -X -At -h " + run + " -p " + std::to_string(kDrillPort) + " -d postgres");
  std::string stopped;
  auto promoted = wait_until_promoted(
      drill, "the drill's copy on " + drill_node + " replaying the archive and promoting", pg_ctl, data, run,
      kDrillPort, log, std::chrono::seconds(recovery_timeout_s), std::chrono::milliseconds(500), &stopped);
  if (!promoted) return finish(std::move(promoted.error()).with("host " + drill_node));
  if (!*promoted)
    return finish(Error(ErrorKind::conflict, "PostgreSQL stopped while it replayed the archive: " + stopped)
                      .with("step check-restore:replay")
                      .with("host " + drill_node));

  auto logged = must(drill, "check-restore:log", "cat " + log);
  if (!logged) return finish(logged.error());
  auto redo = redo_done_lsn(logged->out);
  if (!redo)
    return finish(Error(ErrorKind::conflict, "the drill's recovery did not log where its redo ended: " +
                                                 tail_lines(logged->out, 3))
                      .with("step check-restore:replay")
                      .with("host " + drill_node));
  rep.redo_done = *redo;
  if (std::string why = replay_shortfall(rep.wal_max, rep.redo_done); !why.empty())
    return finish(
        Error(ErrorKind::conflict, why).with("step check-restore:replay").with("host " + drill_node));

  // Every database of the copy answers a query on its catalog.
  auto dbs = must(drill, "check-restore:databases",
                  psql +
                      " -c 'SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1' | "
                      "while IFS= read -r d; do if " +
                      as_postgres("psql -X -At -h " + run + " -p " + std::to_string(kDrillPort)) +
                      " -d \"$d\" -c 'SELECT count(*) FROM pg_class' >/dev/null 2>&1; then echo \"ok $d\"; "
                      "else echo \"fail $d\"; fi; done");
  if (!dbs) return finish(dbs.error());
  std::istringstream lines(dbs->out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("ok ", 0) == 0) {
      rep.databases.push_back(line.substr(3));
    } else if (line.rfind("fail ", 0) == 0) {
      return finish(
          Error(ErrorKind::conflict, "database " + line.substr(5) + " of the restored copy does not answer")
              .with("step check-restore:databases")
              .with("host " + drill_node));
    }
  }
  if (rep.databases.empty())
    return finish(Error(ErrorKind::conflict, "no database of the restored copy answered")
                      .with("step check-restore:databases")
                      .with("host " + drill_node));
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return finish(rep);
}

}  // namespace pgha
