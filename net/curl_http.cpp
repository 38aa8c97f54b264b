#include "net/curl_http.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>

namespace pgha {
namespace {

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct ListDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct StringDeleter {
  void operator()(char* s) const { curl_free(s); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;
using List = std::unique_ptr<curl_slist, ListDeleter>;
using Url = std::unique_ptr<CURLU, UrlDeleter>;
using CurlString = std::unique_ptr<char, StringDeleter>;

// Per-request state the callbacks write into.
struct Transfer {
  HttpResponse response;
  const StreamingHttpTransport::ChunkFn* on_chunk = nullptr;
  std::string pin;       // normalised expected fingerprint, "" = no pin
  std::string seen_pin;  // the peer certificate's fingerprint, once seen
  bool pin_mismatch = false;
};

// curl_slist_append returns the (possibly new) head, or nullptr leaving the list untouched.
bool append(List& list, const std::string& line) {
  curl_slist* head = curl_slist_append(list.get(), line.c_str());
  if (!head) return false;
  (void)list.release();
  list.reset(head);
  return true;
}

std::string with_colons(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    if (i) out += ':';
    out += hex.substr(i, 2);
  }
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    // A new status line (after a redirect or 100-continue): start over. "HTTP/1.1 500 reason text"
    t->response.headers.clear();
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    t->response.reason = sp2 == std::string_view::npos ? "" : trim(line.substr(sp2 + 1));
  } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    t->response.headers[lower(std::string(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (t->on_chunk) {
    (*t->on_chunk)(std::string_view(data, size * n));
  } else {
    t->response.body.append(data, size * n);
  }
  return size * n;
}

int transfer_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// The pin decides alone: chain errors are cleared, and the leaf's SHA-256 must equal the pin.
int pin_verify(int /*preverify*/, X509_STORE_CTX* store) {
  SSL* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* t = static_cast<Transfer*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), transfer_index()));
  if (X509_STORE_CTX_get_error_depth(store) > 0) {
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509* cert = X509_STORE_CTX_get_current_cert(store);
  if (!cert || !t || X509_digest(cert, EVP_sha256(), md, &len) != 1) return 0;
  t->seen_pin = format_fingerprint(std::string_view(reinterpret_cast<const char*>(md), len));
  if (normalize_fingerprint(t->seen_pin) != t->pin) {
    t->pin_mismatch = true;
    return 0;
  }
  X509_STORE_CTX_set_error(store, X509_V_OK);
  return 1;
}

CURLcode on_ssl_ctx(CURL*, void* ssl_ctx, void* user) {
  auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  SSL_CTX_set_ex_data(ctx, transfer_index(), user);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, pin_verify);
  return CURLE_OK;
}

// strerror's text with a lower-case first letter, to follow "...: ".
std::string errno_text(int e) {
  std::string text = std::strerror(e);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

// "host:port" of a URL, the port filled in from the scheme; the URL itself if it does not parse.
std::string host_port(const std::string& url) {
  Url u(curl_url());
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return url;
  char* host = nullptr;
  char* port = nullptr;
  curl_url_get(u.get(), CURLUPART_HOST, &host, 0);
  curl_url_get(u.get(), CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
  CurlString h(host), p(port);
  if (!h) return url;
  return std::string(h.get()) + (p ? ":" + std::string(p.get()) : "");
}

// What a failed transfer tells about the connection, read from the handle once it has failed.
struct ConnectFacts {
  long os_errno = 0;            // connect()'s errno, 0 if none was recorded
  curl_off_t connect_us = 0;    // 0: no connection was ever made
  long connect_timeout_ms = 0;  // the limit a connect timeout hit
};

// A connect error when the transfer never got a connection, else nullopt.
std::optional<Error> connect_failure(CURLcode code, const ConnectFacts& f, const CurlHttpOptions& options,
                                     const HttpRequest& req) {
  const bool unix_socket = !options.unix_socket_path.empty();
  const std::string where = unix_socket ? "unix socket " + options.unix_socket_path : host_port(req.url);
  const int e = static_cast<int>(f.os_errno);
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST: return connect_error(ErrorKind::io, where, "unknown host");
    case CURLE_OPERATION_TIMEDOUT:
      if (f.connect_us != 0) return std::nullopt;
      return connect_error(ErrorKind::timeout, where,
                           "no answer within " + std::to_string(f.connect_timeout_ms) + " ms");
    case CURLE_COULDNT_CONNECT: break;
    default: return std::nullopt;
  }
  if (unix_socket)
    return connect_error(ErrorKind::io, where, unix_socket_failure(options.unix_socket_path, e));
  std::string reason;
  switch (e) {
    case ECONNREFUSED: reason = "connection refused"; break;
    case EHOSTUNREACH: reason = "no route to host"; break;
    case ENETUNREACH: reason = "network unreachable"; break;
    case ETIMEDOUT: return connect_error(ErrorKind::timeout, where, "connection timed out");
    case 0: reason = "cannot connect"; break;
    default: reason = errno_text(e); break;
  }
  return connect_error(ErrorKind::io, where, reason);
}

Error map_curl_error(CURLcode code, const char* detail, const Transfer& t, const ConnectFacts& facts,
                     const CurlHttpOptions& options, const HttpRequest& req) {
  std::string what = std::string(req.method) + " " + req.url;
  std::string msg = detail && *detail ? detail : curl_easy_strerror(code);
  if (t.pin_mismatch) {
    return Error(ErrorKind::auth, "TLS certificate fingerprint mismatch: expected " + with_colons(t.pin) +
                                      ", got " + t.seen_pin)
        .with(what);
  }
  if (auto e = connect_failure(code, facts, options, req)) return std::move(*e).with(what);
  ErrorKind kind = ErrorKind::io;
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: kind = ErrorKind::timeout; break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_ISSUER_ERROR: kind = ErrorKind::auth; break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: kind = ErrorKind::bad_input; break;
    default: break;
  }
  return Error(kind, msg).with(what);
}

}  // namespace

Error connect_error(ErrorKind kind, const std::string& where, const std::string& reason) {
  return Error(kind, reason).with("connect to " + where);
}

bool is_connect_error(const Error& error) {
  return (error.kind == ErrorKind::io || error.kind == ErrorKind::timeout) && !error.context.empty() &&
         error.context.front().starts_with("connect to ");
}

std::string unix_socket_failure(const std::string& path, int os_errno) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int e = errno;
    if (e == ENOENT || e == ENOTDIR) return "no such file";
    if (e == EACCES) return "permission denied";
    return errno_text(e);
  }
  if (S_ISDIR(st.st_mode)) return "a directory, not a socket";
  if (!S_ISSOCK(st.st_mode)) return "not a socket";
  if (os_errno == EACCES || os_errno == EPERM || ::access(path.c_str(), W_OK) != 0)
    return "permission denied";
  if (os_errno == ECONNREFUSED) return "nothing is listening";
  if (os_errno == 0) return "cannot connect";
  return errno_text(os_errno);
}

std::string format_fingerprint(std::string_view raw_digest) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : raw_digest) {
    if (!out.empty()) out += ':';
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

std::string normalize_fingerprint(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == ':' || std::isspace(static_cast<unsigned char>(c))) continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return "";
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out.size() == 64 ? out : "";
}

CurlHttp::CurlHttp(CurlHttpOptions options) : options_(std::move(options)) {
  global_init_once();
}
CurlHttp::~CurlHttp() = default;

Result<HttpResponse> CurlHttp::send(const HttpRequest& request) {
  return perform(request, nullptr);
}

Result<HttpResponse> CurlHttp::send_streaming(const HttpRequest& request, const ChunkFn& on_chunk) {
  return perform(request, &on_chunk);
}

Result<HttpResponse> CurlHttp::perform(const HttpRequest& request, const ChunkFn* on_chunk) {
  Easy easy(curl_easy_init());
  if (!easy) return Error(ErrorKind::internal, "curl_easy_init failed");
  CURL* c = easy.get();
  Transfer t;
  t.on_chunk = on_chunk;
  char errbuf[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, request.timeout_ms);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  if (!options_.unix_socket_path.empty()) {
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, options_.unix_socket_path.c_str());
  }

  // Method and body. The body is sent as given, never form-encoded: callers set Content-Type.
  if (request.method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    }
  }

  List headers;
  bool has_content_type = false;
  for (const auto& [name, value] : request.headers) {
    if (lower(name) == "content-type") has_content_type = true;
    if (!append(headers, name + ": " + value)) return Error(ErrorKind::internal, "curl_slist_append failed");
  }
  // libcurl would otherwise announce application/x-www-form-urlencoded, and wait for
  // "100 Continue" before large bodies (docker build contexts).
  bool ok = (has_content_type || request.body.empty() ||
             append(headers, "Content-Type: application/octet-stream")) &&
            append(headers, "Expect:");
  if (!ok) return Error(ErrorKind::internal, "curl_slist_append failed");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());

  // TLS.
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.client_cert_file.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, options_.client_cert_file.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEY, options_.client_key_file.c_str());
  }
  if (options_.verify == TlsVerify::insecure) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (!options_.pinned_sha256.empty()) {
    t.pin = normalize_fingerprint(options_.pinned_sha256);
    if (t.pin.empty()) {
      return Error(ErrorKind::bad_input, "certificate fingerprint '" + options_.pinned_sha256 +
                                             "' is not a SHA-256 fingerprint (64 hex digits)");
    }
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);  // the pin identifies the peer, not its name
    curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, &t);
  }

  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    ConnectFacts facts;
    facts.connect_timeout_ms = request.timeout_ms > 0 && request.timeout_ms < options_.connect_timeout_ms
                                   ? request.timeout_ms
                                   : options_.connect_timeout_ms;
    curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &facts.os_errno);
    curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &facts.connect_us);
    return map_curl_error(rc, errbuf, t, facts, options_, request);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &t.response.status);
  return std::move(t.response);
}

}  // namespace pgha
