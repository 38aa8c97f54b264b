// The Proxmox provider against the simulator (tests/proxmox_sim) over real TLS, with fault
// injection: every error path the provider promises to handle. VMs are backed by the null backend
// here; tests/e2e/proxmox.sh runs the same provider against Docker-backed VMs.
#include "providers/proxmox/proxmox_provider.hpp"

#include <filesystem>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "net/curl_http.hpp"
#include "providers/proxmox/proxmox_params.hpp"
#include "pve_sim.hpp"

namespace pgha::pve {
namespace {

namespace fs = std::filesystem;
using sim::Fault;

// Virtual time that moves as fast as the provider sleeps, with a short real pause so the
// simulator's tasks (real threads) make progress.
class FastClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override { return t_; }
  void sleep(std::chrono::milliseconds d) override {
    t_ += d;
    std::this_thread::sleep_for(std::min(d, std::chrono::milliseconds(15)));
  }

 private:
  std::chrono::steady_clock::time_point t_ = std::chrono::steady_clock::now();
};

// SSH is "up" when the null backend runs a VM with that address.
class BackendProbe final : public SshProbe {
 public:
  explicit BackendProbe(sim::NullBackend& b) : backend_(b) {}
  bool ssh_ready(const std::string& address, int port) override {
    if (port != 22) return false;
    for (const auto& [id, spec] : backend_.specs()) {
      if (spec.address == address && backend_.guest_ready(id)) return true;
    }
    return false;
  }

 private:
  sim::NullBackend& backend_;
};

const char* kKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx+/pgha= pgha@demo";

class ProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pgha-pve-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    restart(options());

    inv_.cluster_name = "demo";
    inv_.provider.type = ProviderType::proxmox;
    ProxmoxSettings& s = inv_.provider.proxmox;
    s.endpoint = server_->endpoint();
    s.nodes = {"pve1", "pve2", "pve3"};
    s.template_vmid = 9000;
    s.storage = "local-lvm";
    s.bridge = "vmbr0";
    s.vlan_tag = 20;
    s.ciuser = "root";
    s.nameserver = "10.88.0.1";
    s.ca_file = server_->ca_file();
    s.token_id = "root@pam!pgha";
    s.token_secret = "SECRET";
    inv_.network.subnet = "10.88.0.0/24";
    for (int i = 1; i <= 3; ++i) {
      Node n;
      n.name = "pg" + std::to_string(i);
      n.address = "10.88.0.1" + std::to_string(i);
      n.roles = all_roles();
      inv_.nodes.push_back(n);
    }
    req_.public_key = kKey;
    req_.state_dir = (dir_ / "state").string();
  }

  // A simulated VE 8 cluster of three hosts with the template on pve1's local-lvm (not shared).
  static sim::SimOptions options() {
    sim::SimOptions opt;
    opt.auth_fail_delay = std::chrono::milliseconds(300);
    opt.task_duration = std::chrono::milliseconds(40);
    opt.password = "ticket-pw";
    return opt;
  }

  // (Re)starts the simulator with `opt` (same certificates) and points the inventory at it.
  void restart(const sim::SimOptions& opt) {
    if (server_) {
      server_->sim().wait_idle();
      server_->stop();
      server_.reset();
    }
    server_ = std::make_unique<sim::SimServer>(opt, backend_);
    std::string error;
    ASSERT_TRUE(server_->start((dir_ / "certs").string(), "127.0.0.1", 0, error)) << error;
    inv_.provider.proxmox.endpoint = server_->endpoint();
  }

  // The four clusters the storage and privilege rules distinguish: template and clones on local-lvm
  // (not shared) or on Ceph (shared), on Proxmox VE 8 or 9. Each run gets a fresh simulator, its
  // own cluster name and state directory; `body` gets a label for its assertions.
  struct Cluster {
    bool shared;
    int version;
    std::string label() const {
      return std::string(shared ? "shared" : "local") + " storage, VE " + std::to_string(version);
    }
  };
  void for_each_cluster(const std::function<void(const Cluster&)>& body,
                        const std::function<void(sim::SimOptions&)>& tune = {}) {
    for (Cluster c : {Cluster{false, 8}, Cluster{false, 9}, Cluster{true, 8}, Cluster{true, 9}}) {
      sim::SimOptions opt = options();
      opt.version = c.version;
      opt.template_storage = c.shared ? "ceph" : "local-lvm";
      if (tune) tune(opt);
      restart(opt);
      inv_.provider.proxmox.storage = opt.template_storage;
      inv_.cluster_name = std::string("demo-") + (c.shared ? "shared" : "local") + std::to_string(c.version);
      req_.state_dir = (dir_ / ("state-" + inv_.cluster_name)).string();
      warnings_.clear();
      SCOPED_TRACE(c.label());
      body(c);
    }
  }

  // How many tasks of a type ("qmclone", "qmigrate", ...) the simulator ran.
  int tasks_of(const std::string& type) { return server_->sim().state()["task_types"].value(type, 0); }

  void TearDown() override {
    server_->sim().wait_idle();
    server_->stop();
    fs::remove_all(dir_);
  }

  std::unique_ptr<Provider> provider(Auth auth = TokenAuth{"root@pam!pgha", "SECRET"},
                                     CurlHttpOptions tls = {}) {
    if (tls.ca_file.empty() && tls.pinned_sha256.empty()) tls.ca_file = server_->ca_file();
    ProviderDeps deps;
    deps.http = std::make_unique<CurlHttp>(tls);
    deps.auth = std::move(auth);
    deps.clock = &clock_;
    deps.probe = std::make_unique<BackendProbe>(backend_);
    deps.timing.boot_timeout = std::chrono::seconds(60);
    deps.warn = [this](const std::string& m) { warnings_.push_back(m); };
    return make_proxmox_provider(std::move(deps));
  }

  // The simulator's VMs other than the template, by name.
  std::map<std::string, nlohmann::json> vms() {
    std::map<std::string, nlohmann::json> out;
    nlohmann::json state = server_->sim().state();
    for (const auto& vm : state["vms"]) {
      if (!vm["template"].get<bool>()) out[vm["config"].value("name", "")] = vm;
    }
    return out;
  }

  bool warned(const std::string& needle) const {
    for (const auto& w : warnings_) {
      if (w.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  fs::path dir_;
  sim::NullBackend backend_;
  std::unique_ptr<sim::SimServer> server_;
  FastClock clock_;
  Inventory inv_;
  ProvisionRequest req_;
  std::vector<std::string> warnings_;
};

TEST_F(ProviderTest, UpSpreadsConfiguresStartsAndIsIdempotent) {
  auto p = provider();
  auto machines = p->ensure(inv_, req_);
  ASSERT_TRUE(machines.ok()) << machines.error().describe();
  ASSERT_EQ(machines->size(), 3u);
  std::set<std::string> hosts;
  for (const Machine& m : *machines) {
    EXPECT_TRUE(m.running);
    EXPECT_EQ(m.ssh_user, "root");
    hosts.insert(m.resource_id.substr(0, m.resource_id.find('/')));
  }
  EXPECT_EQ(hosts.size(), 3u) << "anti-affinity: one database node per host";
  EXPECT_EQ((*machines)[1].address, "10.88.0.12");

  auto all = vms();
  ASSERT_EQ(all.size(), 3u);
  const auto& cfg = all["pg2"]["config"];
  EXPECT_EQ(cfg["tags"], "pgha-demo");
  EXPECT_EQ(cfg["ipconfig0"], "ip=10.88.0.12/24,gw=10.88.0.1");
  EXPECT_EQ(cfg["net0"], "virtio,bridge=vmbr0,tag=20");
  EXPECT_EQ(cfg["ciuser"], "root");
  EXPECT_EQ(cfg["nameserver"], "10.88.0.1");
  EXPECT_EQ(cfg["cores"], "2");
  EXPECT_EQ(cfg["memory"], "2048");
  EXPECT_NE(cfg["scsi0"].get<std::string>().find("size=20G"), std::string::npos) << "disk grown to disk_gb";
  EXPECT_EQ(percent_decode(cfg["sshkeys"].get<std::string>()), std::string(kKey) + "\n");
  for (const auto& [id, spec] : backend_.specs()) EXPECT_EQ(spec.authorized_keys, std::string(kKey) + "\n");

  std::ifstream state(fs::path(req_.state_dir) / "proxmox-vms.json");
  nlohmann::json recorded = nlohmann::json::parse(state);
  EXPECT_EQ(recorded["vms"]["pg1"]["vmid"], all["pg1"]["vmid"]);

  auto again = p->ensure(inv_, req_);
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_EQ(vms().size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ((*again)[i].resource_id, (*machines)[i].resource_id);

  auto listed = p->list(inv_);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 3u);
}

// The node a machine's resource id ("pve2/103") names.
std::string host_of(const Machine& m) {
  return m.resource_id.substr(0, m.resource_id.find('/'));
}

// What proxmox-vms.json records, node -> vmid.
std::map<std::string, int> recorded_vmids(const std::string& state_dir) {
  std::ifstream in(fs::path(state_dir) / "proxmox-vms.json");
  nlohmann::json doc = nlohmann::json::parse(in);
  std::map<std::string, int> out;
  for (const auto& [node, vm] : doc["vms"].items()) out[node] = vm["vmid"].get<int>();
  return out;
}

TEST_F(ProviderTest, ScaleOutToTheEmptiestHostThenScaleInRemovesOnlyThatVm) {
  // pve2 is offline for the first up, so pve1 gets two database nodes and pve3 one; once pve2 is
  // back, the emptiest host is pve2, not the first in the inventory's list.
  server_->sim().set_node_status("pve2", "offline");
  auto p = provider();
  auto three = p->ensure(inv_, req_);
  ASSERT_TRUE(three.ok()) << three.error().describe();
  EXPECT_EQ(host_of((*three)[0]), "pve1");
  EXPECT_EQ(host_of((*three)[1]), "pve3");
  EXPECT_EQ(host_of((*three)[2]), "pve1");
  server_->sim().set_node_status("pve2", "online");
  const Inventory inv3 = inv_;
  const auto before = vms();

  Node pg4 = inv_.nodes[0];
  pg4.name = "pg4";
  pg4.address = "10.88.0.14";
  inv_.nodes.push_back(pg4);
  auto four = p->ensure(inv_, req_);
  ASSERT_TRUE(four.ok()) << four.error().describe();
  ASSERT_EQ(four->size(), 4u);
  EXPECT_EQ(host_of((*four)[3]), "pve2") << "the new VM goes to the host with no database node";
  auto all = vms();
  ASSERT_EQ(all.size(), 4u);
  for (const auto& [name, vm] : before) {
    EXPECT_EQ(all[name]["vmid"], vm["vmid"]) << name << " was recreated";
    EXPECT_EQ(all[name]["node"], vm["node"]) << name << " moved";
  }
  EXPECT_EQ(all["pg4"]["config"]["tags"], "pgha-demo");
  EXPECT_TRUE(all["pg4"]["running"].get<bool>());
  const int vmid4 = all["pg4"]["vmid"].get<int>();
  EXPECT_EQ(recorded_vmids(req_.state_dir)["pg4"], vmid4);

  // pg4 leaves the inventory: ensure leaves its VM alone, list still shows it, remove takes it.
  inv_ = inv3;
  ASSERT_TRUE(p->ensure(inv_, req_).ok());
  EXPECT_TRUE(vms()["pg4"]["running"].get<bool>());
  auto listed = p->list(inv_);
  ASSERT_TRUE(listed.ok()) << listed.error().describe();
  ASSERT_EQ(listed->size(), 4u);
  const Machine gone = (*listed)[3];
  EXPECT_EQ(gone.node, "pg4");
  EXPECT_EQ(gone.address, "10.88.0.14");
  EXPECT_EQ(gone.resource_id, "pve2/" + std::to_string(vmid4));
  EXPECT_TRUE(gone.running);

  Status removed = p->remove(inv_, gone, DataRetention::remove);
  ASSERT_TRUE(removed.ok()) << removed.error().describe();
  all = vms();
  EXPECT_EQ(all.count("pg4"), 0u);
  EXPECT_EQ(backend_.specs().count(vmid4), 0u) << "the VM's backing machine is gone";
  ASSERT_EQ(all.size(), 3u);
  for (const auto& [name, vm] : before) {
    EXPECT_EQ(all[name]["vmid"], vm["vmid"]) << name;
    EXPECT_TRUE(all[name]["running"].get<bool>()) << name;
    EXPECT_EQ(backend_.specs().count(vm["vmid"].get<int>()), 1u) << name;
  }
  EXPECT_EQ(recorded_vmids(req_.state_dir).count("pg4"), 0u);
  auto after = p->list(inv_);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), 3u);

  // Already gone: success, and so is a machine list() never named.
  Status again = p->remove(inv_, gone, DataRetention::remove);
  EXPECT_TRUE(again.ok()) << again.error().describe();
  Machine unknown;
  unknown.node = "pg9";
  EXPECT_TRUE(p->remove(inv_, unknown, DataRetention::remove).ok());

  // The id taken by someone else's VM of the same name, untagged: never touched.
  server_->sim().add_foreign_vm(vmid4, "pve2", "pg4");
  Status foreign = p->remove(inv_, gone, DataRetention::remove);
  EXPECT_TRUE(foreign.ok()) << foreign.error().describe();
  EXPECT_EQ(vms().count("pg4"), 1u);
  EXPECT_TRUE(warned("is not tagged pgha-demo for node pg4; left alone"));
}

TEST_F(ProviderTest, RemoveForgetsTheRecordStraightAfterEnsure) {
  Node pg4 = inv_.nodes[0];
  pg4.name = "pg4";
  pg4.address = "10.88.0.14";
  inv_.nodes.push_back(pg4);
  auto p = provider();
  ASSERT_TRUE(p->ensure(inv_, req_).ok());
  ASSERT_EQ(recorded_vmids(req_.state_dir).count("pg4"), 1u);
  inv_.nodes.pop_back();
  auto listed = p->list(inv_);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 4u);
  // No second ensure in between (which keeps records of inventory nodes only): remove itself.
  Status s = p->remove(inv_, listed->back(), DataRetention::remove);
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(vms().count("pg4"), 0u);
  auto records = recorded_vmids(req_.state_dir);
  EXPECT_EQ(records.count("pg4"), 0u);
  EXPECT_EQ(records.size(), 3u);
}

TEST_F(ProviderTest, RemoveKeepingDataStopsAndTagsTheVmKeptDownDestroysItAndTheNodesReturnAdoptsIt) {
  Node pg4 = inv_.nodes[0];
  pg4.name = "pg4";
  pg4.address = "10.88.0.14";
  inv_.nodes.push_back(pg4);
  auto p = provider();
  ASSERT_TRUE(p->ensure(inv_, req_).ok());
  const int vmid4 = vms()["pg4"]["vmid"].get<int>();
  inv_.nodes.pop_back();
  auto listed = p->list(inv_);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->back().node, "pg4");

  Status kept = p->remove(inv_, listed->back(), DataRetention::keep);
  ASSERT_TRUE(kept.ok()) << kept.error().describe();
  auto all = vms();
  ASSERT_EQ(all.count("pg4"), 1u) << "keep: the VM's disk is the node's data";
  EXPECT_FALSE(all["pg4"]["running"].get<bool>());
  EXPECT_EQ(all["pg4"]["config"]["tags"], "pgha-demo;pgha_kept");
  EXPECT_EQ(backend_.specs().count(vmid4), 1u);
  auto after = p->list(inv_);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), 3u) << "a kept VM is no machine of the cluster: up must not find it leaving again";
  EXPECT_TRUE(p->remove(inv_, listed->back(), DataRetention::keep).ok()) << "twice is fine";

  // pg4 comes back: its kept VM, not a new clone, tagged as the cluster's again and running.
  inv_.nodes.push_back(pg4);
  auto back = p->ensure(inv_, req_);
  ASSERT_TRUE(back.ok()) << back.error().describe();
  all = vms();
  EXPECT_EQ(all.size(), 4u);
  EXPECT_EQ(all["pg4"]["vmid"], vmid4);
  EXPECT_EQ(all["pg4"]["config"]["tags"], "pgha-demo");
  EXPECT_TRUE(all["pg4"]["running"].get<bool>());

  // Kept again, then `down`: the kept VM goes with the rest.
  inv_.nodes.pop_back();
  listed = p->list(inv_);
  ASSERT_TRUE(listed.ok());
  ASSERT_TRUE(p->remove(inv_, listed->back(), DataRetention::keep).ok());
  ASSERT_TRUE(p->destroy(inv_, DataRetention::remove).ok());
  EXPECT_TRUE(vms().empty());
  EXPECT_TRUE(backend_.specs().empty());
}

TEST_F(ProviderTest, KillNodeIsAHardStopAndLiftStartsIt) {
  auto p = provider();
  ASSERT_TRUE(p->ensure(inv_, req_).ok());
  ASSERT_TRUE(p->inject(inv_, "pg2", MachineFault::kill).ok());
  EXPECT_FALSE(vms()["pg2"]["running"].get<bool>());
  EXPECT_TRUE(vms()["pg1"]["running"].get<bool>());
  ASSERT_TRUE(p->lift(inv_, "pg2", MachineFault::kill).ok());
  EXPECT_TRUE(vms()["pg2"]["running"].get<bool>());
  EXPECT_EQ(p->inject(inv_, "pg2", MachineFault::pause).error().kind, ErrorKind::bad_input);
}

TEST_F(ProviderTest, DownStopsAndDestroysOnlyThisClustersVms) {
  server_->sim().add_foreign_vm(150, "pve1", "pg1");  // same name, not tagged for us
  auto p = provider();
  ASSERT_TRUE(p->ensure(inv_, req_).ok());
  ASSERT_TRUE(p->destroy(inv_, DataRetention::remove).ok());
  auto left = server_->sim().state()["vms"];
  ASSERT_EQ(left.size(), 2u);  // the template and the foreign VM
  EXPECT_EQ(left[0]["vmid"], 150);
  EXPECT_TRUE(backend_.specs().empty());
  auto listed = p->list(inv_);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_F(ProviderTest, WrongTokenIsAnAuthErrorWithoutTheSecret) {
  auto p = provider(TokenAuth{"root@pam!pgha", "WRONG-secret"});
  auto start = std::chrono::steady_clock::now();
  auto r = p->ensure(inv_, req_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::auth);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300))
      << "401 comes after a delay";
  EXPECT_NE(r.error().describe().find("401 Authentication failed!"), std::string::npos);
  EXPECT_EQ(r.error().describe().find("WRONG-secret"), std::string::npos);
}

TEST_F(ProviderTest, TicketAuthWithCsrf) {
  auto p = provider(TicketAuth{"root@pam", "ticket-pw"});
  auto r = p->ensure(inv_, req_);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  auto bad = provider(TicketAuth{"root@pam", "nope"})->list(inv_);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::auth);
}

TEST_F(ProviderTest, LockTimeoutThenSuccess) {
  Fault f;
  f.kind = Fault::Kind::lock_timeout;
  f.method = "POST";
  f.path = "/clone$";
  f.count = 2;
  server_->sim().inject(f);
  f.method = "PUT";
  f.path = "/config$";
  f.count = 1;
  server_->sim().inject(f);
  auto r = provider()->ensure(inv_, req_);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_TRUE(warned("got timeout"));
  EXPECT_EQ(vms().size(), 3u);
}

TEST_F(ProviderTest, LockTimeoutRetriesAreBounded) {
  Fault f;
  f.kind = Fault::Kind::lock_timeout;
  f.path = "/clone$";
  f.count = -1;
  server_->sim().inject(f);
  auto r = provider()->ensure(inv_, req_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::timeout);
  EXPECT_NE(r.error().describe().find("lock-9000.conf' - got timeout"), std::string::npos);
}

TEST_F(ProviderTest, ServerErrorsOnDispatchAreRetried) {
  Fault f;
  f.kind = Fault::Kind::http_error;
  f.path = "/status/start$";
  f.status = 503;
  f.reason = "Service Unavailable";
  f.count = 1;
  server_->sim().inject(f);
  f.method = "GET";
  f.path = "/cluster/resources";
  f.status = 596;
  f.reason = "Connection timed out";
  server_->sim().inject(f);
  auto r = provider()->ensure(inv_, req_);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_TRUE(warned("503 Service Unavailable"));
}

TEST_F(ProviderTest, TaskFailureSurfacesExitStatusAndLog) {
  Fault f;
  f.kind = Fault::Kind::task_fail;
  f.path = "/clone$";
  f.message = "storage 'local-lvm' has not enough free space";
  server_->sim().inject(f);
  auto r = provider()->ensure(inv_, req_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::remote_failure);
  std::string text = r.error().describe();
  EXPECT_NE(text.find("task failed: storage 'local-lvm' has not enough free space"), std::string::npos)
      << text;
  EXPECT_NE(text.find("TASK ERROR: storage"), std::string::npos) << text;
  EXPECT_NE(text.find("node pg1"), std::string::npos) << text;
}

TEST_F(ProviderTest, VmIdRacePicksAnotherId) {
  Fault f;
  f.kind = Fault::Kind::steal_next_id;
  server_->sim().inject(f);
  auto r = provider()->ensure(inv_, req_);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_TRUE(warned("was taken"));
  auto all = vms();
  EXPECT_EQ(all.size(), 4u);
  EXPECT_EQ(all["someone-elses-vm"]["vmid"], 100);
  EXPECT_NE(all["pg1"]["vmid"], 100);
}

TEST_F(ProviderTest, RetriedCloneThatFindsItsVmIsSuccess) {
  Fault f;
  f.kind = Fault::Kind::answer_lost;
  f.path = "/clone$";
  f.status = 596;
  f.reason = "Broken pipe";
  server_->sim().inject(f);
  auto r = provider()->ensure(inv_, req_);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(vms().size(), 3u);
  EXPECT_FALSE(warned("was taken"));
}

TEST_F(ProviderTest, TaskNotVisibleRightAfterDispatch) {
  Fault f;
  f.kind = Fault::Kind::task_invisible;
  f.count = 2;
  server_->sim().inject(f);
  auto r = provider()->ensure(inv_, req_);
  ASSERT_TRUE(r.ok()) << r.error().describe();
}

TEST_F(ProviderTest, GuestAgentNotReadyYetIsWaitedFor) {
  Fault f;
  f.kind = Fault::Kind::agent_not_running;
  f.count = 5;
  server_->sim().inject(f);
  auto r = provider()->ensure(inv_, req_);
  ASSERT_TRUE(r.ok()) << r.error().describe();
}

TEST_F(ProviderTest, GuestAgentNeverReadyTimesOut) {
  Fault f;
  f.kind = Fault::Kind::agent_not_running;
  f.count = -1;
  server_->sim().inject(f);
  auto r = provider()->ensure(inv_, req_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::timeout);
  EXPECT_NE(r.error().describe().find("QEMU guest agent is not running"), std::string::npos)
      << r.error().describe();
}

TEST_F(ProviderTest, BadCertificateFingerprintIsRefused) {
  CurlHttpOptions tls;
  tls.pinned_sha256 = std::string(64, 'A');
  auto r = provider(TokenAuth{"root@pam!pgha", "SECRET"}, tls)->list(inv_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::auth);
  EXPECT_TRUE(vms().empty());

  tls.pinned_sha256 = normalize_fingerprint(server_->fingerprint());
  auto good = provider(TokenAuth{"root@pam!pgha", "SECRET"}, tls)->list(inv_);
  ASSERT_TRUE(good.ok()) << good.error().describe();
}

TEST_F(ProviderTest, NoSilentInsecureDefault) {
  // The factory with neither CA file nor fingerprint trusts only the system CAs: the simulator's
  // self-signed CA is refused.
  inv_.provider.proxmox.ca_file.clear();
  auto p = make_provider(inv_);
  ASSERT_TRUE(p.ok()) << p.error().describe();
  auto r = (*p)->list(inv_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::auth);
}

TEST_F(ProviderTest, OfflineHostGetsNoVmAndSharingIsReported) {
  server_->sim().set_node_status("pve3", "offline");
  auto r = provider()->ensure(inv_, req_);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  for (const auto& [name, vm] : vms()) EXPECT_NE(vm["node"], "pve3");
  EXPECT_TRUE(warned("pve3 is offline"));
  EXPECT_TRUE(warned("share a host"));
}

TEST_F(ProviderTest, InvalidNodeNameIsRejectedBeforeAnyCall) {
  inv_.nodes[0].name = "pg_1";
  auto r = provider()->ensure(inv_, req_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::bad_input);
  EXPECT_TRUE(vms().empty());
}

// --- Proxmox as it really behaves: local vs shared storage, the clone's lifecycle, versions ---

TEST_F(ProviderTest, PlacementCloneAndMigrateByStorageAndVersion) {
  // Local storage: every clone on the template's host (pve1), then a migration for each VM that
  // belongs elsewhere. Shared storage: each clone straight onto its host.
  std::vector<std::string> reports;
  req_.report = [&](const std::string& m) { reports.push_back(m); };
  for_each_cluster([&](const Cluster& c) {
    reports.clear();
    auto machines = provider()->ensure(inv_, req_);
    ASSERT_TRUE(machines.ok()) << machines.error().describe();
    std::set<std::string> hosts;
    for (const Machine& m : *machines) hosts.insert(host_of(m));
    EXPECT_EQ(hosts.size(), 3u) << "anti-affinity";
    EXPECT_EQ(tasks_of("qmclone"), 3);
    EXPECT_EQ(tasks_of("qmigrate"), c.shared ? 0 : 2);  // pg1's host is the template's
    for (const auto& [name, vm] : vms()) {
      EXPECT_EQ(vm["config"]["scsi0"].get<std::string>().rfind(c.shared ? "ceph:" : "local-lvm:", 0), 0u)
          << vm;
      EXPECT_EQ(vm["lock"], "");
      EXPECT_EQ(vm["config"]["tags"], cluster_tag(inv_.cluster_name));
    }
    ASSERT_EQ(reports.size(), 3u);
    EXPECT_EQ(reports[0], "node pg1: clone from template 9000 on pve1");
    EXPECT_EQ(reports[1], c.shared ? "node pg2: clone from template 9000 on pve1 with target pve2 (storage "
                                     "ceph is shared)"
                                   : "node pg2: clone from template 9000 on pve1, then migrate to pve2 "
                                     "(storage local-lvm is not shared; targetstorage local-lvm)");
    auto again = provider()->ensure(inv_, req_);
    ASSERT_TRUE(again.ok()) << again.error().describe();
    EXPECT_EQ(tasks_of("qmclone"), 3) << "idempotent";
  });
}

TEST_F(ProviderTest, PermanentProxmoxErrorsAreBadInputAndNeverRetried) {
  Error e = api_error({500, "can't clone VM to node 'pve2' (VM uses local storage)", {}, R"({"data":null})"});
  EXPECT_EQ(e.kind, ErrorKind::bad_input);
  EXPECT_FALSE(is_retryable(e));
  EXPECT_EQ(api_error({500, "SSH public key validation error", {}, ""}).kind, ErrorKind::bad_input);
  EXPECT_EQ(api_error({500, "can't clone to non-shared storage 'local-lvm'", {}, ""}).kind,
            ErrorKind::bad_input);
  EXPECT_EQ(task_error_kind("can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout"),
            ErrorKind::timeout);
  EXPECT_EQ(task_error_kind("clone failed: close (rename) atomic file 'x' failed: File exists"),
            ErrorKind::conflict);
}

TEST_F(ProviderTest, AnInvalidSshKeyIsNotRetried) {
  req_.public_key = "ssh-ed25519 not*base64 me@host";
  auto r = provider()->ensure(inv_, req_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::bad_input);
  EXPECT_NE(r.error().describe().find("SSH public key validation error"), std::string::npos);
  EXPECT_FALSE(warned("retrying"));
}

TEST_F(ProviderTest, LockTimeoutInsideTheCloneTaskIsRetried) {
  for_each_cluster([&](const Cluster& c) {
    Fault f;
    f.kind = Fault::Kind::task_lock_timeout;
    f.path = "/clone$";
    f.count = 2;
    server_->sim().inject(f);
    f.path = c.shared ? "/status/start$" : "/migrate$";
    f.count = 1;
    server_->sim().inject(f);
    auto r = provider()->ensure(inv_, req_);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_TRUE(warned("lock-9000.conf' - got timeout"));
    EXPECT_EQ(vms().size(), 3u);
    EXPECT_EQ(tasks_of("qmclone"), 5);
  });
}

TEST_F(ProviderTest, AForeignIdInsideTheCloneTaskPicksANewIdAndLeavesTheStateFile) {
  // steal_next_id puts someone else's VM on pve3 under the id nextid just gave: the dispatch on
  // pve1 passes, the task fails with "File exists".
  for_each_cluster([&](const Cluster&) {
    Fault f;
    f.kind = Fault::Kind::steal_next_id;
    server_->sim().inject(f);
    auto r = provider()->ensure(inv_, req_);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_TRUE(warned("File exists"));
    auto all = vms();
    EXPECT_EQ(all.size(), 4u);
    EXPECT_EQ(all["someone-elses-vm"]["vmid"], 100);
    for (const auto& [node, vmid] : recorded_vmids(req_.state_dir)) EXPECT_NE(vmid, 100) << node;
  });
}

TEST_F(ProviderTest, ACloneStillRunningIsWaitedForNotClonedAgain) {
  // An earlier run dispatched pg1's clone (recorded as VM 100 for pve2) and died. The re-run finds
  // VM 100 on the template's host, locked, with no name in /cluster/resources (pvestatd has not
  // seen it): it waits, moves it to pve2 and configures it; no second clone, no orphan.
  auto stale = [](sim::SimOptions& o) { o.stats_interval = std::chrono::hours(1); };
  for_each_cluster(
      [&](const Cluster&) {
        fs::create_directories(req_.state_dir);
        std::ofstream(fs::path(req_.state_dir) / "proxmox-vms.json")
            << R"({"vms": {"pg1": {"vmid": 100, "host": "pve2"}}})";
        Fault slow;
        slow.kind = Fault::Kind::slow_task;
        slow.path = "/clone$";
        slow.delay = std::chrono::milliseconds(4000);  // still running when the re-run looks
        server_->sim().inject(slow);
        sim::SimRequest clone;
        clone.method = "POST";
        clone.path = "/api2/json/nodes/pve1/qemu/9000/clone";
        clone.body = "newid=100&name=pg1&full=1";
        clone.headers["authorization"] = "PVEAPIToken=root@pam!pgha=SECRET";
        clone.headers["content-type"] = "application/x-www-form-urlencoded";
        ASSERT_EQ(server_->sim().handle(clone).status, 200);
        auto r = provider()->ensure(inv_, req_);
        ASSERT_TRUE(r.ok()) << r.error().describe();
        EXPECT_TRUE(warned("VM 100 is locked (clone)"));
        auto all = vms();
        ASSERT_EQ(all.size(), 3u);
        EXPECT_EQ(all["pg1"]["vmid"], 100);
        EXPECT_EQ(all["pg1"]["node"], "pve2");
        EXPECT_EQ(all["pg1"]["config"]["tags"], cluster_tag(inv_.cluster_name));
        EXPECT_EQ(tasks_of("qmclone"), 3);
      },
      stale);
}

TEST_F(ProviderTest, ALostCloneAnswerIsRecoveredWithoutASecondVm) {
  auto stale = [](sim::SimOptions& o) { o.stats_interval = std::chrono::hours(1); };  // no names
  for_each_cluster(
      [&](const Cluster&) {
        Fault f;
        f.kind = Fault::Kind::answer_lost;
        f.path = "/clone$";
        f.status = 596;
        f.reason = "Broken pipe";
        server_->sim().inject(f);
        auto r = provider()->ensure(inv_, req_);
        ASSERT_TRUE(r.ok()) << r.error().describe();
        auto all = vms();
        EXPECT_EQ(all.size(), 3u);
        EXPECT_EQ(all.count(""), 0u) << "an orphan without a name";
        EXPECT_FALSE(warned("was taken"));
        auto again = provider()->ensure(inv_, req_);
        ASSERT_TRUE(again.ok()) << again.error().describe();
        EXPECT_EQ(vms().size(), 3u);
      },
      stale);
}

TEST_F(ProviderTest, ListReadsNamesAndStatesFromTheVmsNotFromPvestatd) {
  sim::SimOptions opt = options();
  opt.stats_interval = std::chrono::hours(1);  // /cluster/resources never learns the clones' names
  restart(opt);
  auto p = provider();
  ASSERT_TRUE(p->ensure(inv_, req_).ok());
  auto listed = p->list(inv_);
  ASSERT_TRUE(listed.ok()) << listed.error().describe();
  ASSERT_EQ(listed->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*listed)[i].node, inv_.nodes[i].name);
    EXPECT_TRUE((*listed)[i].running) << (*listed)[i].node;
  }
  ASSERT_TRUE(p->inject(inv_, "pg2", MachineFault::kill).ok());
  auto after = p->list(inv_);
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE((*after)[1].running);
}

TEST_F(ProviderTest, AMissingPrivilegeIsRefusedBeforeTheFirstClone) {
  struct Case {
    int version;
    std::string dropped;
    std::string storage = "local-lvm";
    std::string path = "/vms";
  };
  for (const Case& c : {Case{8, "VM.Monitor"}, Case{9, "VM.GuestAgent.Audit"}, Case{9, "VM.Migrate"},
                        Case{8, "VM.Monitor", "ceph"}, Case{9, "VM.GuestAgent.Audit", "ceph"},
                        Case{9, "Datastore.AllocateSpace", "ceph", "/storage/ceph"}}) {
    SCOPED_TRACE(c.dropped + " on " + c.storage + ", VE " + std::to_string(c.version));
    sim::SimOptions opt = options();
    opt.version = c.version;
    opt.template_storage = c.storage;
    opt.privileges = sim::all_privileges(c.version);
    opt.privileges.erase(c.dropped);
    restart(opt);
    inv_.provider.proxmox.storage = c.storage;
    auto r = provider()->ensure(inv_, req_);
    ASSERT_FALSE(r.ok()) << c.dropped;
    EXPECT_EQ(r.error().kind, ErrorKind::auth);
    std::string text = r.error().describe();
    EXPECT_NE(text.find(c.dropped + " on " + c.path), std::string::npos) << text;
    EXPECT_NE(text.find("Proxmox VE " + std::to_string(c.version)), std::string::npos) << text;
    EXPECT_EQ(tasks_of("qmclone"), 0) << text;
  }
}

TEST_F(ProviderTest, SharedStorageNeedsNoVmMigrate) {
  // With shared storage every clone goes straight to its host, so a token without VM.Migrate is
  // enough (on local storage the same token is refused, above).
  sim::SimOptions opt = options();
  opt.version = 9;
  opt.template_storage = "ceph";
  opt.privileges = sim::all_privileges(9);
  opt.privileges.erase("VM.Migrate");
  restart(opt);
  inv_.provider.proxmox.storage = "ceph";
  auto r = provider()->ensure(inv_, req_);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(tasks_of("qmclone"), 3);
  EXPECT_EQ(tasks_of("qmigrate"), 0);
}

TEST_F(ProviderTest, TheTemplateIsCheckedBeforeTheFirstClone) {
  struct Case {
    std::function<void(sim::SimOptions&)> tune;
    std::string expected;
  };
  std::vector<Case> cases = {
      {[](sim::SimOptions& o) { o.template_cloudinit = false; },
       "template VM 9000 on pve1 has no cloud-init drive"},
      {[](sim::SimOptions& o) { o.template_agent = false; },
       "template VM 9000 on pve1 lacks the agent option"},
      {[](sim::SimOptions& o) { o.template_is_template = false; }, "VM 9000 on pve1 is not a template"},
      {[](sim::SimOptions& o) {
         o.storages = {{"local", "dir", false}};
       },
       "storage 'local-lvm' does not exist"},
      {[](sim::SimOptions& o) {
         o.storages = {{"local-lvm", "lvmthin", false, {"pve1", "pve2"}}};
       },
       "storage 'local-lvm' is not available on Proxmox host pve3"}};
  for (const Case& c : cases) {
    sim::SimOptions opt = options();
    c.tune(opt);
    restart(opt);
    auto r = provider()->ensure(inv_, req_);
    ASSERT_FALSE(r.ok()) << c.expected;
    EXPECT_EQ(r.error().kind, ErrorKind::bad_input);
    EXPECT_NE(r.error().describe().find(c.expected), std::string::npos) << r.error().describe();
    EXPECT_EQ(tasks_of("qmclone"), 0);
  }
}

// --- provider.proxmox.templates: a template of its own on each host, and the route plan shows ---

// The simulator with templates 9001 on pve2 and 9002 on pve3 besides 9000 on pve1.
void own_templates(sim::SimOptions& o) {
  o.node_templates = {{"pve2", 9001}, {"pve3", 9002}};
}

TEST_F(ProviderTest, AHostsOwnTemplateIsClonedOnThatHostWithoutTargetOrMigration) {
  // Every host has its own template, so `template` is not needed: three clones, each on its own
  // host, and no migration, whatever the storage.
  inv_.provider.proxmox.template_vmid = 0;
  inv_.provider.proxmox.templates = {{"pve1", 9000}, {"pve2", 9001}, {"pve3", 9002}};
  std::vector<std::string> reports;
  req_.report = [&](const std::string& m) { reports.push_back(m); };
  for_each_cluster(
      [&](const Cluster&) {
        reports.clear();
        auto machines = provider()->ensure(inv_, req_);
        ASSERT_TRUE(machines.ok()) << machines.error().describe();
        std::map<std::string, std::string> host;
        for (const Machine& m : *machines) host[m.node] = host_of(m);
        EXPECT_EQ(host,
                  (std::map<std::string, std::string>{{"pg1", "pve1"}, {"pg2", "pve2"}, {"pg3", "pve3"}}));
        EXPECT_EQ(tasks_of("qmclone"), 3);
        EXPECT_EQ(tasks_of("qmigrate"), 0);
        EXPECT_EQ(reports, (std::vector<std::string>{"node pg1: clone from pve1's own template 9000",
                                                     "node pg2: clone from pve2's own template 9001",
                                                     "node pg3: clone from pve3's own template 9002"}));
        auto again = provider()->ensure(inv_, req_);
        ASSERT_TRUE(again.ok()) << again.error().describe();
        EXPECT_EQ(tasks_of("qmclone"), 3) << "idempotent";
        EXPECT_EQ(vms().size(), 3u) << "templates are never taken for the cluster's VMs";
      },
      own_templates);
}

TEST_F(ProviderTest, HostsWithoutTheirOwnTemplateTakeTheSharedOnesRoute) {
  // Only pve3 has a template of its own: pg1 is cloned on pve1 (the template's host), pg2 there too
  // and migrated (local storage), pg3 on pve3 from 9002.
  inv_.provider.proxmox.templates = {{"pve3", 9002}};
  for_each_cluster(
      [&](const Cluster& c) {
        auto machines = provider()->ensure(inv_, req_);
        ASSERT_TRUE(machines.ok()) << machines.error().describe();
        EXPECT_EQ(host_of((*machines)[2]), "pve3");
        EXPECT_EQ(tasks_of("qmclone"), 3);
        EXPECT_EQ(tasks_of("qmigrate"), c.shared ? 0 : 1);
      },
      own_templates);
}

TEST_F(ProviderTest, CreationRoutesSayWhichWayEachVmGoesAndChangeNothing) {
  for_each_cluster([&](const Cluster& c) {
    auto routes = provider()->creation_routes(inv_, {"pg1", "pg2", "pg3"}, RouteSource::provider);
    ASSERT_TRUE(routes.ok()) << routes.error().describe();
    EXPECT_EQ(routes->at("pg1"), "clone from template 9000 on pve1");
    EXPECT_EQ(routes->at("pg3"), c.shared
                                     ? "clone from template 9000 on pve1 with target pve3 (storage ceph is "
                                       "shared)"
                                     : "clone from template 9000 on pve1, then migrate to pve3 (storage "
                                       "local-lvm is not shared; targetstorage local-lvm)");
    EXPECT_EQ(tasks_of("qmclone"), 0);
    EXPECT_TRUE(vms().empty());

    // Existing VMs count: with pg1 and pg2 up, a new pg3 goes to the host they left free.
    Inventory two = inv_;
    two.nodes.pop_back();
    ASSERT_TRUE(provider()->ensure(two, req_).ok());
    routes = provider()->creation_routes(inv_, {"pg3"}, RouteSource::provider);
    ASSERT_TRUE(routes.ok()) << routes.error().describe();
    ASSERT_EQ(routes->size(), 1u);
    EXPECT_NE(routes->at("pg3").find(c.shared ? "with target pve3" : "then migrate to pve3"),
              std::string::npos)
        << routes->at("pg3");
    auto machines = provider()->ensure(inv_, req_);
    ASSERT_TRUE(machines.ok()) << machines.error().describe();
    EXPECT_EQ(host_of((*machines)[2]), "pve3") << "the route plan showed is the one up took";
  });
  // With a template on each host.
  sim::SimOptions opt = options();
  own_templates(opt);
  restart(opt);
  inv_.provider.proxmox.templates = {{"pve2", 9001}, {"pve3", 9002}};
  auto routes = provider()->creation_routes(inv_, {"pg1", "pg2", "pg3"}, RouteSource::provider);
  ASSERT_TRUE(routes.ok()) << routes.error().describe();
  EXPECT_EQ(*routes, (std::map<std::string, std::string>{{"pg1", "clone from template 9000 on pve1"},
                                                         {"pg2", "clone from pve2's own template 9001"},
                                                         {"pg3", "clone from pve3's own template 9002"}}));
}

TEST_F(ProviderTest, EachHostsTemplateIsCheckedOnItsOwnHost) {
  struct Case {
    std::map<std::string, int> templates;
    std::string expected;
  };
  sim::SimOptions opt = options();
  own_templates(opt);
  restart(opt);
  for (const Case& c :
       {Case{{{"pve2", 9000}},
             "provider.proxmox.templates.pve2: template VM 9000 is on pve1, "
             "not on pve2"},
        Case{{{"pve3", 9005}}, "provider.proxmox.templates.pve3: template VM 9005 does not exist"}}) {
    inv_.provider.proxmox.templates = c.templates;
    auto r = provider()->ensure(inv_, req_);
    ASSERT_FALSE(r.ok()) << c.expected;
    EXPECT_NE(r.error().describe().find(c.expected), std::string::npos) << r.error().describe();
    auto routes = provider()->creation_routes(inv_, {"pg1"}, RouteSource::provider);
    ASSERT_FALSE(routes.ok());
    EXPECT_NE(routes.error().describe().find(c.expected), std::string::npos) << routes.error().describe();
    EXPECT_EQ(tasks_of("qmclone"), 0);
  }
}

}  // namespace
}  // namespace pgha::pve
