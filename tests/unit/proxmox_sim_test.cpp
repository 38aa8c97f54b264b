// The simulator's own fidelity: status lines, bodies, UPIDs, formats, as the reference describes
// (/work/shared/reference/proxmox-api.md). In-process, without TLS.
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "providers/proxmox/proxmox_params.hpp"
#include "pve_sim.hpp"

namespace pgha::sim {
namespace {

class SimTest : public ::testing::Test {
 protected:
  // The template on the shared Ceph pool, so that clones may go to any node; restart() with
  // other options for the local-storage rules.
  SimTest() { restart(options()); }

  static SimOptions options() {
    SimOptions o;
    o.auth_fail_delay = std::chrono::milliseconds(200);
    o.task_duration = std::chrono::milliseconds(10);
    o.template_storage = "ceph";
    return o;
  }
  void restart(const SimOptions& o) {
    sim_.reset();
    sim_ = std::make_unique<PveSim>(o, backend_);
  }

  SimResponse call(const std::string& method, const std::string& path, const std::string& body = "",
                   const std::string& token = "root@pam!pgha=SECRET") {
    SimRequest r;
    r.method = method;
    size_t q = path.find('?');
    r.path = "/api2/json" + path.substr(0, q);
    if (q != std::string::npos) r.query = path.substr(q + 1);
    r.body = body;
    r.headers["authorization"] = "PVEAPIToken=" + token;
    if (!body.empty()) r.headers["content-type"] = "application/x-www-form-urlencoded";
    return sim_->handle(r);
  }

  nlohmann::json data(const SimResponse& r) { return nlohmann::json::parse(r.body)["data"]; }

  std::string wait(const std::string& node, const std::string& upid) {
    for (int i = 0; i < 200; ++i) {
      auto d = data(call("GET", "/nodes/" + node + "/tasks/" + upid + "/status"));
      if (d["status"] == "stopped") return d["exitstatus"];
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return "still running";
  }

  std::string clone(int id, const std::string& target = "pve2") {
    auto r = call("POST", "/nodes/pve1/qemu/9000/clone",
                  "newid=" + std::to_string(id) + "&name=pg1&full=1&target=" + target);
    EXPECT_EQ(r.status, 200) << r.reason;
    return wait("pve1", data(r).get<std::string>());
  }

  NullBackend backend_;
  std::unique_ptr<PveSim> sim_;
};

TEST_F(SimTest, WrongTokenIs401AfterADelayWithAnEmptyBody) {
  auto start = std::chrono::steady_clock::now();
  auto r = call("GET", "/nodes", "", "root@pam!pgha=nope");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.reason, "Authentication failed!");
  EXPECT_EQ(r.body, "");
}

TEST_F(SimTest, UpidFormatAndTaskLifecycle) {
  auto r = call("POST", "/nodes/pve1/qemu/9000/clone", "newid=100&name=pg1&full=1&target=pve2");
  std::string upid = data(r);
  EXPECT_TRUE(std::regex_match(
      upid, std::regex("UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:qmclone:9000:root@pam!pgha:")))
      << upid;
  // The placeholder config sits on the source node, locked, until the task moves it at its end.
  auto during = data(call("GET", "/cluster/resources?type=vm"))[0];
  EXPECT_EQ(during["lock"], "clone");
  EXPECT_EQ(during["node"], "pve1");
  EXPECT_EQ(wait("pve1", upid), "OK");
  auto after = data(call("GET", "/cluster/resources?type=vm"))[0];
  EXPECT_EQ(after["node"], "pve2");
  EXPECT_FALSE(after.contains("lock"));
  auto log = data(call("GET", "/nodes/pve1/tasks/" + upid + "/log"));
  EXPECT_EQ(log.back()["t"], "TASK OK");
  EXPECT_EQ(call("GET", "/nodes/pve2/tasks/UPID:pve2:00000000:00000000:00000000:x:1:u:/status").status, 400);
}

TEST_F(SimTest, NextIdAnswersAStringAndRejectsTakenIds) {
  EXPECT_EQ(data(call("GET", "/cluster/nextid")), "100");
  clone(100);
  EXPECT_EQ(data(call("GET", "/cluster/nextid")), "101");
  auto r = call("GET", "/cluster/nextid?vmid=100");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(nlohmann::json::parse(r.body)["errors"]["vmid"], "VM 100 already exists");
}

TEST_F(SimTest, CloneOntoAnExistingIdFailsAtOnceWithTheReasonInTheStatusLine) {
  clone(100, "pve1");  // the dispatch checks the node it runs on (config_file($newid) is local)
  auto r = call("POST", "/nodes/pve1/qemu/9000/clone", "newid=100&name=pg1");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.reason, "unable to create VM 100: config file already exists");
}

TEST_F(SimTest, SshKeysMustBeDoubleEncoded) {
  clone(100);
  const std::string key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI+/= me@host";
  auto single = call("PUT", "/nodes/pve2/qemu/100/config", pve::form_encode({{"sshkeys", key}}));
  EXPECT_EQ(single.status, 400);
  EXPECT_EQ(nlohmann::json::parse(single.body)["errors"]["sshkeys"],
            "invalid format - value does not match the regex pattern");
  auto plus = call("PUT", "/nodes/pve2/qemu/100/config", "sshkeys=ssh-ed25519+AAAA+me");
  EXPECT_EQ(plus.status, 400);
  auto good =
      call("PUT", "/nodes/pve2/qemu/100/config", pve::form_encode({{"sshkeys", pve::sshkeys_value({key})}}));
  EXPECT_EQ(good.status, 200) << good.body;
  EXPECT_EQ(data(good), nullptr);
  EXPECT_EQ(data(call("GET", "/nodes/pve2/qemu/100/config"))["sshkeys"], pve::sshkeys_value({key}));
}

TEST_F(SimTest, FormatsAreEnforced) {
  clone(100);
  auto r = call("PUT", "/nodes/pve2/qemu/100/config",
                "name=pg_1&net0=virtio%2Cbridge%3Dvmbr0%2Ctag%3D5000&ipconfig0=ip%3D10.0.0.5&tags=Bad%20-x&"
                "cores=two&bogus=1");
  ASSERT_EQ(r.status, 400);
  EXPECT_EQ(r.reason, "Parameter verification failed.");
  auto errors = nlohmann::json::parse(r.body)["errors"];
  for (const char* k : {"name", "net0", "ipconfig0", "tags", "cores", "bogus"})
    EXPECT_TRUE(errors.contains(k)) << k;
  auto linked = call("POST", "/nodes/pve1/qemu/9000/clone", "newid=101&full=0&storage=fast");
  EXPECT_EQ(linked.status, 400);
}

TEST_F(SimTest, BodiesOnGetAndDeleteAre501) {
  auto r = call("DELETE", "/nodes/pve1/qemu/9000", "purge=1");
  EXPECT_EQ(r.status, 501);
  EXPECT_EQ(r.reason, "Unexpected content for method 'DELETE'");
}

TEST_F(SimTest, PowerAndDestroyRules) {
  clone(100);
  std::string up = data(call("POST", "/nodes/pve2/qemu/100/status/start"));
  EXPECT_EQ(wait("pve2", up), "OK");
  EXPECT_EQ(wait("pve2", data(call("POST", "/nodes/pve2/qemu/100/status/start"))), "VM 100 already running");
  auto busy = call("DELETE", "/nodes/pve2/qemu/100?purge=1&destroy-unreferenced-disks=1");
  EXPECT_EQ(busy.status, 500);
  EXPECT_EQ(busy.reason, "VM 100 is running - destroy failed");
  EXPECT_EQ(data(call("POST", "/nodes/pve2/qemu/100/agent/ping"))["result"], nlohmann::json::object());
  EXPECT_EQ(wait("pve2", data(call("POST", "/nodes/pve2/qemu/100/status/stop"))), "OK");
  auto down = call("POST", "/nodes/pve2/qemu/100/agent/ping");
  EXPECT_EQ(down.status, 500);
  EXPECT_EQ(wait("pve2", data(call("DELETE", "/nodes/pve2/qemu/100?purge=1&destroy-unreferenced-disks=1"))),
            "OK");
  auto gone = call("GET", "/nodes/pve2/qemu/100/status/current");
  EXPECT_EQ(gone.reason, "Configuration file 'nodes/pve2/qemu-server/100.conf' does not exist");
}

TEST_F(SimTest, InjectedFaults) {
  Fault f;
  f.kind = Fault::Kind::lock_timeout;
  f.path = "/clone$";
  sim_->inject(f);
  auto r = call("POST", "/nodes/pve1/qemu/9000/clone", "newid=100");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.reason, "can't lock file '/var/lock/qemu-server/lock-9000.conf' - got timeout");
  EXPECT_EQ(clone(100), "OK");  // once only
  auto fault = fault_from_json({{"kind", "task_fail"}, {"path", "/status/start$"}, {"message", "boom"}});
  ASSERT_TRUE(fault.has_value());
  sim_->inject(*fault);
  EXPECT_EQ(wait("pve2", data(call("POST", "/nodes/pve2/qemu/100/status/start"))), "boom");
}

TEST_F(SimTest, LocalStorageRefusesACloneToAnotherNodeAtDispatch) {
  SimOptions o = options();
  o.template_storage = "local-lvm";
  restart(o);
  auto across = call("POST", "/nodes/pve1/qemu/9000/clone", "newid=100&name=pg1&full=1&target=pve2");
  EXPECT_EQ(across.status, 500);
  EXPECT_EQ(across.reason, "can't clone VM to node 'pve2' (VM uses local storage)");
  auto onto =
      call("POST", "/nodes/pve1/qemu/9000/clone", "newid=100&name=pg1&full=1&target=pve2&storage=local");
  EXPECT_EQ(onto.reason, "can't clone to non-shared storage 'local'");
  EXPECT_EQ(clone(100, "pve1"), "OK");  // on the template's own node
  auto storages = data(call("GET", "/storage"));
  for (const auto& st : storages) EXPECT_EQ(st.value("shared", 0), st["storage"] == "ceph" ? 1 : 0) << st;
}

TEST_F(SimTest, MigrateMovesAStoppedVmAndItsDisks) {
  SimOptions o = options();
  o.template_storage = "local-lvm";
  restart(o);
  clone(100, "pve1");
  auto local = call("POST", "/nodes/pve1/qemu/100/migrate", "target=pve1");
  EXPECT_EQ(local.status, 400);
  std::string upid = data(call("POST", "/nodes/pve1/qemu/100/migrate", "target=pve3&targetstorage=local"));
  EXPECT_EQ(data(call("GET", "/cluster/resources?type=vm"))[0]["lock"], "migrate");
  EXPECT_EQ(wait("pve1", upid), "OK");
  auto cfg = data(call("GET", "/nodes/pve3/qemu/100/config"));
  EXPECT_EQ(cfg["scsi0"].get<std::string>().rfind("local:vm-100-disk-0", 0), 0u) << cfg;
  EXPECT_EQ(wait("pve3", data(call("POST", "/nodes/pve3/qemu/100/status/start"))), "OK");
  auto running = call("POST", "/nodes/pve3/qemu/100/migrate", "target=pve1");
  EXPECT_EQ(running.reason, "can't migrate running VM without --online");
}

TEST_F(SimTest, AnIdTakenOnAnotherNodeFailsInsideTheCloneTask) {
  sim_->add_foreign_vm(100, "pve3", "theirs");
  auto r = call("POST", "/nodes/pve1/qemu/9000/clone", "newid=100&name=pg1&full=1&target=pve2");
  ASSERT_EQ(r.status, 200) << r.reason;  // the dispatch checks the local node only
  std::string exit = wait("pve1", data(r));
  EXPECT_NE(exit.find("File exists"), std::string::npos) << exit;
  EXPECT_EQ(sim_->state()["vms"].size(), 2u);  // the template and theirs
}

TEST_F(SimTest, LockTimeoutsComeBackAsTheTaskExitStatus) {
  Fault f;
  f.kind = Fault::Kind::task_lock_timeout;
  f.path = "/clone$";
  sim_->inject(f);
  auto r = call("POST", "/nodes/pve1/qemu/9000/clone", "newid=100&name=pg1&full=1&target=pve2");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(wait("pve1", data(r)), "can't lock file '/var/lock/qemu-server/lock-9000.conf' - got timeout");
}

TEST_F(SimTest, ResourcesCarryPvestatdsStaleNameAndStatus) {
  SimOptions o = options();
  o.stats_interval = std::chrono::hours(1);
  restart(o);
  clone(100);
  auto vm = data(call("GET", "/cluster/resources?type=vm"))[0];
  EXPECT_EQ(vm["vmid"], 100);
  EXPECT_FALSE(vm.contains("name"));  // pvestatd has not seen it yet
  EXPECT_EQ(vm["status"], "unknown");
  EXPECT_EQ(data(call("GET", "/nodes/pve2/qemu/100/config"))["name"], "pg1");
  EXPECT_EQ(data(call("GET", "/cluster/resources?type=vm"))[1]["template"], 1);  // seen at start
}

TEST_F(SimTest, PrivilegesByVersion) {
  SimOptions o = options();
  o.version = 9;
  restart(o);
  EXPECT_EQ(data(call("GET", "/version"))["release"], "9.0");
  auto perms = data(call("GET", "/access/permissions?path=%2Fvms"))["/vms"];
  EXPECT_TRUE(perms.contains("VM.GuestAgent.Audit"));
  EXPECT_FALSE(perms.contains("VM.Monitor"));
  o.privileges = all_privileges(9);
  o.privileges.erase("VM.GuestAgent.Audit");
  restart(o);
  clone(100);
  EXPECT_EQ(wait("pve2", data(call("POST", "/nodes/pve2/qemu/100/status/start"))), "OK");
  auto ping = call("POST", "/nodes/pve2/qemu/100/agent/ping");
  EXPECT_EQ(ping.status, 403);
  EXPECT_EQ(ping.reason, "Permission check failed (/vms/100, VM.GuestAgent.Audit)");
  o.version = 8;
  o.privileges = all_privileges(8);
  restart(o);
  EXPECT_TRUE(data(call("GET", "/access/permissions?path=%2Fvms"))["/vms"].contains("VM.Monitor"));
}

TEST_F(SimTest, InvalidKeysAreA500AndPrefixesBelow8AreRefused) {
  clone(100);
  auto key = call("PUT", "/nodes/pve2/qemu/100/config",
                  pve::form_encode({{"sshkeys", pve::sshkeys_value({"ssh-ed25519 not-base64!"})}}));
  EXPECT_EQ(key.status, 500);
  EXPECT_EQ(key.reason, "SSH public key validation error");
  auto wide = call("PUT", "/nodes/pve2/qemu/100/config", pve::form_encode({{"ipconfig0", "ip=10.0.0.5/7"}}));
  EXPECT_EQ(wide.status, 400);
  auto ok = call("PUT", "/nodes/pve2/qemu/100/config", pve::form_encode({{"ipconfig0", "ip=10.0.0.5/8"}}));
  EXPECT_EQ(ok.status, 200);
}

}  // namespace
}  // namespace pgha::sim
