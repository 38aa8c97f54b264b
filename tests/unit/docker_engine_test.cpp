// DockerProvider against the real engine: a 1-node cluster in 10.77.0.0/24, reached with SshShell,
// systemd booted, faults injected and lifted, then destroyed without touching anything unlabelled; and
// a subnet held by a foreign network (10.59.0.0/24), named in the error before anything is created.
// Slow the first time (it builds the node image), so it runs only with PGHA_E2E_DOCKER=1
// (tests/e2e/docker_provider.sh sets it).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "core/embedded.hpp"
#include "net/curl_http.hpp"
#include "net/ssh_keys.hpp"
#include "net/ssh_shell.hpp"
#include "providers/docker/docker_client.hpp"
#include "providers/docker/docker_provider.hpp"

namespace pgha {
namespace {

namespace fs = std::filesystem;

class DockerEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* on = std::getenv("PGHA_E2E_DOCKER");
    if (!on || std::string(on) != "1") GTEST_SKIP() << "set PGHA_E2E_DOCKER=1 (tests/e2e/docker_provider.sh)";
    if (::geteuid() != 0 || !fs::exists("/var/run/docker.sock")) GTEST_SKIP() << "needs root and dockerd";
    inv_.cluster_name = "pgha-providertest";
    inv_.network.subnet = "10.77.0.0/24";
    Node n;
    n.name = "n1";
    n.address = "10.77.0.10";
    inv_.nodes.push_back(n);
    char tmpl[] = "/tmp/pgha-docker-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);

    DockerProviderDeps deps;
    deps.http = std::make_unique<CurlHttp>(CurlHttpOptions{"/var/run/docker.sock"});
    deps.templates = embedded_templates();
    deps.progress = [](const std::string& line) { std::cerr << "  " << line << "\n"; };
    provider_ = std::make_unique<DockerProvider>(std::move(deps));
    raw_http_ = std::make_unique<CurlHttp>(CurlHttpOptions{"/var/run/docker.sock"});
    docker_ = std::make_unique<DockerClient>(*raw_http_, "http://localhost/v1.41");
    // Leftovers of an interrupted run would collide with this subnet.
    ASSERT_TRUE(provider_->destroy(inv_, DataRetention::remove).ok());
    (void)docker_->remove_container(kBystander);
  }

  void TearDown() override {
    if (docker_) (void)docker_->remove_container(kBystander);
    if (provider_) (void)provider_->destroy(inv_, DataRetention::remove);
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  SshOptions ssh_options(const Machine& m) const {
    SshOptions o;
    o.host = m.node;
    o.address = m.address;
    o.port = m.ssh_port;
    o.private_key_path = (dir_ / "id").string();
    o.known_hosts_path = (dir_ / "known_hosts").string();
    o.connect_timeout_ms = 60000;
    return o;
  }

  json inspect(const std::string& id) {
    auto c = docker_->inspect_container(id);
    EXPECT_TRUE(c.ok() && c->has_value());
    return c.ok() && c->has_value() ? **c : json();
  }

  static constexpr const char* kBystander = "pgha-providertest-bystander";
  Inventory inv_;
  fs::path dir_;
  std::unique_ptr<DockerProvider> provider_;
  std::unique_ptr<CurlHttp> raw_http_;
  std::unique_ptr<DockerClient> docker_;
};

TEST_F(DockerEngineTest, EnsureBootSshFaultsDestroy) {
  // An unrelated, unlabelled container that destroy must leave alone.
  auto by = docker_->create_container(
      kBystander, {{"Image", "debian:bookworm"}, {"Cmd", json::array({"sleep", "infinity"})}});
  ASSERT_TRUE(by.ok()) << by.error().describe();
  ASSERT_TRUE(docker_->start_container(*by).ok());

  auto key = generate_ed25519_key("pgha-providertest");
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(write_key_pair(*key, (dir_ / "id").string()).ok());
  ProvisionRequest req{key->public_line, dir_.string()};

  auto t0 = std::chrono::steady_clock::now();
  auto machines = provider_->ensure(inv_, req);
  ASSERT_TRUE(machines.ok()) << machines.error().describe();
  std::cerr << "ensure (image build included): "
            << std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t0).count()
            << " s\n";
  ASSERT_EQ(machines->size(), 1u);
  const Machine m = machines->front();
  EXPECT_EQ(m.node, "n1");
  EXPECT_EQ(m.address, "10.77.0.10");
  EXPECT_FALSE(m.resource_id.empty());

  auto again = provider_->ensure(inv_, req);  // converged: same container
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_EQ(again->front().resource_id, m.resource_id);

  {
    SshShell sh(ssh_options(m));
    auto boot = sh.run("systemctl is-system-running --wait; systemctl --failed --no-legend --plain");
    ASSERT_TRUE(boot.ok()) << boot.error().describe();
    std::cerr << "system state: " << boot->out;
    EXPECT_TRUE(boot->out.starts_with("running\n")) << boot->out;
    auto facts = sh.run(
        "hostname; test -s /etc/ssh/ssh_host_ed25519_key && echo hostkey; "
        "test -d /etc/postgresql/15/main || echo no-stock-cluster; "
        "grep -qsF '# pgha: the leader key is compare-and-set' "
        "/usr/lib/python3/dist-packages/patroni/dcs/etcd3.py && echo patroni-fixed; "
        "ip -4 -o addr show eth0");
    ASSERT_TRUE(facts.ok());
    // The image did part of prepare's work once: no stock cluster, the Patroni fix in.
    EXPECT_TRUE(facts->out.starts_with("n1\nhostkey\nno-stock-cluster\npatroni-fixed\n")) << facts->out;
    EXPECT_NE(facts->out.find("10.77.0.10/24"), std::string::npos) << facts->out;
  }

  auto listed = provider_->list(inv_);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE(listed->front().running);
  EXPECT_EQ(listed->front().address, "10.77.0.10");

  // Faults.
  ASSERT_TRUE(provider_->inject(inv_, "n1", MachineFault::pause).ok());
  EXPECT_TRUE(inspect(m.resource_id)["State"]["Paused"].get<bool>());
  ASSERT_TRUE(provider_->lift(inv_, "n1", MachineFault::pause).ok());
  EXPECT_FALSE(inspect(m.resource_id)["State"]["Paused"].get<bool>());

  // Partition: the node's link goes down (unreachable from here), then comes back as the same eth0,
  // with its default route; a second cut or heal changes nothing.
  auto link = [&](const std::string& cmd) {
    auto code = docker_->exec(m.resource_id, {"sh", "-c", cmd}, std::chrono::seconds(30));
    EXPECT_TRUE(code.ok()) << code.error().describe();
    return code.ok() ? *code : -1;
  };
  const std::string up = "ip -o link show dev eth0 | grep -q '[<,]UP[,>]'";
  ASSERT_TRUE(provider_->inject(inv_, "n1", MachineFault::partition).ok());
  ASSERT_TRUE(provider_->inject(inv_, "n1", MachineFault::partition).ok());
  EXPECT_NE(link(up), 0) << "eth0 is still up";
  {
    SshOptions o = ssh_options(m);
    o.connect_timeout_ms = 2000;
    SshShell sh(o);
    EXPECT_FALSE(sh.run("true").ok()) << "the node answered through a cut link";
  }
  ASSERT_TRUE(provider_->lift(inv_, "n1", MachineFault::partition).ok());
  ASSERT_TRUE(provider_->lift(inv_, "n1", MachineFault::partition).ok());
  EXPECT_EQ(link(up), 0) << "eth0 did not come back";
  EXPECT_EQ(link("ip route show default dev eth0 | grep -q 'via 10.77.0.1'"), 0) << "default route lost";
  {
    SshShell sh(ssh_options(m));
    auto r = sh.run("ip -o link show | grep -c 'eth[0-9]'");
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->out, "1\n") << "the heal made a second interface";
  }

  ASSERT_TRUE(provider_->inject(inv_, "n1", MachineFault::kill).ok());
  EXPECT_FALSE(inspect(m.resource_id)["State"]["Running"].get<bool>());
  ASSERT_TRUE(provider_->lift(inv_, "n1", MachineFault::kill).ok());
  EXPECT_TRUE(inspect(m.resource_id)["State"]["Running"].get<bool>());
  {
    SshShell sh(ssh_options(m));  // same host key after a restart: no mismatch
    auto r = sh.run("echo back");
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->out, "back\n");
  }

  ASSERT_TRUE(provider_->destroy(inv_, DataRetention::remove).ok());
  for (auto* what : {"containers", "networks", "volumes"}) {
    Result<std::vector<json>> left =
        std::string(what) == "containers" ? docker_->containers_with_label("pgha.cluster=pgha-providertest")
        : std::string(what) == "networks" ? docker_->networks_with_label("pgha.cluster=pgha-providertest")
                                          : docker_->volumes_with_label("pgha.cluster=pgha-providertest");
    ASSERT_TRUE(left.ok());
    EXPECT_TRUE(left->empty()) << what << " left behind";
  }
  auto survivor = docker_->inspect_container(kBystander);
  ASSERT_TRUE(survivor.ok());
  EXPECT_TRUE(survivor->has_value()) << "destroy removed an unlabelled container";
}

// The engine's "Pool overlaps with other one on this address space" becomes the foreign network's name,
// its subnet and the inventory key. Quick: the network is ensured before the image.
class DockerEngineOverlapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* on = std::getenv("PGHA_E2E_DOCKER");
    if (!on || std::string(on) != "1") GTEST_SKIP() << "set PGHA_E2E_DOCKER=1 (tests/e2e/docker_provider.sh)";
    if (::geteuid() != 0 || !fs::exists("/var/run/docker.sock")) GTEST_SKIP() << "needs root and dockerd";
    http_ = std::make_unique<CurlHttp>(CurlHttpOptions{"/var/run/docker.sock"});
    docker_ = std::make_unique<DockerClient>(*http_, "http://localhost/v1.41");
    inv_.cluster_name = "pgha-overlaptest";
    inv_.network.subnet = "10.59.0.0/25";
    Node n;
    n.name = "n1";
    n.address = "10.59.0.10";
    inv_.nodes.push_back(n);
    DockerProviderDeps deps;
    deps.http = std::make_unique<CurlHttp>(CurlHttpOptions{"/var/run/docker.sock"});
    deps.templates = embedded_templates();
    provider_ = std::make_unique<DockerProvider>(std::move(deps));
    clean();
  }
  void TearDown() override {
    if (docker_) clean();
  }
  // Everything this test may have made, found by its labels only.
  void clean() {
    (void)provider_->destroy(inv_, DataRetention::remove);
    auto left = docker_->networks_with_label(kLabel);
    ASSERT_TRUE(left.ok()) << left.error().describe();
    for (const json& n : *left) (void)docker_->remove_network(n.value("Id", ""));
  }

  static constexpr const char* kLabel = "pgha.test=overlap";
  static constexpr const char* kForeign = "pgha-overlaptest-foreign";
  Inventory inv_;
  std::unique_ptr<CurlHttp> http_;
  std::unique_ptr<DockerClient> docker_;
  std::unique_ptr<DockerProvider> provider_;
};

TEST_F(DockerEngineOverlapTest, SubnetHeldByAnotherNetworkIsNamedWithTheKeyToChange) {
  json spec = {{"Name", kForeign},
               {"CheckDuplicate", true},
               {"Driver", "bridge"},
               {"IPAM", {{"Config", json::array({{{"Subnet", "10.59.0.0/24"}}})}}},
               {"Labels", {{"pgha.test", "overlap"}}}};
  auto foreign = docker_->create_network(spec);
  ASSERT_TRUE(foreign.ok()) << foreign.error().describe();

  auto r = provider_->ensure(inv_, {"ssh-ed25519 AAAA pgha-overlaptest", "/tmp"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::conflict);
  EXPECT_EQ(r.error().describe(),
            "network.subnet 10.59.0.0/25 overlaps Docker network 'pgha-overlaptest-foreign' (10.59.0.0/24); "
            "choose another subnet in the inventory's network.subnet, with the nodes' addresses, gateway and "
            "vip inside it");
  auto ours = docker_->networks_with_label("pgha.cluster=pgha-overlaptest");
  ASSERT_TRUE(ours.ok());
  EXPECT_TRUE(ours->empty());
  auto containers = docker_->containers_with_label("pgha.cluster=pgha-overlaptest");
  ASSERT_TRUE(containers.ok());
  EXPECT_TRUE(containers->empty());
}

}  // namespace
}  // namespace pgha
