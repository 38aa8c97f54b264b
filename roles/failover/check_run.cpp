#include "roles/failover/check_run.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include "roles/failover/analysis.hpp"
#include "roles/failover/cluster_wait.hpp"

namespace pgha {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Probes {
  std::vector<std::unique_ptr<WriteProbe>> all;
  void start() {
    for (auto& p : all) p->start();
  }
  void stop() {
    for (auto& p : all) p->stop();
  }
  // Every probe has `n` acks of writes sent at or after t; waits up to `timeout`.
  bool wait_acks(double t, int n, seconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      bool all_ok = true;
      for (const auto& p : all) all_ok = all_ok && p->acks_sent_after(t) >= n;
      if (all_ok) return true;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
  }
};

// The write probes of one cycle: through HAProxy on a node that is not the primary (the fault must
// not take the probe's own load balancer down), through the VIP when there is one, and optionally
// straight to whichever node Patroni says leads.
Probes make_probes(const Inventory& inv, const std::string& primary, const std::string& run_id,
                   const SuperuserLogin& login, const TlsClient& tls, const CheckOptions& o) {
  Probes probes;
  const Node* lb = nullptr;
  for (const Node* n : inv.nodes_with(Role::haproxy))
    if (!lb || (lb->name == primary && n->name != primary)) lb = n;
  auto add = [&](const std::string& via, const std::string& target, WriteProbe::Resolve resolve) {
    probes.all.push_back(std::make_unique<WriteProbe>(via, target, run_id, std::move(resolve), o.probe));
  };
  if (lb) {
    PgParams p = superuser_at(lb->address, inv.ports.haproxy_write, login);
    add("haproxy", lb->address + ":" + std::to_string(inv.ports.haproxy_write),
        [p] { return std::optional<PgParams>(p); });
  }
  if (!inv.network.vip.empty() && !inv.nodes_with(Role::keepalived).empty()) {
    PgParams p = superuser_at(inv.network.vip, inv.ports.haproxy_write, login);
    add("vip", inv.network.vip + ":" + std::to_string(inv.ports.haproxy_write),
        [p] { return std::optional<PgParams>(p); });
  }
  if (o.direct) {
    std::shared_ptr<PatroniRest> rest = make_patroni_rest(inv, tls, o.monitor.timeout_ms);
    add("direct", "leader:" + std::to_string(inv.ports.postgres),
        [&inv, rest, login]() -> std::optional<PgParams> {
          auto c = rest->cluster();
          const PatroniMember* l = c ? c->leader() : nullptr;
          const Node* n = l ? inv.find_node(l->name) : nullptr;
          if (!n) return std::nullopt;
          return superuser_at(n->address, inv.ports.postgres, login);
        });
  }
  return probes;
}

// When the new primary took over: the end of the old timeline in Patroni's /history, else (no new
// timeline: the old primary recovered in place) the DCS showing a running leader again.
std::optional<double> promoted_at(PatroniRest& rest, const RunResult& r,
                                  const std::vector<LeaderSample>& samples, std::optional<double> detected) {
  if (r.timeline_after > r.timeline_before) {
    if (auto h = rest.history()) {
      for (const auto& e : *h)
        if (e.timeline == r.timeline_before && e.at > 0) return e.at;
    }
  }
  return leader_running_at(samples, detected.value_or(r.fault_at));
}

class Cycle {
 public:
  Cycle(const CheckDeps& d, const CheckOptions& o, int run)
      : d_(d), o_(o), rest_(make_patroni_rest(d.inv, d.secrets.tls.client, 2000)) {
    r_.run = run;
    r_.fault = o.fault ? to_string(*o.fault) : "switchover";
  }

  // Runs the cycle. false when the cluster was left unhealthy (no further runs make sense).
  bool run() {
    if (!start()) return false;
    ClusterMonitor monitor(d_.inv, d_.secrets.superuser_password, d_.secrets.tls.client, o_.monitor);
    Probes probes =
        make_probes(d_.inv, r_.old_primary, run_id_, superuser_login(d_.secrets), d_.secrets.tls.client, o_);
    monitor.start();
    probes.start();
    if (d_.guard) d_.guard->start();
    bool rejoined = exercise(probes);
    if (d_.guard) d_.guard->stop();
    double end_at = epoch_now();
    probes.stop();
    monitor.stop();
    // Even after a failed rejoin, count what was lost and seen: that is what the operator needs.
    return finish(probes, monitor, end_at, rejoined) && rejoined;
  }

  RunResult result() { return std::move(r_); }

 private:
  bool start() {
    if (auto s = wait_healthy(*rest_, d_.inv, o_.heal_timeout); !s)
      return fail("before the fault: " + s.error().describe());
    auto c = rest_->cluster();
    if (!c || !c->leader()) return fail("no leader before the fault");
    r_.old_primary = c->leader()->name;
    r_.timeline_before = c->leader()->timeline;
    auto conn = connect_node(d_.inv, r_.old_primary, superuser_login(d_.secrets));
    if (!conn) return fail(conn.error().describe());
    if (auto x = conn->exec(kProbeTableDdl, {}, milliseconds(10000)); !x) return fail(x.error().describe());
    run_id_ = std::to_string(static_cast<long long>(epoch_now() * 1000)) + "-" + std::to_string(r_.run);
    return true;
  }

  // Baseline, fault, recovery, lift, rejoin. false when the cluster did not come back healthy.
  bool exercise(Probes& probes) {
    if (!probes.wait_acks(epoch_now(), 3, seconds(60)))
      return fail("the probes never wrote before the fault");
    d_.progress.info("run " + std::to_string(r_.run) + ": " + r_.fault + " on the primary " + r_.old_primary);
    r_.fault_at = epoch_now();
    Status injected = o_.fault
                          ? d_.faults->inject(r_.old_primary)
                          : rest_->switchover(r_.old_primary, o_.switchover_to, d_.secrets.admin_password);
    r_.fault_in_effect_at = epoch_now();
    if (!injected) fail(injected.error().describe());
    if (injected && !probes.wait_acks(r_.fault_in_effect_at, 1, o_.recover_timeout))
      d_.progress.warn("writes did not resume on every path within " +
                       std::to_string(o_.recover_timeout.count()) + " s");
    std::this_thread::sleep_for(o_.hold);
    r_.lifted_at = epoch_now();
    if (d_.guard) r_.guard_fenced = d_.guard->phases(r_.old_primary, r_.fault_at).confirmed.has_value();
    if (r_.guard_fenced) {
      d_.progress.info("starting " + r_.old_primary + " again: the guard fenced it");
      if (auto s = d_.guard->restart(r_.old_primary); !s)
        return fail("starting the fenced machine: " + s.error().describe());
    } else if (o_.fault) {
      d_.progress.info("lifting " + r_.fault + " on " + r_.old_primary);
      if (auto s = d_.faults->lift(r_.old_primary); !s)
        return fail("lifting the fault: " + s.error().describe());
    }
    auto rejoined = wait_rejoin(*rest_, d_.inv, superuser_login(d_.secrets), r_.old_primary, o_.heal_timeout);
    if (!rejoined) {
      r_.rejoin_detail = rejoined.error().describe();
      return false;
    }
    r_.rejoined = true;
    r_.rejoin_s = *rejoined - r_.lifted_at;
    return true;
  }

  // Runs step until it succeeds or 90 s pass, one attempt every 2 s; the last error if it never does.
  static Status retry_transient(const std::function<Status()>& step) {
    auto deadline = std::chrono::steady_clock::now() + seconds(90);
    Status s = step();
    while (!s && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(seconds(2));
      s = step();
    }
    return s;
  }

  bool finish(const Probes& probes, const ClusterMonitor& monitor, double end_at, bool rejoined) {
    // The trace first: a cycle that fails below still draws what it saw.
    std::vector<ProbeLog> logs;
    for (const auto& p : probes.all) logs.push_back(p->snapshot());
    auto leaders = monitor.leader_samples();
    GuardPhases guard = d_.guard ? d_.guard->phases(r_.old_primary, r_.fault_at) : GuardPhases{};
    if (r_.fault_at > 0) {
      for (const auto& log : logs) r_.trace.acks.push_back(ack_times(log));
      r_.trace.roles = monitor.primary_samples();
      r_.trace.detected = detected_at(leaders, r_.old_primary, r_.fault_at);
      r_.trace.guard = guard;
    }
    bool healthy = rejoined;
    if (auto s = rejoined ? wait_healthy(*rest_, d_.inv, seconds(120)) : Status{}; !s) {
      fail("after the cycle: " + s.error().describe());
      healthy = false;
    } else if (auto a = rejoined ? retry_transient([&] {
                 return wait_replicas_apply(*rest_, d_.inv, superuser_login(d_.secrets), seconds(60));
               })
                                 : Status{};
               !a) {
      r_.rejoined = false;
      r_.rejoin_detail = "replicas stream but do not apply new WAL: " + a.error().describe();
      healthy = false;
    }
    // The leader is asked again on every attempt: right after a rejoin a member may still be restarting
    // (pg_rewind, demotion), and "the database system is shutting down" is not an answer about the run.
    std::optional<std::map<std::string, std::set<int64_t>>> rows;
    Status read = retry_transient([&]() -> Status {
      auto c = rest_->cluster();
      if (!c || !c->leader()) return Error(ErrorKind::remote_failure, "no leader after the cycle");
      r_.new_primary = c->leader()->name;
      r_.timeline_after = c->leader()->timeline;
      auto conn = connect_node(d_.inv, r_.new_primary, superuser_login(d_.secrets));
      if (!conn) return conn.error();
      auto got = probe_rows(*conn, run_id_);
      if (!got) return got.error();
      rows = std::move(got.value());
      (void)conn->exec("DELETE FROM pgha_probe WHERE run = $1", {run_id_}, milliseconds(10000));
      return {};
    });
    if (!read) return fail("reading the probe rows: " + read.error().describe());
    for (const auto& log : logs)
      r_.paths.push_back(analyze_path(log, (*rows)[log.via], r_.fault_at, r_.fault_in_effect_at, end_at));
    auto detected = detected_at(leaders, r_.old_primary, r_.fault_at);
    std::optional<double> first_ack;
    if (const PathResult* p = path_of(r_, "haproxy"); p && p->rto_s) first_ack = r_.fault_at + *p->rto_s;
    auto promoted = promoted_at(*rest_, r_, leaders, detected);
    if (r_.fault_at > 0) r_.trace.promoted = promoted;
    r_.rto = split_rto_guarded(r_.fault_at, guard, detected, promoted, first_ack);
    r_.split = find_split_brain(monitor.primary_samples(), monitor.staleness_s());
    return healthy;
  }

  bool fail(const std::string& why) {
    if (r_.error.empty()) r_.error = why;
    d_.progress.warn("run " + std::to_string(r_.run) + ": " + why);
    return false;
  }

  const CheckDeps& d_;
  const CheckOptions& o_;
  std::unique_ptr<PatroniRest> rest_;
  RunResult r_;
  std::string run_id_;
};

}  // namespace

Result<std::vector<RunResult>> run_failover_check(const CheckDeps& deps, const CheckOptions& options) {
  if (options.fault && !deps.faults) return Error(ErrorKind::internal, "a fault without an injector");
  std::vector<RunResult> runs;
  for (int i = 1; i <= options.runs; ++i) {
    Cycle cycle(deps, options, i);
    bool healthy = cycle.run();
    runs.push_back(cycle.result());
    if (!healthy) break;
  }
  if (runs.size() == 1 && runs[0].old_primary.empty()) return Error(ErrorKind::remote_failure, runs[0].error);
  return runs;
}

}  // namespace pgha
