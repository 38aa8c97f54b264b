// `pgha check restore`: a restore drill. The latest backup is restored from the repository into a
// scratch directory on one node (a replica when there is one), and PostgreSQL, started there alone
// (its own unix socket, no TCP, archiving off), replays the whole archive and promotes at its end.
// The drill passes when that replay reached the archive's newest segment, as the repository listed
// it right after `pgbackrest check` had switched and archived the leader's WAL, and every database
// of the restored copy accepts a connection and a query. The scratch copy is removed afterwards,
// whatever the outcome; nothing of the cluster or the repository changes.
// The judgement is pure (LSNs, segment names, the server log); the run goes through RemoteShell.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace pgha {

// "16/B374D848" -> 0x16B374D848; nullopt when it is not an LSN.
std::optional<uint64_t> parse_lsn(const std::string& s);
std::string format_lsn(uint64_t lsn);
// The name of the 16 MiB WAL segment that holds `lsn` on `timeline` ("00000003000000000000000F").
std::string wal_segment_name(uint32_t timeline, uint64_t lsn);
// A segment name's timeline and its number (log * 256 + segment); nullopt when it is not a name.
struct WalSegment {
  uint32_t timeline = 0;
  uint64_t number = 0;
};
std::optional<WalSegment> parse_wal_segment(const std::string& name);

// The LSN of PostgreSQL's "redo done at X/Y" in a server log (the last one); nullopt when recovery
// did not log it.
std::optional<uint64_t> redo_done_lsn(const std::string& log);

// "" when a replay that ended at `redo_done` reached the archive's newest segment `wal_max`, else
// the sentence saying which segment it stopped before (the first one the repository could not give).
std::string replay_shortfall(const std::string& wal_max, uint64_t redo_done);

struct DrillReport {
  std::string node;                    // where the drill ran
  std::string backup;                  // the backup set restored
  int64_t backup_size = 0;             // its database size in bytes
  std::string wal_max;                 // the archive's newest segment before the drill
  uint64_t redo_done = 0;              // where the replay ended
  std::vector<std::string> databases;  // the restored copy's databases that answered
  double seconds = 0;
};

class RemoteShell;
// Runs the drill on `drill` (a node with pgBackRest) for `stanza`, after `pgbackrest check` on
// `leader`. `data_dir`/`bin_dir`: the cluster's PostgreSQL paths (the drill's copy goes to
// /var/lib/pgha/drill beside them). Errors: remote_failure naming the step when the drill cannot
// run; conflict when it ran and the restore is not sound (a WAL segment missing, recovery failed,
// a database that does not answer). The scratch copy is removed in both cases.
Result<DrillReport> run_restore_drill(RemoteShell& leader, RemoteShell& drill, const std::string& drill_node,
                                      const std::string& stanza, const std::string& bin_dir,
                                      int recovery_timeout_s);

}  // namespace pgha
