// DockerClient against a scripted transport: error mapping, filters, build stream parsing; and
// the tar writer checked by GNU tar itself.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fakes/fake_http.hpp"
#include "providers/docker/docker_client.hpp"
#include "providers/docker/tar_writer.hpp"

namespace pgha {
namespace {

namespace fs = std::filesystem;

class DockerClientTest : public ::testing::Test {
 protected:
  FakeHttp http;
  DockerClient docker{http, "http://localhost/v1.41"};
};

TEST_F(DockerClientTest, MapsEngineErrorsToKindsWithTheEngineMessage) {
  struct Case {
    long status;
    ErrorKind kind;
  };
  for (Case c :
       {Case{404, ErrorKind::not_found}, Case{409, ErrorKind::conflict}, Case{400, ErrorKind::bad_input},
        Case{403, ErrorKind::bad_input}, Case{500, ErrorKind::remote_failure}}) {
    http.on("POST", "/v1.41/networks/create", c.status, R"({"message":"engine says no"})");
    auto r = docker.create_network({{"Name", "pgha-x"}});
    ASSERT_FALSE(r.ok()) << c.status;
    EXPECT_EQ(r.error().kind, c.kind) << c.status;
    EXPECT_EQ(r.error().describe(),
              "create network pgha-x: Docker answered " + std::to_string(c.status) + ": engine says no");
  }
}

TEST_F(DockerClientTest, NotModifiedIsSuccess) {
  http.on("POST", "/v1.41/containers/abc/start", 304);
  EXPECT_TRUE(docker.start_container("abc").ok());
}

TEST_F(DockerClientTest, TransportErrorsPassThroughWithContext) {
  http.on("GET", "/v1.41/_ping", [](const HttpRequest&) -> Result<HttpResponse> {
    return Error(ErrorKind::io, "Couldn't connect to server");
  });
  auto st = docker.ping();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::io);
  EXPECT_NE(st.error().describe().find("Docker engine at http://localhost/v1.41"), std::string::npos);
}

// An engine that cannot be reached is named as the user wrote its address, with the transport's
// reason and what to do; the request it happened on is left out.
TEST(DockerClientUnreachableTest, NamesTheAddressTheReasonAndTheFix) {
  struct Case {
    std::string address, where, reason, message;
    ErrorKind kind = ErrorKind::io;
  };
  const Case cases[] = {
      {"unix:///nonexistent.sock", "unix socket /nonexistent.sock", "no such file",
       "cannot reach the Docker engine at unix:///nonexistent.sock: no such file (is dockerd running? set "
       "DOCKER_HOST to its socket)"},
      {"unix:///tmp/x/file", "unix socket /tmp/x/file", "not a socket",
       "cannot reach the Docker engine at unix:///tmp/x/file: not a socket (is dockerd running? set "
       "DOCKER_HOST to its socket)"},
      {"unix:///tmp/x/s.sock", "unix socket /tmp/x/s.sock", "nothing is listening",
       "cannot reach the Docker engine at unix:///tmp/x/s.sock: nothing is listening (is dockerd running? "
       "set DOCKER_HOST to its socket)"},
      {"unix:///var/run/docker.sock", "unix socket /var/run/docker.sock", "permission denied",
       "cannot reach the Docker engine at unix:///var/run/docker.sock: permission denied (run pgha as root "
       "or as a member of the docker group)"},
      {"tcp://10.0.0.5:2375", "10.0.0.5:2375", "connection refused",
       "cannot reach the Docker engine at tcp://10.0.0.5:2375: connection refused (is dockerd listening "
       "there? set DOCKER_HOST to its address)"},
      {"tcp://10.0.0.5:2375", "10.0.0.5:2375", "no answer within 10000 ms",
       "cannot reach the Docker engine at tcp://10.0.0.5:2375: no answer within 10000 ms (is dockerd "
       "listening there? set DOCKER_HOST to its address)",
       ErrorKind::timeout},
  };
  for (const Case& c : cases) {
    FakeHttp http;
    http.on("GET", "/v1.41/", [&](const HttpRequest& r) -> Result<HttpResponse> {
      return connect_error(c.kind, c.where, c.reason).with("GET " + r.url);
    });
    DockerClient docker(http, "http://localhost/v1.41", {c.address});
    auto st = docker.ping();
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().kind, c.kind);
    EXPECT_EQ(st.error().describe(), c.message);
    auto listed = docker.networks();
    ASSERT_FALSE(listed.ok());
    EXPECT_EQ(listed.error().describe(), c.message);
  }
}

TEST(DockerClientUnreachableTest, AnAddressFromTheInventorySaysSo) {
  FakeHttp http;
  http.on("GET", "/v1.41/_ping", [](const HttpRequest&) -> Result<HttpResponse> {
    return connect_error(ErrorKind::io, "unix socket /run/d.sock", "no such file");
  });
  DockerClient docker(http, "http://localhost/v1.41",
                      {"unix:///run/d.sock", "provider.docker.host in the inventory"});
  EXPECT_EQ(docker.ping().error().describe(),
            "cannot reach the Docker engine at unix:///run/d.sock: no such file (is dockerd running? set "
            "provider.docker.host in the inventory to its socket)");
}

TEST_F(DockerClientTest, LabelFilterIsUrlEncodedJson) {
  http.on("GET", "/v1.41/containers/json", 200, R"([{"Id":"a"},{"Id":"b"}])");
  auto r = docker.containers_with_label("pgha.cluster=demo");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 2u);
  EXPECT_EQ(FakeHttp::path_of(http.requests.back().url),
            "/v1.41/containers/json?all=1&filters=%7B%22label%22%3A%5B%22pgha.cluster%3Ddemo%22%5D%7D");

  http.on("GET", "/v1.41/volumes", 200, R"({"Volumes":null,"Warnings":null})");
  auto v = docker.volumes_with_label("pgha.cluster=demo");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->empty());
}

TEST_F(DockerClientTest, InspectAbsentIsNullopt) {
  auto r = docker.inspect_container("nope");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  http.on("GET", "/v1.41/containers/boom/json", 500, R"({"message":"daemon broke"})");
  auto bad = docker.inspect_container("boom");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::remote_failure);
}

TEST_F(DockerClientTest, JsonBodiesAreTypedAsJson) {
  http.on("POST", "/v1.41/containers/create", 201, R"({"Id":"c1"})");
  auto id = docker.create_container("pgha-demo-pg1", {{"Image", "x"}});
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "c1");
  const HttpRequest& req = http.requests.back();
  EXPECT_EQ(req.headers.at("Content-Type"), "application/json");
  EXPECT_EQ(FakeHttp::path_of(req.url), "/v1.41/containers/create?name=pgha-demo-pg1");
  EXPECT_EQ(json::parse(req.body)["Image"], "x");
}

TEST_F(DockerClientTest, BuildStreamsLinesAndSurfacesErrors) {
  http.on("POST", "/v1.41/build", 200,
          "{\"stream\":\"Step 1/2 : FROM debian:bookworm\\n\"}\r\n{\"stream\":\" ---> abc\\n\"}\r\n"
          "{\"aux\":{\"ID\":\"sha256:1\"}}\r\n{\"stream\":\"Successfully built 1\\n\"}\r\n");
  std::vector<std::string> lines;
  auto ok = docker.build_image("TAR", "pgha-node:bookworm", {{"pgha.context-hash", "h"}},
                               [&](const std::string& l) { lines.push_back(l); });
  ASSERT_TRUE(ok.ok()) << ok.error().describe();
  EXPECT_EQ(lines, (std::vector<std::string>{"Step 1/2 : FROM debian:bookworm", " ---> abc",
                                             "Successfully built 1"}));
  const HttpRequest& req = http.requests.back();
  EXPECT_EQ(req.headers.at("Content-Type"), "application/x-tar");
  EXPECT_EQ(req.timeout_ms, 0);
  EXPECT_NE(req.url.find("t=pgha-node%3Abookworm"), std::string::npos);
  EXPECT_NE(req.url.find("labels=%7B%22pgha.context-hash%22%3A%22h%22%7D"), std::string::npos);

  http.on("POST", "/v1.41/build", 200,
          "{\"stream\":\"Step 2/2 : RUN apt-get install nope\\n\"}\n"
          "{\"errorDetail\":{\"code\":100},\"error\":\"The command returned a non-zero code: 100\"}\n");
  auto bad = docker.build_image("TAR", "img", json::object(), nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::remote_failure);
  EXPECT_NE(bad.error().message.find("non-zero code: 100"), std::string::npos);
  EXPECT_NE(bad.error().message.find("RUN apt-get install nope"), std::string::npos);
}

TEST_F(DockerClientTest, PullAndImportNameTheRepositoryAndTag) {
  http.on("POST", "/v1.41/images/create", 200, "{\"status\":\"Pulling\",\"id\":\"bookworm\"}\n");
  std::vector<std::string> lines;
  ASSERT_TRUE(docker.pull_image("debian:bookworm", [&](const std::string& l) { lines.push_back(l); }).ok());
  EXPECT_EQ(FakeHttp::path_of(http.requests.back().url),
            "/v1.41/images/create?fromImage=debian&tag=bookworm");
  EXPECT_EQ(lines, std::vector<std::string>{"bookworm: Pulling"});
  ASSERT_TRUE(docker.pull_image("localhost:5000/ci/debian:trixie", nullptr).ok());
  EXPECT_EQ(FakeHttp::path_of(http.requests.back().url),
            "/v1.41/images/create?fromImage=localhost%3A5000%2Fci%2Fdebian&tag=trixie");
  ASSERT_TRUE(docker.pull_image("localhost:5000/debian", nullptr).ok());  // a port is not a tag
  EXPECT_EQ(FakeHttp::path_of(http.requests.back().url),
            "/v1.41/images/create?fromImage=localhost%3A5000%2Fdebian&tag=latest");
  ASSERT_TRUE(docker.import_image("ROOTFS", "ci/debian:bookworm").ok());
  EXPECT_EQ(FakeHttp::path_of(http.requests.back().url),
            "/v1.41/images/create?fromSrc=-&repo=ci%2Fdebian&tag=bookworm");
  EXPECT_EQ(http.requests.back().body, "ROOTFS");

  http.on("POST", "/v1.41/images/create", 200, "{\"error\":\"pull access denied for nope\"}\n");
  auto refused = docker.pull_image("nope:1", nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::remote_failure);
  EXPECT_EQ(refused.error().describe(), "pull image nope:1: docker pull failed: pull access denied for nope");
}

TEST_F(DockerClientTest, NegotiationSpeaksTheEnginesVersionFromThenOn) {
  http.on("GET", "/_ping", [](const HttpRequest&) -> Result<HttpResponse> {
    HttpResponse r;
    r.status = 200;
    r.headers["api-version"] = "1.47";
    return r;
  });
  http.on("GET", "/v1.47/info", 200, R"({"CgroupVersion":"2"})");
  auto v = docker.negotiate_version();
  ASSERT_TRUE(v.ok()) << v.error().describe();
  EXPECT_EQ(*v, "1.47");
  EXPECT_EQ(docker.base(), "http://localhost/v1.47");
  auto info = docker.info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)["CgroupVersion"], "2");
  EXPECT_EQ(FakeHttp::path_of(http.requests.front().url), "/_ping");
}

TEST(TarWriterTest, GnuTarReadsItBack) {
  TarWriter tar;
  tar.add_dir("root/.ssh", 0700);
  tar.add_file("root/.ssh/authorized_keys", "ssh-ed25519 AAAA test\n", 0600);
  std::string long_dir(120, 'd');
  tar.add_file(long_dir + "/file", std::string(1000, 'z'), 0644);
  std::string bytes = tar.finish();
  EXPECT_EQ(bytes.size() % 512, 0u);

  fs::path dir = fs::temp_directory_path() / ("pgha-tar-test-" + std::to_string(::getpid()));
  fs::create_directories(dir / "out");
  std::ofstream(dir / "a.tar", std::ios::binary) << bytes;
  std::string cmd = "tar -xf " + (dir / "a.tar").string() + " -C " + (dir / "out").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(dir / "out/root/.ssh/authorized_keys");
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "ssh-ed25519 AAAA test\n");
  EXPECT_EQ(fs::status(dir / "out/root/.ssh/authorized_keys").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::file_size(dir / "out" / long_dir / "file"), 1000u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace pgha
