// Typed access to the Proxmox VE API (https://HOST:8006/api2/json) over the narrow HttpTransport.
// Owns authentication (API token, or ticket + CSRF token) and maps Proxmox's answers to pgha::Error:
// the error text is in the HTTP reason phrase, parameter errors in the body's `errors` map.
// Secrets never appear in errors: only the token id or user name does.
#pragma once

#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/http.hpp"
#include "providers/proxmox/proxmox_params.hpp"

namespace pgha::pve {

struct TokenAuth {
  std::string token_id;  // USER@REALM!TOKENID
  std::string secret;
};

struct TicketAuth {
  std::string username;  // USER@REALM
  std::string password;
};

using Auth = std::variant<TokenAuth, TicketAuth>;

// True for an error text Proxmox gives for a request that can never succeed as made (a clone
// across nodes from local storage, an invalid SSH key, ...), whether it came as a 500 at dispatch
// or as a task's exit status.
bool is_permanent(const std::string& reason);

// Maps a non-2xx answer to an Error:
//   401, 403                  -> auth
//   is_permanent(reason)      -> bad_input (never retried)
//   400 Parameter verification -> bad_input, the `errors` map in the message ("name: ...; vmid: ...")
//   "... already exists"      -> conflict (a taken VM id, a clone onto an existing VM)
//   404, "... does not exist" -> not_found
//   "... got timeout"         -> timeout (a config lock held by another task: retryable)
//   5xx, 595, 596             -> remote_failure (retryable)
//   501 "Unexpected content"  -> internal (a client bug: body on GET/DELETE)
Error api_error(const HttpResponse& response);

// True for errors worth retrying a dispatch on: lock time-outs, 5xx, proxy and transport failures.
bool is_retryable(const Error& error);

class Client {
 public:
  // endpoint: "https://pve1.example:8006" (a trailing "/api2/json" is accepted). `http` must
  // outlive the client. request_timeout_ms bounds each call.
  Client(HttpTransport& http, std::string endpoint, Auth auth, long request_timeout_ms = 60000);

  // Each returns the answer's `data` member (null when absent). GET and DELETE send their params
  // in the query string; POST and PUT as a form body. Errors: api_error() kinds, plus transport
  // errors with the call as context ("GET /nodes").
  Result<nlohmann::json> get(const std::string& path, const Params& params = {});
  Result<nlohmann::json> post(const std::string& path, const Params& params = {});
  Result<nlohmann::json> put(const std::string& path, const Params& params = {});
  Result<nlohmann::json> del(const std::string& path, const Params& params = {});

  const std::string& endpoint() const { return endpoint_; }

 private:
  Result<nlohmann::json> call(const std::string& method, const std::string& path, const Params& params);
  Result<HttpResponse> send(const std::string& method, const std::string& path, const Params& params);
  Status login();

  HttpTransport& http_;
  std::string endpoint_;
  Auth auth_;
  long timeout_ms_;
  std::string ticket_;  // ticket auth: the PVEAuthCookie, "" until logged in
  std::string csrf_;
};

}  // namespace pgha::pve
