// A whole guard for one cluster, wired to the real seams: the etcd gateway on every etcd member,
// RealGuardCluster, the real clock. `pgha guard` runs one in the foreground; `check failover --guard`
// runs one per cycle on a thread of its own (GuardThread, also the failover check's CheckGuard).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "guard/guard_cluster.hpp"
#include "guard/guard_loop.hpp"
#include "roles/failover/check_run.hpp"

namespace pgha::guard {

// The decision settings an inventory and its provider give.
Settings settings_for(const Inventory& inv, FenceSupport support, Mode mode);

// The etcd gateway on every etcd member of the inventory ("http://ADDRESS:PORT").
std::unique_ptr<EtcdKv> make_etcd(const Inventory& inv, const TlsClient& tls, long timeout_ms);

class GuardRunner {
 public:
  GuardRunner(ClusterSeams seams, Settings settings, Guard::Sink sink);
  // Rounds every 500 ms until stop is set.
  void run(const std::atomic<bool>& stop) { guard_.run(stop); }
  Guard& guard() { return guard_; }

 private:
  std::unique_ptr<EtcdKv> etcd_;
  RealGuardCluster cluster_;
  Guard guard_;
};

// A GuardRunner on its own thread, started and stopped by the failover check; each start is a fresh
// guard (its own cooldown).
class GuardThread final : public CheckGuard {
 public:
  GuardThread(ClusterSeams seams, Settings settings, Guard::Sink sink);
  ~GuardThread() override;
  void start() override;
  void stop() override;
  GuardPhases phases(const std::string& node, double after) const override;
  Status restart(const std::string& node) override;

 private:
  ClusterSeams seams_;
  Settings settings_;
  Guard::Sink sink_;
  std::unique_ptr<GuardRunner> runner_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace pgha::guard
