// `pgha restore`: point-in-time recovery of the whole cluster from its pgBackRest repository.
//
// The restore is a stage machine. Its target and the last stage it finished are recorded in the
// state directory (restore.json) before and after every stage, and every stage looks at the nodes
// before acting, so the same command after a SIGKILL (or a failure) resumes where it stopped:
//   stopped          Patroni paused, every Patroni stopped, then PostgreSQL on the replicas, then the leader
//   dcs_cleared      the cluster's keys removed from etcd (/service/<cluster>/)
//   restored         on one node: its data directory moved aside, pgbackrest restore, PostgreSQL started
//                    alone (no Patroni) until it reached the target and promoted, then stopped cleanly
//   leader_started   Patroni started there: it finds no initialize key and a data directory, takes the
//                    cluster over with that data (its own "data directory exists" path) and leads
//   replicas_rebuilt the other nodes' data directories moved aside; Patroni clones them from the leader
//   archived         pgbackrest check on the new timeline (its .history and WAL reach the repository)
//   backed_up        a new full backup
//   verified         every health gate of `up`
//   done             the moved-aside directories removed (kept with --keep-old); the record cleared
// This file is pure; the steps themselves are behind RestoreSteps (roles/restore_steps.cpp for the real
// nodes, fakes in the tests).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "roles/backup.hpp"
#include "roles/progress.hpp"

namespace pgha {

enum class RestoreKind { time, latest, backup };

struct RestoreTarget {
  RestoreKind kind = RestoreKind::latest;
  int64_t time_us = 0;  // kind time: epoch microseconds (UTC)
  std::string label;    // kind backup: the backup set
  bool operator==(const RestoreTarget& o) const {
    return kind == o.kind && time_us == o.time_us && label == o.label;
  }
};
// "to 2026-12-01 05:03:12.250000+00", "to the end of the archived WAL", "to backup 20261201-050312F".
std::string describe_target(const RestoreTarget& t);

// Parses a --to value: "YYYY-MM-DD HH:MM:SS[.ffffff]" with an optional "T" between date and time and
// an optional zone ("Z", "+HH", "+HH:MM", "-HHMM"); without a zone the time is UTC. Returns epoch
// microseconds. Errors: bad_input naming the accepted form.
Result<int64_t> parse_target_time(const std::string& text);

// The pgbackrest restore options for a target (after "restore"): a time gives --type=time
// --target=... --target-action=promote; latest replays every archived WAL; a backup restores that set
// to its consistency point (--type=immediate).
std::string restore_options(const RestoreTarget& t);

// Preflight: Ok when the repository can reach the target. Errors (bad_input, exit 2): no backup at
// all; a time before the oldest backup's stop or after the archived WAL's end (the message names the
// window); a label the repository does not list (the message names the labels).
Status check_target(const RestoreTarget& t, const StanzaInfo& info, const RecoveryWindow& w);

enum class RestoreStage {
  planned,
  stopped,
  dcs_cleared,
  restored,
  leader_started,
  replicas_rebuilt,
  archived,
  backed_up,
  verified,
  done
};
const char* stage_name(RestoreStage s);
std::optional<RestoreStage> stage_from_name(const std::string& s);

// What the state directory keeps about a restore in progress.
struct RestoreRecord {
  std::string id;  // names the moved-aside directories (<data_dir>.pgha-restore-<id>) and node markers
  RestoreTarget target;
  std::string node;  // where the data is restored; the new leader
  RestoreStage stage = RestoreStage::planned;
};
nlohmann::json record_json(const RestoreRecord& r);
// Errors: bad_input (the file is damaged: the message says which field).
Result<RestoreRecord> record_from_json(const nlohmann::json& j);

// Where the record lives. load(): nullopt when no restore is in progress.
class RestoreRecordStore {
 public:
  virtual ~RestoreRecordStore() = default;
  virtual Result<std::optional<RestoreRecord>> load() = 0;
  virtual Status save(const RestoreRecord& r) = 0;
  virtual Status clear() = 0;
};
// <state dir>/restore.json, written atomically (0600).
std::unique_ptr<RestoreRecordStore> file_restore_records(const std::string& state_dir);

// A restore already in progress and the one asked for now. Ok(record) to go on with: the recorded
// one when the targets agree (resuming), else nullopt when none is recorded (start a new one).
// Error (bad_input) when a restore to another target is in progress.
Result<std::optional<RestoreRecord>> resume_or_refuse(const std::optional<RestoreRecord>& recorded,
                                                      const RestoreTarget& asked);

// The side effects of each stage. Each must be idempotent: it is called again after an interruption.
class RestoreSteps {
 public:
  virtual ~RestoreSteps() = default;
  virtual Status stop_cluster(const RestoreRecord& r) = 0;
  virtual Status clear_dcs(const RestoreRecord& r) = 0;
  virtual Status restore_data(const RestoreRecord& r) = 0;
  virtual Status start_leader(const RestoreRecord& r) = 0;
  virtual Status rebuild_replicas(const RestoreRecord& r) = 0;
  virtual Status check_archive(const RestoreRecord& r) = 0;
  virtual Status full_backup(const RestoreRecord& r) = 0;
  virtual Status verify(const RestoreRecord& r) = 0;
  virtual Status drop_old_data(const RestoreRecord& r) = 0;
};

enum class OldData { remove, keep };

// Runs the stages after rec.stage in order, saving the record after each; on success the record is
// cleared. A failed stage leaves the record at the last finished stage and returns its error.
Status run_restore_stages(RestoreRecord& rec, RestoreSteps& steps, RestoreRecordStore& store,
                          Progress& progress, OldData old_data);

}  // namespace pgha
