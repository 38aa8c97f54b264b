#include "guard/guard_runner.hpp"

#include "net/curl_http.hpp"

namespace pgha::guard {

Settings settings_for(const Inventory& inv, FenceSupport support, Mode mode) {
  Settings s;
  s.detect_s = inv.guard.detect_s;
  s.cooldown_s = inv.guard.cooldown_s;
  s.sync_mode = inv.replication.mode == ReplicationMode::sync_mode;
  s.mode = mode;
  s.fencing = support == FenceSupport::stop ? Fencing::provider : Fencing::observer_only;
  s.restart = inv.guard.restart_fenced ? RestartFenced::yes : RestartFenced::no;
  return s;
}

std::unique_ptr<EtcdKv> make_etcd(const Inventory& inv, const TlsClient& tls, long timeout_ms) {
  std::vector<std::string> endpoints;
  for (const Node* n : inv.nodes_with(Role::etcd))
    endpoints.push_back(Reach(inv).etcd_client_url(n->address));
  CurlHttpOptions o;
  o.connect_timeout_ms = timeout_ms;
  o.ca_file = tls.ca_file;
  o.client_cert_file = tls.cert_file;
  o.client_key_file = tls.key_file;
  return std::make_unique<EtcdGateway>(std::move(endpoints), std::make_unique<CurlHttp>(o), timeout_ms);
}

GuardRunner::GuardRunner(ClusterSeams seams, Settings settings, Guard::Sink sink)
    : etcd_(make_etcd(seams.inv, seams.tls, 1000)),
      cluster_(seams),
      guard_(settings, cluster_, *etcd_, seams.inv.cluster_name, real_guard_clock(), std::move(sink)) {
  cluster_.connect_all();
}

GuardThread::GuardThread(ClusterSeams seams, Settings settings, Guard::Sink sink)
    : seams_(std::move(seams)), settings_(settings), sink_(std::move(sink)) {}

GuardThread::~GuardThread() {
  stop();
}

void GuardThread::start() {
  stop();
  runner_ = std::make_unique<GuardRunner>(seams_, settings_, sink_);
  stop_ = false;
  thread_ = std::thread([this] { runner_->run(stop_); });
}

void GuardThread::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

GuardPhases GuardThread::phases(const std::string& node, double after) const {
  if (!runner_) return {};
  GuardTimes t = runner_->guard().times(node, after);
  return {t.suspected, t.confirmed, t.released};
}

Status GuardThread::restart(const std::string& node) {
  return seams_.provider.lift(seams_.inv, node, MachineFault::kill);
}

}  // namespace pgha::guard
