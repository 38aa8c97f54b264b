// Provider::fence, the guard's only way to stop a machine: it returns only once the provider confirms
// the machine stopped. Docker against a scripted engine (restart policy off, SIGKILL, State.Status
// re-read; a paused container killed too), Proxmox against the simulator (a hard stop whose task
// must succeed, then status/current stopped; a failed stop task is an error). Static cannot fence.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "fakes/fake_http.hpp"
#include "net/curl_http.hpp"
#include "providers/docker/docker_provider.hpp"
#include "providers/proxmox/proxmox_provider.hpp"
#include "pve_sim.hpp"

namespace pgha {
namespace {

// ---- Docker ----

class DockerFence : public ::testing::Test {
 protected:
  DockerFence() {
    auto fake = std::make_unique<FakeHttp>();
    http = fake.get();
    DockerProviderDeps deps;
    deps.http = std::move(fake);
    provider = std::make_unique<DockerProvider>(std::move(deps));
    http->on("GET", "/_ping", [](const HttpRequest&) -> Result<HttpResponse> {
      HttpResponse r;
      r.status = 200;
      r.body = "OK";
      r.headers["api-version"] = "1.41";
      return r;
    });
    http->on("GET", "/v1.41/info", 200, R"({"ServerVersion":"20.10.24","CgroupVersion":"1"})");
    inv.cluster_name = "demo";
    inv.network.subnet = "10.42.0.0/24";
    Node n;
    n.name = "pg1";
    n.address = "10.42.0.11";
    inv.nodes.push_back(n);
    http->on("GET", "/v1.41/containers/pgha-demo-pg1/json",
             [this](const HttpRequest&) -> Result<HttpResponse> { return container(status); });
    http->on("GET", "/v1.41/containers/id-pg1/json", [this](const HttpRequest&) -> Result<HttpResponse> {
      return container(killed ? "exited" : status);
    });
    http->on("POST", "/v1.41/containers/id-pg1/update", 200, R"({"Warnings":[]})");
    http->on("POST", "/v1.41/containers/id-pg1/kill", [this](const HttpRequest&) -> Result<HttpResponse> {
      killed = true;
      HttpResponse r;
      r.status = 204;
      return r;
    });
  }

  static HttpResponse container(const std::string& status) {
    HttpResponse r;
    r.status = 200;
    r.body =
        R"({"Id":"id-pg1","Config":{"Labels":{"pgha.cluster":"demo","pgha.node":"pg1"}},"State":{"Status":")" +
        status + R"(","Running":)" + (status == "running" || status == "paused" ? "true" : "false") +
        R"(,"Paused":)" + (status == "paused" ? "true" : "false") + "}}";
    return r;
  }

  std::vector<std::string> calls() const {
    std::vector<std::string> out;
    for (const auto& r : http->requests)
      if (r.method == "POST") out.push_back(FakeHttp::path_of(r.url));
    return out;
  }

  FakeHttp* http = nullptr;
  std::unique_ptr<DockerProvider> provider;
  Inventory inv;
  std::string status = "running";
  bool killed = false;
};

TEST_F(DockerFence, RestartPolicyOffThenKillThenStatusReRead) {
  EXPECT_EQ(provider->fence_support(), FenceSupport::stop);
  Status s = provider->fence(inv, "pg1");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(calls(), (std::vector<std::string>{"/v1.41/containers/id-pg1/update",
                                               "/v1.41/containers/id-pg1/kill?signal=SIGKILL"}));
  for (const auto& r : http->requests) {
    if (r.url.find("/update") != std::string::npos) {
      EXPECT_EQ(r.body, R"({"RestartPolicy":{"Name":"no"}})");
    }
  }
  EXPECT_EQ(http->count("GET", "/v1.41/containers/id-pg1/json"), 1);   // confirmed exited
  EXPECT_EQ(*provider->power_state(inv, "pg1"), PowerState::running);  // the fake's name route is static
}

TEST_F(DockerFence, APausedContainerIsKilledToo) {
  status = "paused";
  EXPECT_EQ(*provider->power_state(inv, "pg1"), PowerState::paused);
  ASSERT_TRUE(provider->fence(inv, "pg1").ok());
  EXPECT_TRUE(killed);
}

TEST_F(DockerFence, AnExitedContainerIsNotKilledAgain) {
  status = "exited";
  ASSERT_TRUE(provider->fence(inv, "pg1").ok());
  EXPECT_FALSE(killed);
  EXPECT_EQ(*provider->power_state(inv, "pg1"), PowerState::stopped);
}

TEST_F(DockerFence, AKillTheEngineRefusesIsNotAFence) {
  http->on("POST", "/v1.41/containers/id-pg1/kill", 500,
           R"({"message":"cannot kill container: permission denied"})");
  Status s = provider->fence(inv, "pg1");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().describe().find("fence pg1"), std::string::npos) << s.error().describe();
}

TEST_F(DockerFence, AnUnknownNodeIsAnError) {
  EXPECT_FALSE(provider->fence(inv, "pg9").ok());
}

// ---- Proxmox, against the simulator ----

namespace fs = std::filesystem;

class FastClock final : public pve::Clock {
 public:
  std::chrono::steady_clock::time_point now() override { return t_; }
  void sleep(std::chrono::milliseconds d) override {
    t_ += d;
    std::this_thread::sleep_for(std::min(d, std::chrono::milliseconds(15)));
  }

 private:
  std::chrono::steady_clock::time_point t_ = std::chrono::steady_clock::now();
};

class ReadyProbe final : public pve::SshProbe {
 public:
  bool ssh_ready(const std::string&, int) override { return true; }
};

class ProxmoxFence : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pgha-guard-fence-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    sim::SimOptions opt;
    opt.task_duration = std::chrono::milliseconds(40);
    server_ = std::make_unique<sim::SimServer>(opt, backend_);
    std::string error;
    ASSERT_TRUE(server_->start((dir_ / "certs").string(), "127.0.0.1", 0, error)) << error;
    inv_.cluster_name = "demo";
    inv_.provider.type = ProviderType::proxmox;
    ProxmoxSettings& s = inv_.provider.proxmox;
    s.endpoint = server_->endpoint();
    s.nodes = {"pve1", "pve2", "pve3"};
    s.template_vmid = 9000;
    s.storage = "local-lvm";
    s.bridge = "vmbr0";
    s.ciuser = "root";
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
    req_.public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx+/pgha= pgha@demo";
    req_.state_dir = (dir_ / "state").string();
    pve::ProviderDeps deps;
    CurlHttpOptions tls;
    tls.ca_file = server_->ca_file();
    deps.http = std::make_unique<CurlHttp>(tls);
    deps.auth = pve::TokenAuth{"root@pam!pgha", "SECRET"};
    deps.clock = &clock_;
    deps.probe = std::make_unique<ReadyProbe>();
    deps.timing.boot_timeout = std::chrono::seconds(60);
    deps.warn = [](const std::string&) {};
    provider_ = pve::make_proxmox_provider(std::move(deps));
    ASSERT_TRUE(provider_->ensure(inv_, req_).ok());
  }
  void TearDown() override {
    server_->sim().wait_idle();
    server_->stop();
    fs::remove_all(dir_);
  }
  fs::path dir_;
  sim::NullBackend backend_;
  std::unique_ptr<sim::SimServer> server_;
  FastClock clock_;
  Inventory inv_;
  ProvisionRequest req_;
  std::unique_ptr<Provider> provider_;
};

TEST_F(ProxmoxFence, AHardStopConfirmedStopped) {
  EXPECT_EQ(provider_->fence_support(), FenceSupport::stop);
  EXPECT_EQ(*provider_->power_state(inv_, "pg2"), PowerState::running);
  Status s = provider_->fence(inv_, "pg2");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(*provider_->power_state(inv_, "pg2"), PowerState::stopped);
  EXPECT_EQ(*provider_->power_state(inv_, "pg1"), PowerState::running);
}

TEST_F(ProxmoxFence, AFailedStopTaskIsNoFence) {
  sim::Fault f;
  f.kind = sim::Fault::Kind::task_fail;
  f.path = "/status/stop$";
  f.message = "VM quit/powerdown failed";
  server_->sim().inject(f);
  Status s = provider_->fence(inv_, "pg2");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().describe().find("VM quit/powerdown failed"), std::string::npos) << s.error().describe();
  EXPECT_EQ(*provider_->power_state(inv_, "pg2"), PowerState::running);
}

// ---- Static ----

TEST(StaticFence, StaticHostsCannotBeFenced) {
  Inventory inv;
  inv.cluster_name = "demo";
  inv.provider.type = ProviderType::static_hosts;
  auto p = make_provider(inv);
  ASSERT_TRUE(p.ok()) << p.error().describe();
  EXPECT_EQ((*p)->fence_support(), FenceSupport::none);
  Status s = (*p)->fence(inv, "pg1");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "the static provider cannot fence node pg1");
}

}  // namespace
}  // namespace pgha
