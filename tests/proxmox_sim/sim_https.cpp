#include "sim_https.hpp"
#include <csignal>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <sstream>

namespace pgha::sim {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string decode_path(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool write_all(SSL* ssl, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    int n = SSL_write(ssl, data.data() + done, static_cast<int>(data.size() - done));
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

HttpsServer::HttpsServer(std::string cert_file, std::string key_file, Handler handler)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)), handler_(std::move(handler)) {}

HttpsServer::~HttpsServer() {
  stop();
  if (ctx_ != nullptr) SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
}

int HttpsServer::start(const std::string& host, int port, std::string& error) {
  // A client that gives up (a timeout under test) closes its socket while an answer is being written:
  // that must be a failed write, not SIGPIPE killing the process that hosts the server.
  std::signal(SIGPIPE, SIG_IGN);
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  ctx_ = ctx;
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file_.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key_file_.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = "cannot load the TLS certificate or key";
    return -1;
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1) {
    error = "not an IPv4 address: " + host;
    return -1;
  }
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(listen_fd_, 64) != 0) {
    error = "cannot listen on " + host + ":" + std::to_string(port) + ": " + std::strerror(errno);
    return -1;
  }
  socklen_t len = sizeof sa;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&sa), &len);
  acceptor_ = std::thread([this] { accept_loop(); });
  return ntohs(sa.sin_port);
}

void HttpsServer::stop() {
  if (stopping_.exchange(true)) return;
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  std::unique_lock<std::mutex> lock(mu_);
  for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  idle_.wait(lock, [this] { return active_ == 0; });
}

void HttpsServer::accept_loop() {
  while (!stopping_) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_) return;
      continue;
    }
    timeval tv{60, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    open_fds_.push_back(fd);
    ++active_;
    std::thread([this, fd] { serve(fd); }).detach();
  }
}

namespace {

// Reads one request from the connection (buffered in `buf`), lets `handler` answer it, writes the
// answer. False when the connection is finished (closed, broken, or "Connection: close").
bool serve_one(SSL* ssl, std::string& buf, const Handler& handler) {
  char chunk[16384];
  auto fill = [&]() {
    int n = SSL_read(ssl, chunk, sizeof chunk);
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
    return true;
  };
  size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return false;
  }
  SimRequest req;
  std::istringstream head(buf.substr(0, end));
  buf.erase(0, end + 4);
  std::string line, target, version;
  std::getline(head, line);
  std::istringstream(line) >> req.method >> target >> version;
  while (std::getline(head, line)) {
    size_t colon = line.find(':');
    if (colon != std::string::npos) req.headers[lower(line.substr(0, colon))] = trim(line.substr(colon + 1));
  }
  size_t q = target.find('?');
  req.path = decode_path(target.substr(0, q));
  if (q != std::string::npos) req.query = target.substr(q + 1);
  size_t length = req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
  if (lower(req.headers["expect"]) == "100-continue" && !write_all(ssl, "HTTP/1.1 100 Continue\r\n\r\n"))
    return false;
  while (buf.size() < length) {
    if (!fill()) return false;
  }
  req.body = buf.substr(0, length);
  buf.erase(0, length);
  bool keep_alive = lower(req.headers["connection"]) != "close" && version == "HTTP/1.1";

  SimResponse res = handler(req);
  std::string out = "HTTP/1.1 " + std::to_string(res.status) + " " + res.reason + "\r\n";
  out += "Server: pve-api-daemon/3.0\r\nCache-Control: max-age=0\r\n";
  out += "Content-Type: " + res.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(res.body.size()) + "\r\n";
  out += keep_alive ? "Connection: Keep-Alive\r\n\r\n" : "Connection: close\r\n\r\n";
  out += res.body;
  return write_all(ssl, out) && keep_alive;
}

}  // namespace

void HttpsServer::serve(int fd) {
  SSL* ssl = SSL_new(static_cast<SSL_CTX*>(ctx_));
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) == 1) {
    std::string buf;
    while (!stopping_ && serve_one(ssl, buf, handler_)) {
    }
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  std::lock_guard<std::mutex> lock(mu_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  ::close(fd);
  if (--active_ == 0) idle_.notify_all();
}

}  // namespace pgha::sim
