// Watches every Patroni node throughout a cycle, one thread per node so a frozen or unreachable node
// never delays the others. Each round asks the node GET /primary, GET /cluster, and its postgres
// `SELECT pg_is_in_recovery()` (a direct superuser connection), and records what it heard.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/endpoints.hpp"
#include "core/inventory.hpp"
#include "net/pg_conn.hpp"
#include "roles/failover/rto.hpp"
#include "roles/failover/split_brain.hpp"

namespace pgha {

struct MonitorSettings {
  std::chrono::milliseconds interval{200};
  long timeout_ms = 800;  // per request; a node silent for longer is "unknown" this round
};

class ClusterMonitor {
 public:
  ClusterMonitor(const Inventory& inv, std::string superuser_password, TlsClient tls,
                 MonitorSettings settings);
  ~ClusterMonitor();
  ClusterMonitor(const ClusterMonitor&) = delete;
  ClusterMonitor& operator=(const ClusterMonitor&) = delete;

  void start();
  void stop();
  std::vector<PrimarySample> primary_samples() const;
  std::vector<LeaderSample> leader_samples() const;
  // How long an answer stays valid for split-brain purposes: a round plus both timeouts.
  double staleness_s() const;

 private:
  void watch(const Node* node);

  const Inventory& inv_;
  std::string password_;
  TlsClient tls_;
  MonitorSettings settings_;
  mutable std::mutex mu_;
  std::vector<PrimarySample> primary_;
  std::vector<LeaderSample> leader_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace pgha
