// CurlHttp against tiny loopback servers (plain and TLS, written here with sockets and OpenSSL):
// status line, reason phrase, headers, bodies, timeouts, refused connections, certificate pinning;
// and the Docker socket when one is there.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "net/curl_http.hpp"

namespace pgha {
namespace {

namespace fs = std::filesystem;

// Serves one canned response per connection until stopped; records the raw requests.
class TinyServer {
 public:
  TinyServer(std::string response, SSL_CTX* tls = nullptr, int delay_ms = 0)
      : response_(std::move(response)), tls_(tls), delay_ms_(delay_ms) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 8);
    thread_ = std::thread([this] { serve(); });
  }
  ~TinyServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return std::string(tls_ ? "https" : "http") + "://localhost:" + std::to_string(port_) + path;
  }
  std::string last_request() {
    std::lock_guard<std::mutex> g(mu_);
    return last_;
  }

 private:
  void serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      SSL* ssl = nullptr;
      if (tls_) {
        ssl = SSL_new(tls_);
        SSL_set_fd(ssl, c);
        if (SSL_accept(ssl) != 1) {
          SSL_free(ssl);
          ::close(c);
          continue;
        }
      }
      auto rd = [&](char* b, int n) { return ssl ? SSL_read(ssl, b, n) : static_cast<int>(::read(c, b, n)); };
      auto wr = [&](const std::string& s) {
        if (ssl) {
          SSL_write(ssl, s.data(), static_cast<int>(s.size()));
        } else {
          (void)!::write(c, s.data(), s.size());
        }
      };
      std::string req;
      char buf[4096];
      size_t need = std::string::npos;
      while (true) {
        int n = rd(buf, sizeof(buf));
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
        size_t end = req.find("\r\n\r\n");
        if (end != std::string::npos && need == std::string::npos) {
          size_t cl = req.find("Content-Length: ");
          need = end + 4 + (cl != std::string::npos && cl < end ? std::stoul(req.substr(cl + 16)) : 0);
        }
        if (need != std::string::npos && req.size() >= need) break;
      }
      {
        std::lock_guard<std::mutex> g(mu_);
        last_ = req;
      }
      if (delay_ms_) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
      wr(response_);
      if (ssl) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
      }
      ::close(c);
    }
  }

  std::string response_;
  SSL_CTX* tls_;
  int delay_ms_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::string last_;
  std::thread thread_;
};

TEST(CurlHttpTest, StatusReasonHeadersAndBody) {
  TinyServer server(
      "HTTP/1.1 500 got: user root@pam has no VM.Allocate\r\nContent-Length: 4\r\nX-Thing: Yes  \r\n"
      "Connection: close\r\n\r\nbody");
  CurlHttp http({});
  HttpRequest req;
  req.url = server.url("/api2/json/x");
  auto r = http.send(req);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->reason, "got: user root@pam has no VM.Allocate");
  EXPECT_EQ(r->headers.at("x-thing"), "Yes");
  EXPECT_EQ(r->body, "body");
  EXPECT_EQ(server.last_request().rfind("GET /api2/json/x HTTP/1.1\r\n", 0), 0u);
}

TEST(CurlHttpTest, PostSendsTheBodyAsIsWithItsContentType) {
  TinyServer server("HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
  CurlHttp http({});
  HttpRequest req;
  req.method = "POST";
  req.url = server.url("/networks/create");
  req.headers["Content-Type"] = "application/json";
  req.body = R"({"Name":"a b&c"})";
  auto r = http.send(req);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->status, 201);
  std::string seen = server.last_request();
  EXPECT_NE(seen.find("Content-Type: application/json\r\n"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("x-www-form-urlencoded"), std::string::npos) << seen;
  EXPECT_TRUE(seen.ends_with("\r\n\r\n{\"Name\":\"a b&c\"}")) << seen;
}

TEST(CurlHttpTest, StreamingDeliversTheBodyToTheCallback) {
  TinyServer server("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nline1\nline2\n");
  CurlHttp http({});
  HttpRequest req;
  req.url = server.url("/build");
  std::string got;
  auto r = http.send_streaming(req, [&](std::string_view c) { got.append(c); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(got, "line1\nline2\n");
  EXPECT_TRUE(r->body.empty());
}

TEST(CurlHttpTest, TimeoutAndRefusedMapToKinds) {
  TinyServer slow("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", nullptr, 1500);
  CurlHttp http({});
  HttpRequest req;
  req.url = slow.url("/slow");
  req.timeout_ms = 300;
  auto r = http.send(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::timeout);
  EXPECT_NE(r.error().describe().find("GET " + req.url), std::string::npos);

  req.url = "http://127.0.0.1:1/nothing";
  auto refused = http.send(req);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::io);
}

// A connection that is never made says where it went and why, in words: the reason is the message,
// "connect to WHERE" its innermost context, so a caller (DockerClient) can name the engine instead.
TEST(CurlHttpTest, RefusedTcpIsAConnectErrorNamingHostAndPort) {
  CurlHttp http({});
  HttpRequest req;
  req.url = "http://127.0.0.1:1/nothing";
  auto r = http.send(req);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(is_connect_error(r.error()));
  EXPECT_EQ(r.error().describe(),
            "GET http://127.0.0.1:1/nothing: connect to 127.0.0.1:1: connection refused");

  req.url = "http://pgha-no-such-host.invalid/x";
  auto unknown = http.send(req);
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(is_connect_error(unknown.error()));
  EXPECT_EQ(unknown.error().describe(),
            "GET http://pgha-no-such-host.invalid/x: connect to pgha-no-such-host.invalid:80: unknown host");
}

TEST(CurlHttpTest, AnAnswerThatTimesOutIsNotAConnectError) {
  TinyServer slow("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", nullptr, 1500);
  CurlHttp http({});
  HttpRequest req;
  req.url = slow.url("/slow");
  req.timeout_ms = 300;
  auto r = http.send(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::timeout);
  EXPECT_FALSE(is_connect_error(r.error())) << r.error().describe();
}

class CurlUnixSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pgha-curl-unix-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
    fs::remove_all(dir_);
  }

  // A unix socket bound at path that nobody accepts on: connect() is refused.
  void bind_socket(const fs::path& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", path.c_str());
    ASSERT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  }

  Error send_to(const fs::path& path) {
    CurlHttpOptions o;
    o.unix_socket_path = path.string();
    CurlHttp http(o);
    HttpRequest req;
    req.url = "http://localhost/v1.41/_ping";
    auto r = http.send(req);
    EXPECT_FALSE(r.ok());
    return r.ok() ? Error() : r.error();
  }

  fs::path dir_;
  int fd_ = -1;
};

TEST_F(CurlUnixSocketTest, SaysWhyTheSocketCannotBeReached) {
  std::ofstream(dir_ / "file") << "not a socket\n";
  fs::create_directory(dir_ / "dir");
  bind_socket(dir_ / "s.sock");
  struct Case {
    fs::path path;
    std::string reason;
  };
  for (const Case& c :
       {Case{dir_ / "missing.sock", "no such file"}, Case{dir_ / "file/x.sock", "no such file"},
        Case{dir_ / "file", "not a socket"}, Case{dir_ / "dir", "a directory, not a socket"},
        Case{dir_ / "s.sock", "nothing is listening"}}) {
    Error e = send_to(c.path);
    EXPECT_TRUE(is_connect_error(e)) << e.describe();
    EXPECT_EQ(e.kind, ErrorKind::io);
    EXPECT_EQ(e.describe(), "GET http://localhost/v1.41/_ping: connect to unix socket " + c.path.string() +
                                ": " + c.reason);
  }
}

TEST_F(CurlUnixSocketTest, PermissionDeniedWhenNotRoot) {
  bind_socket(dir_ / "s.sock");
  ::chmod((dir_ / "s.sock").c_str(), 0);
  EXPECT_EQ(unix_socket_failure((dir_ / "s.sock").string(), EACCES), "permission denied");
  if (::geteuid() == 0) GTEST_SKIP() << "root may connect to any socket";
  EXPECT_EQ(send_to(dir_ / "s.sock").message, "permission denied");
}

TEST(CurlHttpTest, FingerprintHelpers) {
  EXPECT_EQ(format_fingerprint(std::string("\x01\xab", 2)), "01:AB");
  std::string hex(64, 'a');
  EXPECT_EQ(normalize_fingerprint(hex), std::string(64, 'A'));
  EXPECT_EQ(normalize_fingerprint("AB:CD"), "");
  EXPECT_EQ(normalize_fingerprint(std::string(63, 'a') + "g"), "");
}

class CurlTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pgha-curl-tls-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
        "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
        (dir_ / "key.pem").string() + " -out " + (dir_ / "cert.pem").string() +
        " >/dev/null 2>&1 && openssl x509 -in " + (dir_ / "cert.pem").string() +
        " -noout -fingerprint -sha256 > " + (dir_ / "fp").string();
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    std::ifstream in(dir_ / "fp");
    std::string line;
    std::getline(in, line);
    fingerprint_ = line.substr(line.find('=') + 1);  // "sha256 Fingerprint=AA:BB:..."
    ctx_ = SSL_CTX_new(TLS_server_method());
    ASSERT_EQ(SSL_CTX_use_certificate_file(ctx_, (dir_ / "cert.pem").c_str(), SSL_FILETYPE_PEM), 1);
    ASSERT_EQ(SSL_CTX_use_PrivateKey_file(ctx_, (dir_ / "key.pem").c_str(), SSL_FILETYPE_PEM), 1);
    server_ = std::make_unique<TinyServer>(
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", ctx_);
  }
  void TearDown() override {
    server_.reset();
    if (ctx_) SSL_CTX_free(ctx_);
    fs::remove_all(dir_);
  }
  Result<HttpResponse> get(CurlHttpOptions o) {
    CurlHttp http(std::move(o));
    HttpRequest req;
    req.url = server_->url("/api2/json/version");
    req.headers["Authorization"] = "PVEAPIToken=x";
    return http.send(req);
  }

  fs::path dir_;
  std::string fingerprint_;
  SSL_CTX* ctx_ = nullptr;
  std::unique_ptr<TinyServer> server_;
};

TEST_F(CurlTlsTest, UnknownCaIsRejected) {
  auto r = get({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::auth) << r.error().describe();
}

TEST_F(CurlTlsTest, CaFileIsTrusted) {
  CurlHttpOptions o;
  o.ca_file = (dir_ / "cert.pem").string();
  auto r = get(o);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->body, "ok");
}

TEST_F(CurlTlsTest, MatchingPinIsAcceptedWithoutCa) {
  CurlHttpOptions o;
  o.pinned_sha256 = fingerprint_;
  auto r = get(o);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->body, "ok");
  // Lower case without colons works too.
  std::string plain;
  for (char c : fingerprint_) {
    if (c != ':') plain += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  o.pinned_sha256 = plain;
  EXPECT_TRUE(get(o).ok());
}

TEST_F(CurlTlsTest, WrongPinIsAnAuthErrorNamingBoth) {
  CurlHttpOptions o;
  o.pinned_sha256 = std::string(64, '0');
  auto r = get(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::auth);
  std::string msg = r.error().describe();
  EXPECT_NE(msg.find("expected 00:00:00"), std::string::npos) << msg;
  EXPECT_NE(msg.find("got " + fingerprint_), std::string::npos) << msg;
  EXPECT_EQ(msg.find("PVEAPIToken"), std::string::npos);
}

TEST_F(CurlTlsTest, InsecureSkipsVerification) {
  CurlHttpOptions o;
  o.verify = TlsVerify::insecure;
  EXPECT_TRUE(get(o).ok());
}

TEST(CurlHttpDockerTest, PingOverTheUnixSocket) {
  if (!fs::exists("/var/run/docker.sock")) GTEST_SKIP() << "no Docker socket";
  CurlHttpOptions o;
  o.unix_socket_path = "/var/run/docker.sock";
  CurlHttp http(o);
  HttpRequest req;
  req.url = "http://localhost/v1.41/_ping";
  auto r = http.send(req);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "OK");
  EXPECT_FALSE(r->headers["api-version"].empty());
}

}  // namespace
}  // namespace pgha
