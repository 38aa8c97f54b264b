// Backups through pgBackRest: what `pgbackrest info --output=json` (2.45) says about a stanza, the
// recoverable window, and the commands `pgha backup` and `pgha backup list` run on the leader.
// The parsing and the window are pure; the commands go through RemoteShell.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/remote_shell.hpp"

namespace pgha {

enum class BackupType { full, diff, incr };
const char* backup_type_name(BackupType t);
std::optional<BackupType> backup_type_from_string(const std::string& s);

struct BackupSet {
  std::string label;      // 20261201-050312F, 20261201-050312F_20261201-051000D
  std::string type;       // full | diff | incr (as pgBackRest names them)
  int64_t start = 0;      // epoch seconds (timestamp.start)
  int64_t stop = 0;       // epoch seconds (timestamp.stop): the first moment this backup is consistent
  int64_t size = 0;       // bytes of the database (info.size)
  int64_t repo_size = 0;  // bytes stored in the repository (info.repository.delta)
  std::string wal_start;  // archive.start: the first WAL segment the backup needs
  std::string wal_stop;
  bool error = false;  // pgBackRest found a page checksum error while copying
};

struct StanzaInfo {
  std::string name;
  int status_code = 0;             // 0 ok, 2 no valid backups, ... (status.code)
  std::string status_message;      // "ok", "no valid backups", "missing stanza path", ...
  bool backup_running = false;     // status.lock.backup.held
  std::string system_id;           // of the current db (db[-1]."system-id")
  std::vector<BackupSet> backups;  // oldest first, as pgBackRest lists them
  std::string wal_min;             // the oldest archived WAL segment of the current db ("" when none)
  std::string wal_max;             // the newest
};

// Parses the output of `pgbackrest info --output=json [--stanza=S]` and returns the stanza named
// `stanza`. Errors: bad_input when the text is not pgBackRest's JSON, not_found when it lists no such
// stanza. A stanza without backups is not an error (backups is empty, status_code 2).
Result<StanzaInfo> parse_pgbackrest_info(const std::string& json_text, const std::string& stanza);

// The span a point-in-time restore can reach: from the oldest backup's stop (pgBackRest 2.45 picks a
// backup whose stop time is strictly before the target; before its stop no backup is consistent) to
// the newest archived WAL. `end` is epoch seconds when known (the leader's clock right after its WAL
// was switched and archived), unset otherwise; `end_wal` is the newest archived segment.
struct RecoveryWindow {
  bool any = false;  // false: no backup, nothing to restore
  int64_t start = 0;
  std::optional<int64_t> end;
  std::string end_wal;
};
RecoveryWindow recovery_window(const StanzaInfo& info, std::optional<int64_t> archived_until);

// UTC "2026-12-01 05:03:12+00", the form pgBackRest's --target and `backup list` use.
std::string format_utc(int64_t epoch_s);
// UTC with microseconds ("2026-12-01 05:03:12.250000+00") for a target.
std::string format_utc_us(int64_t epoch_us);
// "1.2 GiB", "312 MiB", "8.0 KiB", "512 B".
std::string format_bytes(int64_t bytes);
// "the window from 2026-12-01 05:03:12+00 to 2026-12-01 05:10:00+00 (WAL 000000010000000000000007)".
std::string describe_window(const RecoveryWindow& w);

// `pgha backup list`: a table, and the same as JSON.
std::string format_backup_list(const StanzaInfo& info, const RecoveryWindow& w);
nlohmann::ordered_json backup_list_json(const StanzaInfo& info, const RecoveryWindow& w);

// The pgBackRest command line for the cluster's stanza, run as postgres: "runuser -u postgres --
// pgbackrest --stanza='NAME' " (the caller appends options and the command).
std::string pgbackrest_command(const std::string& stanza);

// Reads the stanza from the repository through `sh` (any node with pgBackRest). Errors: the
// repository does not answer (remote_failure, with pgBackRest's own words), or parse errors.
Result<StanzaInfo> read_stanza_info(RemoteShell& sh, const std::string& stanza);

// Takes a backup through `sh` (the leader) and returns the new backup set as the repository lists it.
Result<BackupSet> take_backup(RemoteShell& sh, const std::string& stanza, BackupType type);

}  // namespace pgha
