// The engine-difference rules: the API version chosen from /_ping's, the facts read from GET /info,
// and the node container's spec chosen from them (cgroup v1 and v2, with and without AppArmor and
// SELinux); the debootstrap fallback's pure parts (suite, mirror).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "providers/docker/debootstrap.hpp"
#include "providers/docker/docker_engine.hpp"
#include "providers/docker/docker_spec.hpp"

namespace pgha {
namespace {

namespace fs = std::filesystem;

// /info answers as engines give them: this machine's Debian 12 docker.io (cgroup v1, no AppArmor), an
// Ubuntu runner's Docker CE (cgroup v2, systemd driver, AppArmor), a Fedora-like host (cgroup v2,
// SELinux), a cgroup v1 Ubuntu 20.04 (AppArmor), and an engine before 20.10 (no CgroupVersion).
const json kDebianV1 = json::parse(R"({"ServerVersion":"20.10.24+dfsg1","CgroupVersion":"1",
  "CgroupDriver":"cgroupfs","SecurityOptions":["name=seccomp,profile=default"]})");
const json kRunnerV2 = json::parse(R"({"ServerVersion":"28.0.4","CgroupVersion":"2","CgroupDriver":"systemd",
  "SecurityOptions":["name=apparmor","name=seccomp,profile=builtin","name=cgroupns"]})");
const json kSelinuxV2 = json::parse(R"({"ServerVersion":"26.1.0","CgroupVersion":"2","CgroupDriver":"systemd",
  "SecurityOptions":["name=seccomp,profile=builtin","name=selinux","name=cgroupns"]})");
const json kApparmorV1 =
    json::parse(R"({"ServerVersion":"20.10.7","CgroupVersion":"1","CgroupDriver":"cgroupfs",
  "SecurityOptions":["name=apparmor","name=seccomp,profile=default"]})");
const json kOld =
    json::parse(R"({"ServerVersion":"19.03.15","SecurityOptions":["name=seccomp,profile=default"]})");

Inventory one_node() {
  Inventory inv;
  inv.cluster_name = "demo";
  inv.network.subnet = "10.42.0.0/24";
  Node n;
  n.name = "pg1";
  n.address = "10.42.0.11";
  inv.nodes.push_back(n);
  return inv;
}

json host_config(const json& info) {
  Inventory inv = one_node();
  return container_spec(inv, inv.nodes[0], node_runtime(engine_facts(info, "1.41")))["HostConfig"];
}

TEST(EngineFactsTest, ReadsCgroupDriverAndSecurityOptions) {
  EngineFacts v1 = engine_facts(kDebianV1, "1.41");
  EXPECT_EQ(v1.cgroup_version, 1);
  EXPECT_EQ(v1.cgroup_driver, "cgroupfs");
  EXPECT_FALSE(v1.apparmor);
  EXPECT_FALSE(v1.selinux);
  EXPECT_EQ(v1.server_version, "20.10.24+dfsg1");
  EngineFacts v2 = engine_facts(kRunnerV2, "1.48");
  EXPECT_EQ(v2.cgroup_version, 2);
  EXPECT_EQ(v2.cgroup_driver, "systemd");
  EXPECT_TRUE(v2.apparmor);
  EXPECT_FALSE(v2.selinux);
  EXPECT_EQ(v2.api_version, "1.48");
  EXPECT_TRUE(engine_facts(kSelinuxV2, "1.45").selinux);
  EXPECT_TRUE(engine_facts(json::parse(R"({"SecurityOptions":["name=rootless"]})"), "1.41").rootless);
  // An engine before 20.10 does not say: cgroup v1, the only one it supported.
  EXPECT_EQ(engine_facts(kOld, "1.41").cgroup_version, 1);
  // Odd shapes keep the defaults instead of throwing.
  for (const char* odd : {"[]", "null", R"({"CgroupVersion":2,"SecurityOptions":"name=apparmor"})",
                          R"({"SecurityOptions":[1,null,"name=apparmorx"]})"}) {
    EngineFacts f = engine_facts(json::parse(odd), "1.41");
    EXPECT_EQ(f.cgroup_version, 1) << odd;
    EXPECT_FALSE(f.apparmor) << odd;
  }
}

TEST(NodeRuntimeTest, CgroupV1WithoutAppArmorIsWhatRunsHere) {
  json h = host_config(kDebianV1);
  EXPECT_FALSE(h.contains("CgroupnsMode"));
  EXPECT_EQ(h["Binds"][0], "/sys/fs/cgroup:/sys/fs/cgroup:ro");
  EXPECT_FALSE(h.contains("SecurityOpt"));
  EXPECT_FALSE(h.contains("Privileged"));
  EXPECT_EQ(h["CapAdd"], json::array({"SYS_ADMIN", "NET_ADMIN", "NET_RAW"}));
}

TEST(NodeRuntimeTest, CgroupV1WithAppArmorIsUnconfined) {
  json h = host_config(kApparmorV1);
  EXPECT_FALSE(h.contains("CgroupnsMode"));
  EXPECT_EQ(h["Binds"][0], "/sys/fs/cgroup:/sys/fs/cgroup:ro");
  EXPECT_EQ(h["SecurityOpt"], json::array({"apparmor=unconfined"}));
}

TEST(NodeRuntimeTest, CgroupV2UsesTheHostNamespaceWithAWritableMount) {
  json h = host_config(kRunnerV2);
  EXPECT_EQ(h["CgroupnsMode"], "host");
  EXPECT_EQ(h["Binds"][0], "/sys/fs/cgroup:/sys/fs/cgroup:rw");
  EXPECT_EQ(h["SecurityOpt"], json::array({"apparmor=unconfined"}));
  EXPECT_FALSE(h.contains("Privileged"));
}

TEST(NodeRuntimeTest, CgroupV2WithoutAppArmorSendsNoAppArmorOption) {
  json info = kRunnerV2;
  info["SecurityOptions"] = json::array({"name=seccomp,profile=builtin", "name=cgroupns"});
  json h = host_config(info);
  EXPECT_EQ(h["CgroupnsMode"], "host");
  EXPECT_EQ(h["Binds"][0], "/sys/fs/cgroup:/sys/fs/cgroup:rw");
  EXPECT_FALSE(h.contains("SecurityOpt"));
}

TEST(NodeRuntimeTest, SelinuxTurnsLabelsOff) {
  json h = host_config(kSelinuxV2);
  EXPECT_EQ(h["CgroupnsMode"], "host");
  EXPECT_EQ(h["SecurityOpt"], json::array({"label=disable"}));
}

TEST(NodeRuntimeTest, SummarySaysWhatWasChosen) {
  EXPECT_EQ(node_runtime(engine_facts(kDebianV1, "1.41")).summary, "cgroup v1: /sys/fs/cgroup read-only");
  EXPECT_EQ(node_runtime(engine_facts(kRunnerV2, "1.48")).summary,
            "cgroup v2: host cgroup namespace, /sys/fs/cgroup read-write, AppArmor unconfined");
}

TEST(ApiVersionTest, TheEnginesOwnAtOrAboveTheMinimum) {
  EXPECT_EQ(*negotiate_api_version("1.41"), "1.41");
  EXPECT_EQ(*negotiate_api_version("1.44"), "1.44");  // Docker 25; 29.0-29.2 refused anything older
  EXPECT_EQ(*negotiate_api_version("1.52"), "1.52");
  EXPECT_EQ(*negotiate_api_version("2.0"), "2.0");
  auto old = negotiate_api_version("1.40");
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().kind, ErrorKind::remote_failure);
  EXPECT_EQ(old.error().message,
            "the Docker engine speaks API 1.40; pgha needs 1.41 or newer (Docker 20.10+)");
  for (const char* bad : {"", "1", "1.", ".41", "1.41a", "v1.41", "1.4.1", "x.y"}) {
    auto r = negotiate_api_version(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  EXPECT_NE(negotiate_api_version("").error().message.find("sent no usable API version"), std::string::npos);
}

TEST(DebootstrapTest, SuiteComesFromADebianImage) {
  EXPECT_EQ(*debian_suite("debian:bookworm"), "bookworm");
  EXPECT_EQ(*debian_suite("pgha-ci/debian:trixie"), "trixie");
  for (const char* bad : {"debian", "debian:latest", "debian:12", "ubuntu:noble", "mydebian:bookworm",
                          "debian:bookworm-slim"}) {
    auto r = debian_suite(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::bad_input);
  }
}

TEST(DebootstrapTest, MirrorFromAptSources) {
  char tmpl[] = "/tmp/pgha-apt-XXXXXX";
  fs::path dir = ::mkdtemp(tmpl);
  fs::create_directories(dir / "sources.list.d");
  EXPECT_EQ(apt_debian_mirror(dir.string()), "");
  std::ofstream(dir / "sources.list")
      << "# none\ndeb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian "
         "bookworm main\n";
  EXPECT_EQ(apt_debian_mirror(dir.string()), "http://mirror.example/debian");
  std::ofstream(dir / "sources.list.d" / "debian.sources")
      << "Types: deb\nURIs: http://security.example/debian-security\n\n"
         "Types: deb\nURIs: http://deb.example/debian\nSuites: bookworm\n";
  EXPECT_EQ(apt_debian_mirror(dir.string()), "http://deb.example/debian");
  fs::remove_all(dir);
}

TEST(DebootstrapTest, AnImageThatIsNotDebianIsRefusedBeforeAnythingRuns) {
  auto make = debootstrap_rootfs("http://mirror.example/debian", "/nonexistent");
  auto r = make("ubuntu:noble", nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::bad_input);
  auto no_mirror = debootstrap_rootfs("", "/nonexistent")("debian:bookworm", nullptr);
  ASSERT_FALSE(no_mirror.ok());
  EXPECT_NE(no_mirror.error().message.find("PGHA_DEBIAN_MIRROR"), std::string::npos);
}

}  // namespace
}  // namespace pgha
