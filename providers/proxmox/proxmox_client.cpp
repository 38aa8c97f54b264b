#include "providers/proxmox/proxmox_client.hpp"

#include <algorithm>

namespace pgha::pve {

namespace {

bool contains(const std::string& text, const char* needle) {
  return text.find(needle) != std::string::npos;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\n')) s.pop_back();
  size_t start = s.find_first_not_of(' ');
  return start == std::string::npos ? std::string() : s.substr(start);
}

std::string strip_api_prefix(std::string endpoint) {
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  const std::string suffix = "/api2/json";
  if (endpoint.size() >= suffix.size() &&
      endpoint.compare(endpoint.size() - suffix.size(), suffix.size(), suffix) == 0) {
    endpoint.erase(endpoint.size() - suffix.size());
  }
  return endpoint;
}

}  // namespace

bool is_permanent(const std::string& reason) {
  // Each is a `die` in a check that runs before any work, so the same call fails the same way
  // again: qemu-server src/PVE/API2/Qemu.pm clone_vm ("VM uses local storage", "non-shared
  // storage", "not allowed for linked clones"), migrate_vm ("can't migrate running VM"), update_vm
  // via pve-common src/PVE/Tools.pm validate_ssh_public_keys ("SSH public key validation error").
  for (const char* text : {"(VM uses local storage)", "can't clone to non-shared storage",
                           "not allowed for linked clones", "validation error", "can't migrate running VM",
                           "does not support vm images", "you can't start a vm if it's a template"}) {
    if (contains(reason, text)) return true;
  }
  return false;
}

Error api_error(const HttpResponse& response) {
  std::string reason = trim(response.reason);
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
  if (reason.empty() && body.is_object() && body.contains("message") && body["message"].is_string()) {
    reason = trim(body["message"].get<std::string>());
  }
  std::string message = std::to_string(response.status) + " " + reason;
  std::string details;
  if (body.is_object() && body.contains("errors") && body["errors"].is_object()) {
    for (const auto& [param, text] : body["errors"].items()) {
      if (!details.empty()) details += "; ";
      details += param + ": " + (text.is_string() ? text.get<std::string>() : text.dump());
    }
    if (!details.empty()) message += " (" + details + ")";
  }

  ErrorKind kind = ErrorKind::remote_failure;
  long s = response.status;
  if (s == 401 || s == 403) {
    kind = ErrorKind::auth;
  } else if (is_permanent(reason)) {
    kind = ErrorKind::bad_input;
  } else if (contains(reason, "already exists") || contains(details, "already exists")) {
    kind = ErrorKind::conflict;
  } else if (s == 404 || contains(reason, "does not exist")) {
    kind = ErrorKind::not_found;
  } else if (contains(reason, "got timeout")) {
    kind = ErrorKind::timeout;
  } else if (s == 501) {
    kind = ErrorKind::internal;
  } else if (s >= 400 && s < 500) {
    kind = ErrorKind::bad_input;
  }
  return Error(kind, message);
}

bool is_retryable(const Error& error) {
  return error.kind == ErrorKind::timeout || error.kind == ErrorKind::remote_failure ||
         error.kind == ErrorKind::io;
}

Client::Client(HttpTransport& http, std::string endpoint, Auth auth, long request_timeout_ms)
    : http_(http),
      endpoint_(strip_api_prefix(std::move(endpoint))),
      auth_(std::move(auth)),
      timeout_ms_(request_timeout_ms) {}

Result<nlohmann::json> Client::get(const std::string& path, const Params& params) {
  return call("GET", path, params);
}
Result<nlohmann::json> Client::post(const std::string& path, const Params& params) {
  return call("POST", path, params);
}
Result<nlohmann::json> Client::put(const std::string& path, const Params& params) {
  return call("PUT", path, params);
}
Result<nlohmann::json> Client::del(const std::string& path, const Params& params) {
  return call("DELETE", path, params);
}

Result<HttpResponse> Client::send(const std::string& method, const std::string& path, const Params& params) {
  HttpRequest req;
  req.method = method;
  req.url = endpoint_ + "/api2/json" + path;
  req.timeout_ms = timeout_ms_;
  bool in_query = method == "GET" || method == "DELETE";
  if (in_query) {
    if (!params.empty()) req.url += (path.find('?') == std::string::npos ? "?" : "&") + form_encode(params);
  } else {
    req.body = form_encode(params);
    req.headers["Content-Type"] = "application/x-www-form-urlencoded";
  }
  if (const auto* token = std::get_if<TokenAuth>(&auth_)) {
    req.headers["Authorization"] = "PVEAPIToken=" + token->token_id + "=" + token->secret;
  } else if (!ticket_.empty()) {
    req.headers["Cookie"] = "PVEAuthCookie=" + ticket_;
    if (method != "GET") req.headers["CSRFPreventionToken"] = csrf_;
  }
  return http_.send(req);
}

Status Client::login() {
  const auto& ticket = std::get<TicketAuth>(auth_);
  Result<HttpResponse> r =
      send("POST", "/access/ticket", {{"username", ticket.username}, {"password", ticket.password}});
  if (!r) return std::move(r.error()).with("POST /access/ticket");
  if (r->status < 200 || r->status >= 300) {
    Error e = api_error(*r);
    if (e.kind == ErrorKind::auth) e.message += " (user " + ticket.username + ")";
    return std::move(e).with("POST /access/ticket");
  }
  nlohmann::json body = nlohmann::json::parse(r->body, nullptr, false);
  if (!body.is_object() || !body.contains("data") || !body["data"].is_object() ||
      !body["data"].value("ticket", nlohmann::json()).is_string()) {
    return Error(ErrorKind::remote_failure, "login answer carries no ticket").with("POST /access/ticket");
  }
  ticket_ = body["data"]["ticket"].get<std::string>();
  csrf_ = body["data"].value("CSRFPreventionToken", "");
  return {};
}

Result<nlohmann::json> Client::call(const std::string& method, const std::string& path,
                                    const Params& params) {
  const std::string what = method + " " + path;
  bool ticket_auth = std::holds_alternative<TicketAuth>(auth_);
  for (int attempt = 0;; ++attempt) {
    if (ticket_auth && ticket_.empty()) {
      if (Status s = login(); !s) return s.error();
    }
    Result<HttpResponse> r = send(method, path, params);
    if (!r) return std::move(r.error()).with(what);
    if (r->status == 401 && ticket_auth && attempt == 0) {
      ticket_.clear();  // the ticket expired (2 h): log in again once
      continue;
    }
    if (r->status < 200 || r->status >= 300) {
      Error e = api_error(*r);
      if (r->status == 401) {
        if (const auto* token = std::get_if<TokenAuth>(&auth_)) {
          e.message += " (API token " + token->token_id + "; check PROXMOX_API_TOKEN_ID/SECRET)";
        }
      }
      return std::move(e).with(what);
    }
    nlohmann::json body = nlohmann::json::parse(r->body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return Error(ErrorKind::remote_failure, "answer is not a JSON object").with(what);
    }
    return body.contains("data") ? body["data"] : nlohmann::json();
  }
}

}  // namespace pgha::pve
