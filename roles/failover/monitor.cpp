#include "roles/failover/monitor.hpp"

#include <optional>

#include "roles/failover/patroni_rest.hpp"
#include "roles/failover/write_probe.hpp"

namespace pgha {

ClusterMonitor::ClusterMonitor(const Inventory& inv, std::string superuser_password, TlsClient tls,
                               MonitorSettings settings)
    : inv_(inv), password_(std::move(superuser_password)), tls_(std::move(tls)), settings_(settings) {}

ClusterMonitor::~ClusterMonitor() {
  stop();
}

void ClusterMonitor::start() {
  stop_ = false;
  for (const Node* n : inv_.nodes_with(Role::patroni)) threads_.emplace_back([this, n] { watch(n); });
}

void ClusterMonitor::stop() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

std::vector<PrimarySample> ClusterMonitor::primary_samples() const {
  std::lock_guard<std::mutex> lock(mu_);
  return primary_;
}

std::vector<LeaderSample> ClusterMonitor::leader_samples() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leader_;
}

double ClusterMonitor::staleness_s() const {
  return (settings_.interval.count() + 2.0 * settings_.timeout_ms) / 1000.0;
}

void ClusterMonitor::watch(const Node* node) {
  auto rest = make_patroni_rest(inv_, tls_, settings_.timeout_ms);
  const std::chrono::milliseconds timeout(settings_.timeout_ms);
  PgParams params;
  params.host = node->address;
  params.port = inv_.ports.postgres;
  params.password = password_;
  params.sslrootcert = tls_.ca_file;
  params.application_name = "pgha-monitor";
  std::optional<PgConn> pg;
  while (!stop_) {
    auto next = std::chrono::steady_clock::now() + settings_.interval;

    double t0 = epoch_now();
    Claim by_patroni = rest->primary_claim(*node);
    double t1 = epoch_now();
    auto cluster = rest->cluster_from(*node);
    double t2 = epoch_now();

    Claim by_postgres = Claim::unknown;
    if (!pg || !pg->usable()) {
      pg.reset();
      auto c = PgConn::connect(params, timeout);
      if (c) pg.emplace(std::move(c.value()));
    }
    if (pg) {
      auto rows = pg->exec("SELECT pg_is_in_recovery()", {}, timeout);
      if (rows && !rows->empty() && !rows->front().empty())
        by_postgres = rows->front()[0] == "f" ? Claim::yes : Claim::no;
    }
    double t3 = epoch_now();

    std::lock_guard<std::mutex> lock(mu_);
    primary_.push_back({node->name, PrimarySignal::patroni, (t0 + t1) / 2, by_patroni});
    primary_.push_back({node->name, PrimarySignal::postgres, (t2 + t3) / 2, by_postgres});
    if (cluster) {
      LeaderSample s;
      s.at = (t1 + t2) / 2;
      s.asked = node->name;
      if (const PatroniMember* l = cluster->leader()) {
        s.leader = l->name;
        s.leader_state = l->state;
        s.timeline = l->timeline;
      }
      leader_.push_back(std::move(s));
    }
    while (!stop_ && std::chrono::steady_clock::now() < next)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace pgha
