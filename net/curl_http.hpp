// HttpTransport over libcurl: the Docker Engine's unix socket, plain TCP, or TLS with a CA file, a
// pinned certificate fingerprint, or (explicitly) no verification. One CurlHttp per endpoint; it is
// not shared between threads.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/http.hpp"

namespace pgha {

// An HttpTransport that can also hand the body over as it arrives (docker build's progress lines).
class StreamingHttpTransport : public HttpTransport {
 public:
  using ChunkFn = std::function<void(std::string_view chunk)>;
  // Like send(), but every body chunk goes to on_chunk as it arrives and the returned body is empty.
  virtual Result<HttpResponse> send_streaming(const HttpRequest& request, const ChunkFn& on_chunk) = 0;
};

enum class TlsVerify { verify, insecure };

struct CurlHttpOptions {
  std::string unix_socket_path;  // non-empty: connect here whatever the URL's host (Docker)
  std::string ca_file;           // trust this CA bundle instead of the system's
  std::string client_cert_file;  // present this certificate (PEM) when the server asks for one
  std::string client_key_file;
  // SHA-256 of the peer certificate (DER), "AA:BB:..." (case and colons ignored). When set, the
  // certificate chain is not checked against CAs: the pin alone decides.
  std::string pinned_sha256;
  TlsVerify verify = TlsVerify::verify;  // insecure: no check at all; the caller warns the user
  long connect_timeout_ms = 10000;
};

class CurlHttp final : public StreamingHttpTransport {
 public:
  explicit CurlHttp(CurlHttpOptions options);
  ~CurlHttp() override;
  CurlHttp(const CurlHttp&) = delete;
  CurlHttp& operator=(const CurlHttp&) = delete;

  // Errors: io (connect refused, reset, DNS), timeout, auth (TLS verification or pin mismatch). A
  // connection that could not be made at all is a connect error (below).
  Result<HttpResponse> send(const HttpRequest& request) override;
  Result<HttpResponse> send_streaming(const HttpRequest& request, const ChunkFn& on_chunk) override;

 private:
  Result<HttpResponse> perform(const HttpRequest& request, const ChunkFn* on_chunk);

  CurlHttpOptions options_;
};

// A connection that could not be made: kind io (timeout when it timed out), the reason alone as the
// message ("no such file", "permission denied", "not a socket", "nothing is listening", "connection
// refused", "unknown host", ...), and "connect to WHERE" as its innermost context ("unix socket
// /run/docker.sock", "10.0.0.5:2375"). Callers that can say what was unreachable in their own terms
// (DockerClient) recognise it with is_connect_error(); fakes build it with connect_error().
Error connect_error(ErrorKind kind, const std::string& where, const std::string& reason);
bool is_connect_error(const Error& error);

// Why connecting to the unix socket at path failed, given connect()'s errno (0 if unknown). The path
// itself is looked at first, since connect() says ECONNREFUSED both for a file that is not a socket
// and for a socket nobody listens on: "no such file", "permission denied", "not a socket", "nothing is
// listening", else the errno's text.
std::string unix_socket_failure(const std::string& path, int os_errno);

// "AA:BB:..." upper-case hex with colons, the form the pin is compared and reported in.
std::string format_fingerprint(std::string_view raw_digest);
// Normalises a user-written fingerprint: strips colons/spaces, upper-cases. "" if it is not 64 hex digits.
std::string normalize_fingerprint(std::string_view text);

}  // namespace pgha
