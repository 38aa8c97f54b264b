// DockerProvider against a scripted engine: what ensure creates (and does not re-create), label
// scoping of destroy, and the faults.
#include <gtest/gtest.h>

#include <algorithm>

#include "fakes/fake_http.hpp"
#include "providers/docker/docker_image.hpp"
#include "providers/docker/docker_provider.hpp"
#include "providers/docker/docker_spec.hpp"

namespace pgha {
namespace {

const std::map<std::string, std::string> kTemplates = {
    {"docker/Dockerfile.mustache",
     "FROM {{{base_image}}}\n{{#bake_packages}}RUN bake\n{{/bake_packages}}COPY files/ /\n"},
    {"docker/files/etc/ssh/sshd_config.d/pgha.conf", "PasswordAuthentication no\n"},
};

Inventory demo_inventory() {
  Inventory inv;
  inv.cluster_name = "demo";
  inv.network.subnet = "10.42.0.0/24";
  for (int i = 1; i <= 2; ++i) {
    Node n;
    n.name = "pg" + std::to_string(i);
    n.address = "10.42.0.1" + std::to_string(i);
    inv.nodes.push_back(n);
  }
  return inv;
}

// GET /info as Debian 12's docker.io 20.10 answers on this machine (cgroup v1, no AppArmor), and as a
// GitHub-hosted Ubuntu runner's Docker does (cgroup v2 with the systemd driver, AppArmor).
const std::string kEngineInfoV1 =
    R"({"ServerVersion":"20.10.24+dfsg1","CgroupVersion":"1","CgroupDriver":"cgroupfs",)"
    R"("SecurityOptions":["name=seccomp,profile=default"]})";
const std::string kEngineInfoRunner =
    R"({"ServerVersion":"28.0.4","CgroupVersion":"2","CgroupDriver":"systemd",)"
    R"("SecurityOptions":["name=apparmor","name=seccomp,profile=builtin","name=cgroupns"]})";

std::string hash_of(const Inventory& inv) {
  return make_build_context(inv.provider.docker, inv.postgres_version, kTemplates)->hash;
}

class DockerProviderTest : public ::testing::Test {
 protected:
  DockerProviderTest() { remake(); }

  // A fresh engine (no routes but /_ping and /info of cgroup v1) and a provider whose base image
  // fallback is make_rootfs.
  void remake(RootfsMaker make_rootfs = nullptr) {
    auto fake = std::make_unique<FakeHttp>();
    http = fake.get();
    DockerProviderDeps deps;
    deps.http = std::move(fake);
    deps.templates = kTemplates;
    deps.make_rootfs = std::move(make_rootfs);
    provider = std::make_unique<DockerProvider>(std::move(deps));
    engine_says("1.41", kEngineInfoV1);
  }

  // GET /_ping answers with this API version, GET /v<version>/info with info.
  void engine_says(const std::string& version, const std::string& info) {
    http->on("GET", "/_ping", [version](const HttpRequest&) -> Result<HttpResponse> {
      HttpResponse r;
      r.status = 200;
      r.body = "OK";
      r.headers["api-version"] = version;
      return r;
    });
    http->on("GET", "/v" + version + "/info", 200, info);
  }

  // The body of the first container create request.
  json first_create() {
    for (const auto& r : http->requests)
      if (r.method == "POST" && r.url.find("/containers/create?") != std::string::npos)
        return json::parse(r.body);
    return json();
  }

  void image_present(const std::string& hash) {
    http->on("GET", "/v1.41/images/pgha-node%3Abookworm/json", 200,
             json{{"Config", {{"Labels", {{"pgha.context-hash", hash}}}}}}.dump());
  }

  // An engine on which the cluster's network, volumes and containers already exist.
  void cluster_exists(bool running) {
    http->on("GET", "/v1.41/networks/pgha-demo", 200,
             json{{"Id", "net1"},
                  {"Labels", {{"pgha.cluster", "demo"}}},
                  {"IPAM", {{"Config", json::array({{{"Subnet", "10.42.0.0/24"}}})}}}}
                 .dump());
    http->on("GET", "/v1.41/volumes/", 200, json{{"Labels", {{"pgha.cluster", "demo"}}}}.dump());
    for (const Node& n : inv.nodes) {
      http->on("GET", "/v1.41/containers/pgha-demo-" + n.name + "/json", 200,
               json{{"Id", "id-" + n.name},
                    {"Config", {{"Labels", {{"pgha.cluster", "demo"}, {"pgha.node", n.name}}}}},
                    {"State", {{"Running", running}, {"Paused", false}}},
                    {"NetworkSettings",
                     {{"Networks", {{"pgha-demo", {{"IPAMConfig", {{"IPv4Address", n.address}}}}}}}}}}
                   .dump());
    }
    http->on("PUT", "/v1.41/containers/", 200);
    http->on("POST", "/v1.41/containers/id-", 204);
    exec_exits(0);
  }

  // Every exec in a container is created, started and then found finished with this exit code.
  void exec_exits(int code) {
    for (const Node& n : inv.nodes)
      http->on("POST", "/v1.41/containers/id-" + n.name + "/exec", 201, R"({"Id":"exec-)" + n.name + R"("})");
    http->on("POST", "/v1.41/exec/", 200);
    http->on("GET", "/v1.41/exec/", 200, json{{"Running", false}, {"ExitCode", code}}.dump());
  }

  // The command of the last exec created in the node's container.
  std::string last_exec(const std::string& node) {
    for (auto it = http->requests.rbegin(); it != http->requests.rend(); ++it)
      if (it->method == "POST" && it->url.ends_with("/containers/id-" + node + "/exec"))
        return json::parse(it->body)["Cmd"].back().get<std::string>();
    return "";
  }

  Inventory inv = demo_inventory();
  ProvisionRequest req{"ssh-ed25519 AAAA pgha-demo", "/tmp/state"};
  FakeHttp* http = nullptr;
  std::unique_ptr<DockerProvider> provider;
};

TEST_F(DockerProviderTest, EnsureCreatesNetworkVolumesAndContainersOnAnEmptyEngine) {
  image_present(hash_of(inv));
  http->on("POST", "/v1.41/networks/create", 201, R"({"Id":"net1"})");
  http->on("POST", "/v1.41/volumes/create", 201, "{}");
  http->on("POST", "/v1.41/containers/create", [](const HttpRequest& r) -> Result<HttpResponse> {
    HttpResponse resp;
    resp.status = 201;
    resp.body = json{{"Id", "id-" + r.url.substr(r.url.find("name=pgha-demo-") + 15)}}.dump();
    return resp;
  });
  http->on("PUT", "/v1.41/containers/", 200);
  http->on("POST", "/v1.41/containers/id-", 204);

  auto machines = provider->ensure(inv, req);
  ASSERT_TRUE(machines.ok()) << machines.error().describe();
  ASSERT_EQ(machines->size(), 2u);
  EXPECT_EQ((*machines)[0].node, "pg1");
  EXPECT_EQ((*machines)[0].address, "10.42.0.11");
  EXPECT_EQ((*machines)[0].resource_id, "id-pg1");
  EXPECT_EQ((*machines)[1].ssh_user, "root");

  EXPECT_EQ(http->count("POST", "/v1.41/build"), 0);  // the image's hash matched
  ASSERT_EQ(http->count("POST", "/v1.41/networks/create"), 1);
  json net;
  for (const auto& r : http->requests) {
    if (r.url.ends_with("/networks/create")) net = json::parse(r.body);
  }
  EXPECT_EQ(net["Name"], "pgha-demo");
  EXPECT_EQ(net["Labels"]["pgha.cluster"], "demo");
  EXPECT_EQ(net["IPAM"]["Config"][0]["Subnet"], "10.42.0.0/24");
  EXPECT_EQ(net["IPAM"]["Config"][0]["Gateway"], "10.42.0.1");

  EXPECT_EQ(http->count("POST", "/v1.41/volumes/create"), 6);  // data, etcd, backup per node
  ASSERT_EQ(http->count("POST", "/v1.41/containers/create"), 2);
  json c;
  for (const auto& r : http->requests) {
    if (r.url.ends_with("name=pgha-demo-pg1")) c = json::parse(r.body);
  }
  EXPECT_EQ(c["Hostname"], "pg1");
  EXPECT_EQ(c["Labels"]["pgha.cluster"], "demo");
  EXPECT_EQ(c["Labels"]["pgha.node"], "pg1");
  EXPECT_EQ(c["NetworkingConfig"]["EndpointsConfig"]["pgha-demo"]["IPAMConfig"]["IPv4Address"], "10.42.0.11");
  EXPECT_EQ(c["HostConfig"]["NetworkMode"], "pgha-demo");
  EXPECT_EQ(c["Cmd"], json::array({"/sbin/init"}));
  EXPECT_EQ(c["StopSignal"], "SIGRTMIN+3");
  EXPECT_NE(c["HostConfig"]["Binds"].dump().find("pgha-demo-pg1-data:/var/lib/postgresql"),
            std::string::npos);
  EXPECT_NE(c["HostConfig"]["Binds"].dump().find("/sys/fs/cgroup:/sys/fs/cgroup:ro"), std::string::npos);
}

TEST_F(DockerProviderTest, KeyIsUploadedBeforeTheFirstStart) {
  image_present(hash_of(inv));
  http->on("POST", "/v1.41/networks/create", 201, R"({"Id":"net1"})");
  http->on("POST", "/v1.41/volumes/create", 201, "{}");
  http->on("POST", "/v1.41/containers/create", 201, R"({"Id":"id-x"})");
  http->on("PUT", "/v1.41/containers/id-x/archive", 200);
  http->on("POST", "/v1.41/containers/id-x/start", 204);
  ASSERT_TRUE(provider->ensure(inv, req).ok());
  // Each node's container is created on its own thread, and the fake gives every container the same
  // id, so the nodes' requests interleave: at every start, more keys have been uploaded than
  // containers started.
  size_t uploads = 0, starts = 0;
  for (const auto& r : http->requests) {
    std::string p = FakeHttp::path_of(r.url);
    p = p.substr(0, p.find('?'));
    if (r.method == "PUT" && p == "/v1.41/containers/id-x/archive") ++uploads;
    if (r.method == "POST" && p == "/v1.41/containers/id-x/start") {
      ++starts;
      EXPECT_LE(starts, uploads) << "a container started before its key was uploaded";
    }
  }
  EXPECT_EQ(starts, inv.nodes.size());
  EXPECT_EQ(uploads, inv.nodes.size());
  for (const auto& r : http->requests) {
    if (r.method == "PUT") {
      EXPECT_NE(r.body.find("ssh-ed25519 AAAA pgha-demo\n"), std::string::npos);
    }
  }
}

TEST_F(DockerProviderTest, EnsureIsIdempotentWhenEverythingRuns) {
  image_present(hash_of(inv));
  cluster_exists(/*running=*/true);
  auto machines = provider->ensure(inv, req);
  ASSERT_TRUE(machines.ok()) << machines.error().describe();
  EXPECT_EQ(machines->size(), 2u);
  EXPECT_EQ(http->count("POST", "/v1.41/networks/create"), 0);
  EXPECT_EQ(http->count("POST", "/v1.41/volumes/create"), 0);
  EXPECT_EQ(http->count("POST", "/v1.41/containers/create"), 0);
  EXPECT_EQ(http->count("POST", "/v1.41/containers/id-pg1/start"), 0);
  EXPECT_EQ(http->count("POST", "/v1.41/build"), 0);
  // The only call into a running node: bringing back a link an interrupted partition left down.
  EXPECT_EQ(http->count("POST", "/v1.41/containers/id-pg1/exec"), 1);
  EXPECT_NE(last_exec("pg1").find("ip link set dev 'eth0' up"), std::string::npos) << last_exec("pg1");
}

TEST_F(DockerProviderTest, StoppedContainersAreStarted) {
  image_present(hash_of(inv));
  cluster_exists(/*running=*/false);
  ASSERT_TRUE(provider->ensure(inv, req).ok());
  EXPECT_EQ(http->count("POST", "/v1.41/containers/create"), 0);
  EXPECT_EQ(http->count("POST", "/v1.41/containers/id-pg1/start"), 1);
  EXPECT_EQ(http->count("POST", "/v1.41/containers/id-pg2/start"), 1);
}

TEST_F(DockerProviderTest, EnsureReconnectsAContainerLeftOutsideItsNetwork) {
  image_present(hash_of(inv));
  cluster_exists(true);
  http->on("GET", "/v1.41/containers/pgha-demo-pg2/json", 200,
           R"({"Id":"id-pg2","Config":{"Labels":{"pgha.cluster":"demo"}},"State":{"Running":true},
               "NetworkSettings":{"Networks":{}}})");
  http->on("POST", "/v1.41/networks/pgha-demo/connect", 200);
  ASSERT_TRUE(provider->ensure(inv, req).ok());
  ASSERT_EQ(http->count("POST", "/v1.41/networks/pgha-demo/connect"), 1);
  // The reconnected interface is new and up; only pg1, still attached, gets its link checked.
  EXPECT_EQ(http->count("POST", "/v1.41/containers/id-pg2/exec"), 0);
  EXPECT_EQ(http->count("POST", "/v1.41/containers/id-pg1/exec"), 1);
}

TEST_F(DockerProviderTest, ForeignNetworkWithOurNameIsAConflict) {
  image_present(hash_of(inv));
  http->on("GET", "/v1.41/networks/pgha-demo", 200, R"({"Id":"n","Labels":{}})");
  auto r = provider->ensure(inv, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::conflict);
  EXPECT_NE(r.error().message.find("not labelled pgha.cluster=demo"), std::string::npos);
  EXPECT_EQ(http->count("POST", "/v1.41/containers/create"), 0);
}

// Another network holding part of the subnet is named, with its subnet and the inventory key to change;
// the engine's own words ("Pool overlaps with other one on this address space") say neither.
TEST_F(DockerProviderTest, SubnetTakenByAnotherNetworkNamesItAndTheKey) {
  image_present(hash_of(inv));
  http->on("GET", "/v1.41/networks", 200, R"([
    {"Name":"bridge","Id":"b1","IPAM":{"Config":[{"Subnet":"172.17.0.0/16","Gateway":"172.17.0.1"}]}},
    {"Name":"host","Id":"h1","IPAM":{"Config":[]}},
    {"Name":"foo","Id":"f1","IPAM":{"Config":[{"Subnet":"fd00::/64"},{"Subnet":"10.42.0.0/16"}]}},
    {"Name":"next-door","Id":"n1","IPAM":{"Config":[{"Subnet":"10.42.1.0/24"}]}}])");
  http->on("GET", "/v1.41/networks/pgha-demo", 404, R"({"message":"network pgha-demo not found"})");
  http->on("POST", "/v1.41/networks/create", 403,
           R"({"message":"Pool overlaps with other one on this address space"})");
  auto r = provider->ensure(inv, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::conflict);
  EXPECT_EQ(
      r.error().describe(),
      "network.subnet 10.42.0.0/24 overlaps Docker network 'foo' (10.42.0.0/16); choose another subnet in "
      "the inventory's network.subnet, with the nodes' addresses, gateway and vip inside it");
  // Found before any image work, container or volume.
  EXPECT_EQ(http->count("GET", "/v1.41/images/"), 0);
  EXPECT_EQ(http->count("POST", "/v1.41/volumes/create"), 0);
  EXPECT_EQ(http->count("POST", "/v1.41/containers/create"), 0);

  http->on("GET", "/v1.41/networks", 200, R"([
    {"Name":"b","IPAM":{"Config":[{"Subnet":"10.42.0.128/25"}]}},
    {"Name":"a","IPAM":{"Config":[{"Subnet":"10.0.0.0/8"}]}}])");
  http->on("GET", "/v1.41/networks/pgha-demo", 404, R"({"message":"network pgha-demo not found"})");
  EXPECT_EQ(provider->ensure(inv, req).error().message,
            "network.subnet 10.42.0.0/24 overlaps Docker networks 'a' (10.0.0.0/8) and 'b' (10.42.0.128/25); "
            "choose another subnet in the inventory's network.subnet, with the nodes' addresses, gateway and "
            "vip inside it");
}

TEST_F(DockerProviderTest, OverlapWithNoNetworkToNameKeepsTheEnginesWords) {
  http->on("GET", "/v1.41/networks", 200,
           R"([{"Name":"bridge","IPAM":{"Config":[{"Subnet":"172.17.0.0/16"}]}}])");
  http->on("GET", "/v1.41/networks/pgha-demo", 404, "{}");
  http->on("POST", "/v1.41/networks/create", 403,
           R"({"message":"Pool overlaps with other one on this address space"})");
  auto r = provider->ensure(inv, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(
      r.error().describe(),
      "create network pgha-demo: Docker answered 403: Pool overlaps with other one on this address space");
}

TEST(DockerProviderUnreachableTest, EnsureNamesTheEngineAddress) {
  auto fake = std::make_unique<FakeHttp>();
  fake->on("GET", "/", [](const HttpRequest&) -> Result<HttpResponse> {
    return connect_error(ErrorKind::io, "unix socket /nonexistent.sock", "no such file");
  });
  DockerProviderDeps deps;
  deps.http = std::move(fake);
  deps.address = {parse_docker_host("unix:///nonexistent.sock")->address};
  DockerProvider provider(std::move(deps));
  const std::string message =
      "cannot reach the Docker engine at unix:///nonexistent.sock: no such file (is dockerd running? set "
      "DOCKER_HOST to its socket)";
  auto r = provider.ensure(demo_inventory(), {"ssh-ed25519 AAAA", "/tmp/state"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::io);
  EXPECT_EQ(r.error().describe(), message);
  EXPECT_EQ(provider.list(demo_inventory()).error().describe(), message);
  EXPECT_EQ(provider.destroy(demo_inventory(), DataRetention::keep).error().describe(), message);
}

TEST_F(DockerProviderTest, ImageIsBuiltWhenItsHashDiffers) {
  image_present("stale");
  http->on("GET", "/v1.41/images/debian%3Abookworm/json", 200, "{}");
  http->on("POST", "/v1.41/build", 200, "{\"stream\":\"Step 1/3 : FROM debian:bookworm\\n\"}\n");
  cluster_exists(true);
  ASSERT_TRUE(provider->ensure(inv, req).ok());
  ASSERT_EQ(http->count("POST", "/v1.41/build"), 1);
  for (const auto& r : http->requests) {
    if (r.url.find("/build?") != std::string::npos) {
      EXPECT_NE(r.url.find(hash_of(inv)), std::string::npos);
      EXPECT_NE(r.body.find("FROM debian:bookworm\nRUN bake\nCOPY files/ /\n"), std::string::npos);
      EXPECT_NE(r.body.find("files/etc/ssh/sshd_config.d/pgha.conf"), std::string::npos);
    }
  }
}

TEST_F(DockerProviderTest, AMissingBaseImageIsPulled) {
  int rootfs_made = 0;
  remake([&](const std::string&, const ProgressFn&) -> Result<std::string> {
    ++rootfs_made;
    return std::string("TAR");
  });
  http->on("POST", "/v1.41/networks/create", 201, R"({"Id":"net1"})");
  http->on("POST", "/v1.41/images/create", 200,
           "{\"status\":\"Pulling from library/debian\",\"id\":\"bookworm\"}\n{\"status\":\"Downloaded\"}\n");
  http->on("POST", "/v1.41/build", 200, "{\"stream\":\"Step 1/3 : FROM debian:bookworm\\n\"}\n");
  cluster_exists(true);
  std::vector<std::string> said;
  req.report = [&](const std::string& line) { said.push_back(line); };
  auto r = provider->ensure(inv, req);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(http->count("POST", "/v1.41/images/create?fromImage=debian&tag=bookworm"), 1);
  EXPECT_EQ(rootfs_made, 0);
  EXPECT_EQ(http->count("POST", "/v1.41/build"), 1);
  EXPECT_NE(std::find(said.begin(), said.end(), "base image debian:bookworm pulled"), said.end());
}

TEST_F(DockerProviderTest, ARefusedPullFallsBackToDebootstrapAndImport) {
  std::vector<std::string> asked_for;
  remake([&](const std::string& image, const ProgressFn&) -> Result<std::string> {
    asked_for.push_back(image);
    return std::string("ROOTFS-TAR");
  });
  http->on("POST", "/v1.41/networks/create", 201, R"({"Id":"net1"})");
  // No registry: the engine streams the error inside a 200 (as dockerd does once the pull started).
  http->on("POST", "/v1.41/images/create?fromImage=", 200,
           "{\"error\":\"Get \\\"https://registry/v2/\\\": dial tcp: lookup registry: no such host\"}\n");
  http->on("POST", "/v1.41/images/create?fromSrc=", 200, "{\"status\":\"sha256:0123\"}\n");
  http->on("POST", "/v1.41/build", 200, "{\"stream\":\"Step 1/3 : FROM debian:bookworm\\n\"}\n");
  cluster_exists(true);
  std::vector<std::string> said;
  req.report = [&](const std::string& line) { said.push_back(line); };
  auto r = provider->ensure(inv, req);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(asked_for, std::vector<std::string>{"debian:bookworm"});
  bool imported = false;
  for (const auto& q : http->requests) {
    if (q.url.find("/images/create?fromSrc=-&repo=debian&tag=bookworm") != std::string::npos) {
      imported = true;
      EXPECT_EQ(q.body, "ROOTFS-TAR");
      EXPECT_EQ(q.headers.at("Content-Type"), "application/x-tar");
    }
  }
  EXPECT_TRUE(imported);
  EXPECT_EQ(http->count("POST", "/v1.41/build"), 1);
  EXPECT_NE(
      std::find(said.begin(), said.end(), "base image debian:bookworm made with debootstrap and imported"),
      said.end());
  bool told_why = false;
  for (const auto& line : said)
    told_why = told_why || (line.starts_with("pulling debian:bookworm failed (") &&
                            line.find("no such host") != std::string::npos);
  EXPECT_TRUE(told_why);
}

TEST_F(DockerProviderTest, WhenBothPullAndFallbackFailBothReasonsAreSaid) {
  remake([](const std::string&, const ProgressFn&) -> Result<std::string> {
    return Error(ErrorKind::remote_failure, "debootstrap exited 1");
  });
  http->on("POST", "/v1.41/networks/create", 201, R"({"Id":"net1"})");
  http->on("POST", "/v1.41/images/create", 500, R"({"message":"registry unreachable"})");
  auto r = provider->ensure(inv, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::remote_failure);
  EXPECT_NE(r.error().message.find("registry unreachable"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("debootstrap exited 1"), std::string::npos) << r.error().message;
  EXPECT_EQ(http->count("POST", "/v1.41/build"), 0);
}

TEST_F(DockerProviderTest, ContainersFollowTheEnginesCgroupVersionAndAppArmor) {
  remake();
  engine_says("1.48", kEngineInfoRunner);
  http->on("GET", "/v1.48/images/pgha-node%3Abookworm/json", 200,
           json{{"Config", {{"Labels", {{"pgha.context-hash", hash_of(inv)}}}}}}.dump());
  http->on("POST", "/v1.48/networks/create", 201, R"({"Id":"net1"})");
  http->on("POST", "/v1.48/volumes/create", 201, "{}");
  http->on("POST", "/v1.48/containers/create", 201, R"({"Id":"c1"})");
  http->on("PUT", "/v1.48/containers/", 200);
  http->on("POST", "/v1.48/containers/c1/start", 204);
  auto r = provider->ensure(inv, req);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  const json host = first_create()["HostConfig"];
  EXPECT_EQ(host["CgroupnsMode"], "host");
  EXPECT_EQ(host["Binds"][0], "/sys/fs/cgroup:/sys/fs/cgroup:rw");
  EXPECT_EQ(host["SecurityOpt"], json::array({"apparmor=unconfined"}));
  // Every request after the ping speaks the engine's version.
  for (const auto& q : http->requests) {
    std::string path = FakeHttp::path_of(q.url);
    EXPECT_TRUE(path == "/_ping" || path.starts_with("/v1.48/")) << path;
  }
}

TEST_F(DockerProviderTest, AnEngineOlderThanTheMinimumIsRefusedBeforeAnythingIsCreated) {
  engine_says("1.40", kEngineInfoV1);
  auto r = provider->ensure(inv, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(
      r.error().describe(),
      "Docker engine at http://localhost/v1.41: the Docker engine speaks API 1.40; pgha needs 1.41 or newer "
      "(Docker 20.10+)");
  EXPECT_EQ(http->count("POST", "/"), 0);
  EXPECT_FALSE(provider->list(inv).ok());
}

TEST_F(DockerProviderTest, TheEngineIsAskedOnceForAllCalls) {
  http->on("GET", "/v1.41/containers/json", 200, "[]");
  ASSERT_TRUE(provider->list(inv).ok());
  ASSERT_TRUE(provider->list(inv).ok());
  EXPECT_EQ(http->count("GET", "/_ping"), 1);
  EXPECT_EQ(http->count("GET", "/v1.41/info"), 1);
}

TEST_F(DockerProviderTest, ContextHashFollowsTheInventory) {
  Inventory lean = inv;
  lean.provider.docker.bake_packages = false;
  EXPECT_NE(hash_of(lean), hash_of(inv));
  EXPECT_EQ(hash_of(inv), hash_of(demo_inventory()));
}

TEST_F(DockerProviderTest, DestroyRemovesOnlyLabelledResources) {
  http->on("GET", "/v1.41/containers/json", 200, R"([{"Id":"c1"},{"Id":"c2"}])");
  http->on("GET", "/v1.41/volumes", 200, R"({"Volumes":[{"Name":"pgha-demo-pg1-data"}]})");
  http->on("GET", "/v1.41/networks", 200, R"([{"Id":"net1"}])");
  http->on("DELETE", "/v1.41/", 204);
  ASSERT_TRUE(provider->destroy(inv, DataRetention::remove).ok());
  std::vector<std::string> deleted;
  for (const auto& r : http->requests) {
    if (r.method == "DELETE") deleted.push_back(FakeHttp::path_of(r.url));
    const std::string path = FakeHttp::path_of(r.url);
    if (r.method == "GET" && path != "/_ping" && path != "/v1.41/info") {
      EXPECT_NE(r.url.find("pgha.cluster%3Ddemo"), std::string::npos) << r.url;
    }
  }
  EXPECT_EQ(deleted,
            (std::vector<std::string>{"/v1.41/containers/c1?force=1&v=1", "/v1.41/containers/c2?force=1&v=1",
                                      "/v1.41/volumes/pgha-demo-pg1-data", "/v1.41/networks/net1"}));

  http->requests.clear();
  ASSERT_TRUE(provider->destroy(inv, DataRetention::keep).ok());
  EXPECT_EQ(http->count("DELETE", "/v1.41/volumes"), 0);
  EXPECT_EQ(http->count("GET", "/v1.41/volumes"), 0);
}

TEST_F(DockerProviderTest, ListReportsLabelledContainersIncludingStrangers) {
  http->on("GET", "/v1.41/containers/json", 200, R"([
    {"Id":"c9","Names":["/pgha-demo-old"],"Labels":{"pgha.cluster":"demo","pgha.node":"old"},"State":"exited",
     "NetworkSettings":{"Networks":{"pgha-demo":{"IPAddress":""}}}},
    {"Id":"c1","Names":["/pgha-demo-pg1"],"Labels":{"pgha.cluster":"demo","pgha.node":"pg1"},"State":"running",
     "NetworkSettings":{"Networks":{"pgha-demo":{"IPAddress":"10.42.0.11"}}}}])");
  auto r = provider->list(inv);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].node, "pg1");
  EXPECT_TRUE((*r)[0].running);
  EXPECT_EQ((*r)[0].address, "10.42.0.11");
  EXPECT_EQ((*r)[1].node, "old");
  EXPECT_FALSE((*r)[1].running);
}

TEST_F(DockerProviderTest, FaultsMapToEngineCalls) {
  cluster_exists(true);
  http->on("POST", "/v1.41/networks/pgha-demo/", 200);
  ASSERT_TRUE(provider->inject(inv, "pg1", MachineFault::kill).ok());
  EXPECT_EQ(http->count("POST", "/v1.41/containers/id-pg1/kill?signal=SIGKILL"), 1);
  ASSERT_TRUE(provider->inject(inv, "pg1", MachineFault::pause).ok());
  EXPECT_EQ(http->count("POST", "/v1.41/containers/id-pg1/pause"), 1);
  ASSERT_TRUE(provider->inject(inv, "pg1", MachineFault::partition).ok());
  EXPECT_EQ(http->count("POST", "/v1.41/networks/pgha-demo/disconnect"), 0);
  EXPECT_EQ(http->count("POST", "/v1.41/containers/id-pg1/exec"), 1);
  EXPECT_EQ(http->count("POST", "/v1.41/exec/exec-pg1/start"), 1);
  std::string cut = last_exec("pg1");
  EXPECT_NE(cut.find("ip route show default dev 'eth0' > /run/pgha-partition.routes"), std::string::npos)
      << cut;
  EXPECT_NE(cut.find("ip link set dev 'eth0' down"), std::string::npos) << cut;

  auto unknown = provider->inject(inv, "pg9", MachineFault::kill);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind, ErrorKind::bad_input);
}

TEST_F(DockerProviderTest, PartitionLiftBringsTheLinkAndItsRoutesBack) {
  cluster_exists(true);
  ASSERT_TRUE(provider->lift(inv, "pg2", MachineFault::partition).ok());
  std::string heal = last_exec("pg2");
  EXPECT_NE(heal.find("ip link set dev 'eth0' up"), std::string::npos) << heal;
  EXPECT_NE(heal.find("ip route replace $route dev 'eth0'"), std::string::npos) << heal;
  EXPECT_EQ(http->count("POST", "/v1.41/networks/pgha-demo/connect"), 0);
}

TEST_F(DockerProviderTest, AFailedFaultCommandIsAnErrorWithItsExitCode) {
  cluster_exists(true);
  exec_exits(2);
  auto r = provider->inject(inv, "pg1", MachineFault::partition);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::remote_failure);
  EXPECT_NE(r.error().describe().find("exit 2"), std::string::npos) << r.error().describe();
  EXPECT_NE(r.error().describe().find("cut the node's link"), std::string::npos) << r.error().describe();
}

TEST(DockerHostTest, ParsesUnixAndTcp) {
  EXPECT_EQ(parse_docker_host("")->unix_socket, "/var/run/docker.sock");
  EXPECT_EQ(parse_docker_host("unix:///run/d.sock")->unix_socket, "/run/d.sock");
  EXPECT_EQ(parse_docker_host("tcp://10.0.0.5:2375")->base_url, "http://10.0.0.5:2375/v1.41");
  EXPECT_EQ(parse_docker_host("")->address, "unix:///var/run/docker.sock");
  EXPECT_EQ(parse_docker_host("unix:///run/d.sock")->address, "unix:///run/d.sock");
  EXPECT_EQ(parse_docker_host("tcp://10.0.0.5:2375/")->address, "tcp://10.0.0.5:2375");
  // Docker's own default port, not HTTP's 80.
  EXPECT_EQ(parse_docker_host("tcp://dockerhost")->base_url, "http://dockerhost:2375/v1.41");
  EXPECT_EQ(parse_docker_host("tcp://dockerhost")->address, "tcp://dockerhost:2375");
  EXPECT_EQ(parse_docker_host("tcp://[::1]")->base_url, "http://[::1]:2375/v1.41");
  EXPECT_EQ(parse_docker_host("unix://").error().kind, ErrorKind::bad_input);
  EXPECT_EQ(parse_docker_host("ssh://x").error().kind, ErrorKind::bad_input);
}

TEST(DockerSpecTest, GatewayDefaultsToFirstHost) {
  Network n;
  n.subnet = "10.77.0.0/24";
  EXPECT_EQ(*network_gateway(n), "10.77.0.1");
  n.gateway = "10.77.0.254";
  EXPECT_EQ(*network_gateway(n), "10.77.0.254");
  n.gateway = "";
  n.subnet = "nonsense";
  EXPECT_FALSE(network_gateway(n).ok());
}

}  // namespace
}  // namespace pgha
