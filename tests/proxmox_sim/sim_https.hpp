// A small HTTPS/1.1 server (OpenSSL, a thread per connection, keep-alive) for the simulator.
// Written here rather than served by cpp-httplib's Server because Proxmox puts its error text in
// the status line's reason phrase ("500 can't lock file ... - got timeout") and httplib 0.11
// always writes the standard phrase. httplib still decodes the query strings and form bodies.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pgha::sim {

struct SimRequest {
  std::string method;
  std::string path;                            // percent-decoded, without the query
  std::string query;                           // raw
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct SimResponse {
  int status = 200;
  std::string reason = "OK";
  std::string body;
  std::string content_type = "application/json;charset=UTF-8";
};

using Handler = std::function<SimResponse(const SimRequest&)>;

class HttpsServer {
 public:
  HttpsServer(std::string cert_file, std::string key_file, Handler handler);
  ~HttpsServer();
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  // Binds host:port (port 0 = any free one) and serves on a background thread. Returns the bound
  // port, or -1 with `error` set.
  int start(const std::string& host, int port, std::string& error);
  // Stops accepting, shuts every connection down and waits until their threads are done. Idempotent.
  void stop();

 private:
  void accept_loop();
  void serve(int fd);

  std::string cert_file_, key_file_;
  Handler handler_;
  void* ctx_ = nullptr;  // SSL_CTX*
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable idle_;
  int active_ = 0;  // connections being served (detached threads)
  std::vector<int> open_fds_;
};

}  // namespace pgha::sim
