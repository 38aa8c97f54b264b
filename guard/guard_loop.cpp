#include "guard/guard_loop.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

namespace pgha::guard {
namespace {

class RealClock final : public GuardClock {
 public:
  double now() override {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
  }
  void sleep(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }
};

// The line's identity for de-duplication: digits dropped, so "unanswered for 1.5 s" and "... 2.0 s"
// are the same line.
std::string shape_of(const Event& e) {
  std::string s = e.event + "|" + e.node + "|";
  for (char c : e.reason)
    if (c < '0' || c > '9') s += c;
  return s;
}

}  // namespace

GuardClock& real_guard_clock() {
  static RealClock clock;
  return clock;
}

std::string event_json(const Event& e) {
  nlohmann::json j = {{"at", e.at}, {"event", e.event}};
  if (!e.node.empty()) j["node"] = e.node;
  if (!e.reason.empty()) j["reason"] = e.reason;
  if (e.mod_revision) j["mod_revision"] = e.mod_revision;
  return j.dump();
}

Guard::Guard(Settings settings, GuardCluster& cluster, EtcdKv& etcd, std::string cluster_name,
             GuardClock& clock, Sink sink)
    : core_(std::move(settings)),
      cluster_(cluster),
      etcd_(etcd),
      key_(leader_key_path(cluster_name)),
      clock_(clock),
      sink_(std::move(sink)) {}

void Guard::emit(Event e) {
  std::lock_guard<std::mutex> lock(mu_);
  if (e.event == "observed" || e.event == "suspected" || e.event == "declined") {
    // A repeated line (the same suspicion declined for the same reason every round) is said once.
    std::string shape = shape_of(e);
    if (last_said_[e.event] == shape) return;
    if (e.event == "observed") last_said_.clear();
    last_said_[e.event] = std::move(shape);
  } else {
    last_said_.clear();
  }
  events_.push_back(e);
  if (sink_) sink_(e);
}

void Guard::emit_decision(const Decision& d, double at) {
  static const std::map<Action, const char*> kEvent = {
      {Action::observe, "observed"},        {Action::suspect, "suspected"}, {Action::fence, "fenced"},
      {Action::would_fence, "would_fence"}, {Action::release, "released"},  {Action::restart, "restarted"},
      {Action::decline, "declined"}};
  emit({at, kEvent.at(d.action), d.node, d.reason, d.mod_revision});
}

Observation Guard::observe_once() {
  Observation o;
  o.at = clock_.now();
  // A linearizable read needs the Raft leader and a quorum; without one, any member's own copy still
  // says who leads (the guard then declines: no quorum).
  auto key = etcd_.get(key_, ReadConsistency::linearizable);
  o.etcd_quorum = key.ok();
  if (!key) key = etcd_.get(key_, ReadConsistency::serializable);
  if (key && *key) o.leader = LeaderKey{(*key)->value, (*key)->mod_revision};
  if (o.leader) cluster_.observe(o);
  return o;
}

void Guard::round() {
  Observation o = observe_once();
  Decision d = core_.observe(o);
  if (d.action == Action::restart) {
    Status s = cluster_.restart(d.node);
    core_.on_restart();
    emit({clock_.now(), s ? "restarted" : "declined", d.node,
          s ? d.reason : "restart failed: " + s.error().describe(), 0});
    return;
  }
  if (d.action != Action::suspect) {
    emit_decision(d, o.at);
    return;
  }
  emit_decision(d, o.at);
  auto views = cluster_.ask_replicas(d.node, d.targets);
  Decision f = core_.on_replicas(o, views);
  if (f.action != Action::fence) {
    emit_decision(f, clock_.now());
    return;
  }
  fence_and_release(o, f);
}

void Guard::fence_and_release(const Observation& o, const Decision& f) {
  emit_decision(f, clock_.now());
  Status fenced = cluster_.fence(f.node);
  double at = clock_.now();
  Decision r = core_.on_fence(at, fenced.ok(), fenced ? "" : fenced.error().describe());
  if (r.action != Action::release) {
    emit_decision(r, at);
    return;
  }
  emit({at, "confirmed", f.node, "the provider confirms the machine stopped", 0});
  // Re-read both right before the transaction: the machine's state, and the key with quorum.
  auto power = cluster_.power_state(f.node);
  auto key = etcd_.get(key_, ReadConsistency::linearizable);
  if (!key) {
    emit({clock_.now(), "declined", f.node,
          "re-reading the leader key failed, nothing deleted: " + key.error().describe(), 0});
    return;
  }
  std::optional<LeaderKey> now;
  if (*key) now = LeaderKey{(*key)->value, (*key)->mod_revision};
  Decision d = core_.before_release(power && *power == PowerState::stopped, now);
  if (d.action != Action::release) {
    emit_decision(d, clock_.now());
    return;
  }
  auto deleted = etcd_.delete_if(key_, now->member, d.mod_revision);
  if (!deleted) {
    emit({clock_.now(), "declined", f.node,
          "the delete transaction failed (outcome unknown): " + deleted.error().describe(), 0});
    return;
  }
  Decision done = core_.on_release(*deleted);
  Event e{clock_.now(), *deleted ? "released" : "declined", f.node, done.reason,
          *deleted ? d.mod_revision : 0};
  emit(e);
  (void)o;
}

void Guard::run(const std::atomic<bool>& stop, std::chrono::milliseconds interval) {
  while (!stop.load()) {
    double started = clock_.now();
    round();
    double spent_ms = (clock_.now() - started) * 1000;
    // Sleep in small steps so stop is honoured quickly.
    auto left = interval - std::chrono::milliseconds(static_cast<long>(spent_ms));
    while (left.count() > 0 && !stop.load()) {
      auto step = std::min(left, std::chrono::milliseconds(50));
      clock_.sleep(step);
      left -= step;
    }
  }
}

std::vector<Event> Guard::events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
}

GuardTimes Guard::times(const std::string& node, double after) const {
  GuardTimes t;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& e : events_) {
    if (e.node != node || e.at < after) continue;
    if (e.event == "suspected" && !t.suspected) t.suspected = e.at;
    if (e.event == "confirmed" && !t.confirmed) t.confirmed = e.at;
    if (e.event == "released" && !t.released) t.released = e.at;
  }
  return t;
}

}  // namespace pgha::guard
