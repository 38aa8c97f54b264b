// A scripted HTTP transport: routes "METHOD /path" (matched by prefix, the most recently added
// route first) to canned answers or handlers, and records every request. Paths are the URL
// without its scheme and authority ("/v1.41/containers/json?all=1"). Unrouted requests get a 404
// {"message":"no route"}.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "net/curl_http.hpp"

namespace pgha {

class FakeHttp : public StreamingHttpTransport {
 public:
  using Handler = std::function<Result<HttpResponse>(const HttpRequest&)>;

  void on(const std::string& method, const std::string& path_prefix, Handler handler) {
    routes_.push_back({method, path_prefix, std::move(handler)});
  }
  void on(const std::string& method, const std::string& path_prefix, long status, std::string body = "") {
    on(method, path_prefix, [status, body](const HttpRequest&) -> Result<HttpResponse> {
      HttpResponse r;
      r.status = status;
      r.body = body;
      return r;
    });
  }

  static std::string path_of(const std::string& url) {
    size_t scheme = url.find("://");
    size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    return slash == std::string::npos ? "/" : url.substr(slash);
  }

  Result<HttpResponse> send(const HttpRequest& request) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);  // providers may ask from several threads
    requests.push_back(request);
    std::string path = path_of(request.url);
    for (auto it = routes_.rbegin(); it != routes_.rend(); ++it) {
      if (it->method == request.method && path.starts_with(it->prefix)) return it->handler(request);
    }
    HttpResponse r;
    r.status = 404;
    r.body = R"({"message":"no route"})";
    return r;
  }

  Result<HttpResponse> send_streaming(const HttpRequest& request, const ChunkFn& on_chunk) override {
    auto r = send(request);
    if (r.ok()) {
      // Deliver in small pieces, so line reassembly across chunks is exercised.
      for (size_t i = 0; i < r->body.size(); i += 7) on_chunk(std::string_view(r->body).substr(i, 7));
      r->body.clear();
    }
    return r;
  }

  // Requests whose method matches and whose path starts with prefix.
  int count(const std::string& method, const std::string& prefix) const {
    int n = 0;
    for (const auto& r : requests) n += r.method == method && path_of(r.url).starts_with(prefix);
    return n;
  }

  std::vector<HttpRequest> requests;

 private:
  struct Route {
    std::string method;
    std::string prefix;
    Handler handler;
  };
  std::vector<Route> routes_;
  std::recursive_mutex mu_;
};

}  // namespace pgha
