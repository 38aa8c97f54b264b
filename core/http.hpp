// The narrow HTTP interface the providers talk through. The real implementation is libcurl
// (net/curl_http.*), over a unix socket (Docker) or TLS (Proxmox); tests use fakes.
#pragma once

#include <map>
#include <string>

#include "core/error.hpp"

namespace pgha {

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute: http://localhost/v1.41/_ping
  std::map<std::string, std::string> headers;
  std::string body;
  long timeout_ms = 30000;  // whole request; 0 = none (streams such as /build)
};

struct HttpResponse {
  long status = 0;                             // 200, 404, ...
  std::string reason;                          // the status line's reason phrase (Proxmox puts errors there)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // An HTTP answer of any status is a success here; Errors are transport failures only
  // (connect refused -> io, timeout -> timeout, TLS verification -> auth).
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

}  // namespace pgha
