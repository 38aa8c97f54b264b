// The guard's decisions, pure: observations in (with the time they were made), decisions out. No I/O
// and no clock of its own, so every rule is unit-tested with made-up observations
// (tests/unit/guard_decide_test.cpp). The loop that gathers observations and carries out decisions is
// guard/guard_loop.*.
//
// The safety argument, in the order the guard checks it:
//   1. the leader's Patroni REST API and its PostgreSQL both fail for detect_s, continuously;
//   2. none of the "never" rules holds: etcd has quorum, a replica was streaming (sync mode: a
//      synchronous standby) while the leader was last healthy, Patroni is not paused, no switchover,
//      restore or rolling change is under way, no fence within the cooldown;
//   3. at least one healthy replica, asked from its own side, also fails to reach the leader, and no
//      replica that answered still reaches it (the guard's own network trouble never fences);
//   4. the provider confirms the machine stopped (a fence it cannot confirm deletes nothing);
//   5. the machine is re-read as stopped and the leader key re-read: only a key that still names the
//      fenced member is deleted, by a transaction on its value and that mod_revision.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pgha::guard {

enum class Mode { act, dry_run };
// Whether the provider can stop a machine for good (Docker, Proxmox) or not (static hosts).
enum class Fencing { provider, observer_only };
enum class RestartFenced { no, yes };

struct Settings {
  double detect_s = 3;
  double cooldown_s = 600;
  bool sync_mode = false;
  Mode mode = Mode::act;
  Fencing fencing = Fencing::provider;
  RestartFenced restart = RestartFenced::no;
};

// Patroni's leader key as etcd holds it.
struct LeaderKey {
  std::string member;
  int64_t mod_revision = 0;
};

// One watch round (every 500 ms).
struct Observation {
  double at = 0;                    // seconds, from the loop's clock
  bool etcd_quorum = false;         // a linearizable read of the leader key succeeded
  std::optional<LeaderKey> leader;  // nullopt: no leader key (or etcd unreadable)
  bool rest_ok = false;             // the leader's Patroni REST API answered
  bool pg_ok = false;               // a PostgreSQL connection to the leader succeeded
  // From Patroni's /cluster as any member answers it; absent when no member answered.
  std::optional<bool> paused;
  std::vector<std::string> streaming;      // replicas streaming from the leader
  std::vector<std::string> sync_standbys;  // of those, the synchronous standbys
  bool switchover_pending = false;         // Patroni's /failover key or a scheduled switchover
  std::string hold;  // "" or why a switchover, restore or rolling change is under way (its marker)
};

// A replica's answer, asked over its SSH session: is it itself healthy, and can it reach the leader?
struct ReplicaView {
  std::string name;
  bool answered = false;      // the SSH command ran and its output was understood
  bool self_healthy = false;  // its own Patroni REST API answers on the node
  bool reaches_rest = false;  // it reaches the leader's Patroni REST API
  bool reaches_pg = false;    // it reaches the leader's PostgreSQL port
};

enum class Action {
  observe,      // nothing to do (reason says what was seen, for the log)
  suspect,      // ask these replicas (targets) whether they reach the leader
  fence,        // fence `node` through the provider
  would_fence,  // --dry-run: what act mode would fence
  release,      // delete the leader key naming `node` if mod_revision still matches
  restart,      // start the fenced machine again (guard.restart_fenced)
  decline,      // a rule forbids going on; reason says which
};
const char* to_string(Action a);

struct Decision {
  Action action = Action::observe;
  std::string node;
  std::string reason;
  int64_t mod_revision = 0;          // release: the revision the transaction compares on
  std::vector<std::string> targets;  // suspect: the replicas to ask
};

class Core {
 public:
  explicit Core(Settings s) : s_(std::move(s)) {}

  // A watch round. observe while the leader is healthy or not yet failing for detect_s; then decline
  // (a never rule) or suspect (the replicas to ask); restart once a new leader is up after a fence.
  Decision observe(const Observation& o);
  // The replicas' answers to suspect: decline, fence, or (dry run) would_fence.
  Decision on_replicas(const Observation& o, const std::vector<ReplicaView>& views);
  // The provider's answer to fence: confirmed stopped (release next) or not (decline: nothing deleted).
  // Either way the cooldown starts at `at`.
  Decision on_fence(double at, bool confirmed, const std::string& error);
  // Right before the transaction: the machine's state and the leader key, read again.
  Decision before_release(bool machine_stopped, const std::optional<LeaderKey>& key);
  // The transaction's outcome: true when it deleted the key.
  Decision on_release(bool deleted);
  // The restart's outcome.
  void on_restart() { restart_pending_.clear(); }

  // For the report: when the current failing streak began (nullopt when the leader is healthy).
  std::optional<double> failing_since() const { return failing_since_; }

 private:
  Decision decline(std::string reason);

  Settings s_;
  std::string leader_;                       // the member the failing streak is about
  std::optional<double> failing_since_;      // first round of the current streak of both probes failing
  std::vector<std::string> last_streaming_;  // while the leader was last healthy
  std::vector<std::string> last_sync_;
  std::optional<double> last_fence_at_;
  std::string fenced_;           // the member fenced last (release and restart are about it)
  std::string restart_pending_;  // fenced and not yet started again
};

}  // namespace pgha::guard
