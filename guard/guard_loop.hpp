// The guard's loop: every round it reads the leader key, has the cluster observed, asks Core
// (guard/decide.hpp) what to do and carries it out, writing every decision as an Event. All side
// effects go through the seams below (GuardCluster, EtcdKv, GuardClock); the real ones are in
// guard/guard_cluster.*, fakes in tests/unit/guard_loop_test.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "guard/decide.hpp"
#include "guard/etcd_kv.hpp"
#include "providers/provider.hpp"

namespace pgha::guard {

class GuardClock {
 public:
  virtual ~GuardClock() = default;
  virtual double now() = 0;  // epoch seconds (the failover check lines its own times up with them)
  virtual void sleep(std::chrono::milliseconds d) = 0;
};
GuardClock& real_guard_clock();

// What the guard does to and asks of the cluster, apart from etcd.
class GuardCluster {
 public:
  virtual ~GuardCluster() = default;
  // Fills everything in o but at, etcd_quorum and leader (already set): the leader's REST API and
  // PostgreSQL, the streaming replicas, Patroni's pause and switchover state, the hold markers.
  virtual void observe(Observation& o) = 0;
  // Each replica's view of `leader`, asked from the replica's side (over its SSH session), in parallel.
  // A replica that could not be asked comes back with answered = false.
  virtual std::vector<ReplicaView> ask_replicas(const std::string& leader,
                                                const std::vector<std::string>& replicas) = 0;
  virtual Status fence(const std::string& node) = 0;  // Provider::fence
  virtual Result<PowerState> power_state(const std::string& node) = 0;
  virtual Status restart(const std::string& node) = 0;  // start the fenced machine again
};

// One line of the guard's log (printed as JSON by the CLI).
struct Event {
  double at = 0;
  std::string
      event;  // observed | suspected | fenced | confirmed | released | would_fence | restarted | declined
  std::string node;
  std::string reason;
  int64_t mod_revision = 0;  // released: the revision the transaction compared on
};
std::string event_json(const Event& e);  // one line, no newline

// When a guard acted on `node`, for the failover report; nullopt fields: it did not get that far.
struct GuardTimes {
  std::optional<double> suspected;  // suspicion began (the round detect_s was reached)
  std::optional<double> confirmed;  // the provider confirmed the machine stopped
  std::optional<double> released;   // the leader key was deleted
};

class Guard {
 public:
  using Sink = std::function<void(const Event&)>;
  Guard(Settings settings, GuardCluster& cluster, EtcdKv& etcd, std::string cluster_name, GuardClock& clock,
        Sink sink);

  // One watch round and whatever it leads to (asking replicas, fencing, releasing, restarting).
  void round();
  // Rounds every `interval` (measured start to start) until stop is set.
  void run(const std::atomic<bool>& stop,
           std::chrono::milliseconds interval = std::chrono::milliseconds(500));

  // Every event so far (thread-safe).
  std::vector<Event> events() const;
  GuardTimes times(const std::string& node, double after) const;

 private:
  void emit(Event e);
  void emit_decision(const Decision& d, double at);
  void fence_and_release(const Observation& o, const Decision& d);
  Observation observe_once();

  Core core_;
  GuardCluster& cluster_;
  EtcdKv& etcd_;
  std::string key_;
  GuardClock& clock_;
  Sink sink_;
  mutable std::mutex mu_;
  std::vector<Event> events_;
  // The last observed/suspected/declined line of each kind: a repeat is not written again.
  std::map<std::string, std::string> last_said_;
};

}  // namespace pgha::guard
