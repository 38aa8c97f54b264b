#include "guard/guard_cluster.hpp"

#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>

#include "net/curl_http.hpp"

namespace pgha::guard {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr long kProbeTimeoutMs = 800;  // each probe of a round: the round stays near 500 ms

std::string token(const std::string& out, const std::string& name) {
  size_t at = out.find(name + "=");
  if (at == std::string::npos) return "";
  size_t from = at + name.size() + 1;
  size_t end = out.find_first_of(" \n", from);
  return out.substr(from, end == std::string::npos ? std::string::npos : end - from);
}

}  // namespace

std::string hold_dir(const std::string& state_dir) {
  return state_dir + "/hold";
}

std::string read_holds(const std::string& state_dir) {
  std::error_code ec;
  std::string out;
  for (fs::directory_iterator it(hold_dir(state_dir), ec), end; !ec && it != end; it.increment(ec))
    out += (out.empty() ? "" : ", ") + it->path().filename().string();
  return out;
}

HoldMarker::HoldMarker(const std::string& state_dir, const std::string& reason)
    : path_(hold_dir(state_dir) + "/" + reason) {
  std::error_code ec;
  fs::create_directories(hold_dir(state_dir), ec);
  std::ofstream(path_) << "held by pgha\n";
}

HoldMarker::~HoldMarker() {
  std::error_code ec;
  fs::remove(path_, ec);
}

std::string replica_view_command(const Inventory& inv, const Node& self, const Node& leader) {
  const Reach ep(inv);
  // Both HTTP checks run beside pg_isready; each gives up after a second. pg_isready: 0 accepting,
  // 1 rejecting (but up), 2 no response, 3 no attempt; 124 when `timeout` ends it (libpq waits at
  // least 2 s for a connect whatever -t says, so the second is timeout's).
  return "exec 3< <(curl -s -o /dev/null -w '%{http_code}' -m 1 " +
         ep.patroni_curl(leader.address, "/patroni") +
         " </dev/null)\n"
         "exec 4< <(curl -s -o /dev/null -w '%{http_code}' -m 1 " +
         ep.patroni_curl(self.address, "/health") +
         " </dev/null)\n"
         "timeout 1 pg_isready -q -h " +
         leader.address + " -p " + std::to_string(inv.ports.postgres) +
         " -t 1 </dev/null; pg=$?\n"
         "read -r rest <&3; read -r self <&4\n"
         "echo \"self=$self rest=$rest pg=$pg\"\n";
}

ReplicaView parse_replica_view(const std::string& name, const CommandResult& r) {
  ReplicaView v;
  v.name = name;
  std::string self = token(r.out, "self"), rest = token(r.out, "rest"), pg = token(r.out, "pg");
  if (r.exit_code != 0 || self.empty() || rest.empty() || pg.empty()) return v;
  v.answered = true;
  v.self_healthy = self == "200";
  v.reaches_rest = rest != "000";
  v.reaches_pg = pg == "0" || pg == "1";
  return v;
}

RealGuardCluster::RealGuardCluster(ClusterSeams seams)
    : s_(std::move(seams)),
      rest_(make_patroni_rest(s_.inv, s_.tls, kProbeTimeoutMs)),
      http_(std::make_unique<CurlHttp>(CurlHttpOptions{.ca_file = s_.tls.ca_file,
                                                       .client_cert_file = s_.tls.cert_file,
                                                       .client_key_file = s_.tls.key_file,
                                                       .connect_timeout_ms = kProbeTimeoutMs})) {}

void RealGuardCluster::observe(Observation& o) {
  const Node* leader = s_.inv.find_node(o.leader->member);
  o.hold = read_holds(s_.state_dir);
  if (!leader) {
    o.hold = "the leader key names " + o.leader->member + ", which the inventory lacks";
    return;
  }
  // The two probes side by side: against a dead leader each waits out its timeout.
  auto rest = std::async(std::launch::async, [&] { return rest_->primary_claim(*leader) != Claim::unknown; });
  probe_postgres(*leader, o);
  read_cluster(leader->name, o);
  o.rest_ok = rest.get();
}

void RealGuardCluster::probe_postgres(const Node& leader, Observation& o) {
  if (pg_node_ != leader.name || !pg_ || !pg_->usable()) {
    pg_.reset();
    pg_node_ = leader.name;
    PgParams p;
    p.host = leader.address;
    p.port = s_.inv.ports.postgres;
    p.password = s_.superuser_password;
    p.sslrootcert = s_.tls.ca_file;
    p.application_name = "pgha-guard";
    auto c = PgConn::connect(p, milliseconds(kProbeTimeoutMs));
    if (!c) return;
    pg_.emplace(std::move(c.value()));
  }
  auto rows =
      pg_->exec("SELECT application_name, sync_state FROM pg_stat_replication WHERE state = 'streaming'", {},
                milliseconds(kProbeTimeoutMs));
  if (!rows) {
    pg_.reset();
    return;
  }
  o.pg_ok = true;
  for (const auto& row : *rows) {
    if (row.size() < 2) continue;
    o.streaming.push_back(row[0]);
    if (row[1] == "sync" || row[1] == "quorum") o.sync_standbys.push_back(row[0]);
  }
}

void RealGuardCluster::read_cluster(const std::string& leader, Observation& o) {
  // The others first: a dead leader would cost a timeout.
  std::vector<const Node*> order;
  for (const Node* n : s_.inv.nodes_with(Role::patroni))
    if (n->name != leader) order.push_back(n);
  if (const Node* l = s_.inv.find_node(leader)) order.push_back(l);
  for (const Node* n : order) {
    HttpRequest req;
    req.url = Reach(s_.inv).patroni_url(n->address, "/cluster");
    req.timeout_ms = kProbeTimeoutMs;
    auto r = http_->send(req);
    if (!r || r->status != 200) continue;
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (!j.is_object()) continue;
    auto pause = j.find("pause");
    o.paused = pause != j.end() && pause->is_boolean() && pause->get<bool>();
    o.switchover_pending = j.contains("scheduled_switchover");
    return;
  }
}

RemoteShell* RealGuardCluster::shell(const std::string& node) {
  std::optional<Machine> machine;
  {
    std::lock_guard<std::mutex> lock(shells_mu_);
    if (auto it = shells_.find(node); it != shells_.end()) return it->second.get();
    if (machines_.empty()) {
      auto m = s_.provider.list(s_.inv);
      if (!m) return nullptr;
      machines_ = std::move(m.value());
    }
    for (const auto& m : machines_)
      if (m.node == node) machine = m;
  }
  if (!machine) return nullptr;
  // The handshake outside the lock: the replicas are asked side by side, so are their connects.
  auto sh = s_.shells(*machine);
  if (!sh) return nullptr;
  std::lock_guard<std::mutex> lock(shells_mu_);
  auto& slot = shells_[node];
  if (!slot) slot = std::move(sh.value());
  return slot.get();
}

void RealGuardCluster::connect_all() {
  std::vector<std::future<RemoteShell*>> connects;
  for (const Node* n : s_.inv.nodes_with(Role::patroni))
    connects.push_back(std::async(std::launch::async, [this, n] { return shell(n->name); }));
  for (auto& c : connects) c.get();
}

std::vector<ReplicaView> RealGuardCluster::ask_replicas(const std::string& leader,
                                                        const std::vector<std::string>& replicas) {
  const Node* l = s_.inv.find_node(leader);
  std::vector<std::future<ReplicaView>> asks;
  for (const auto& name : replicas) {
    asks.push_back(std::async(std::launch::async, [this, l, name]() {
      const Node* self = s_.inv.find_node(name);
      RemoteShell* sh = l && self ? shell(name) : nullptr;
      if (!sh) return ReplicaView{name, false, false, false, false};
      auto r = sh->run("bash -s", replica_view_command(s_.inv, *self, *l));
      if (!r) {
        std::lock_guard<std::mutex> lock(shells_mu_);
        shells_.erase(name);  // reconnect next time
        return ReplicaView{name, false, false, false, false};
      }
      return parse_replica_view(name, *r);
    }));
  }
  std::vector<ReplicaView> out;
  for (auto& a : asks) out.push_back(a.get());
  return out;
}

Status RealGuardCluster::fence(const std::string& node) {
  return s_.provider.fence(s_.inv, node);
}

Result<PowerState> RealGuardCluster::power_state(const std::string& node) {
  return s_.provider.power_state(s_.inv, node);
}

Status RealGuardCluster::restart(const std::string& node) {
  return s_.provider.lift(s_.inv, node, MachineFault::kill);
}

}  // namespace pgha::guard
