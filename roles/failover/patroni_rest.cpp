#include "roles/failover/patroni_rest.hpp"

#include <nlohmann/json.hpp>

#include "net/curl_http.hpp"

namespace pgha {

std::string basic_auth(const std::string& user, const std::string& password) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string in = user + ":" + password;
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    for (int s = 18; s >= 0; s -= 6) out += abc[(v >> s) & 63];
  }
  if (size_t rest = in.size() - i; rest > 0) {
    unsigned v = (unsigned char)in[i] << 16 | (rest > 1 ? (unsigned char)in[i + 1] << 8 : 0);
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
    out += rest > 1 ? abc[(v >> 6) & 63] : '=';
    out += '=';
  }
  return "Basic " + out;
}

PatroniRest::PatroniRest(const Inventory& inv, std::unique_ptr<HttpTransport> http, long timeout_ms)
    : inv_(inv), http_(std::move(http)), timeout_ms_(timeout_ms) {}

std::string PatroniRest::url(const Node& node, const std::string& path) const {
  return Reach(inv_).patroni_url(node.address, path);
}

Result<HttpResponse> PatroniRest::get(const Node& node, const std::string& path) {
  HttpRequest req;
  req.url = url(node, path);
  req.timeout_ms = timeout_ms_;
  return http_->send(req);
}

Claim PatroniRest::primary_claim(const Node& node) {
  auto r = get(node, "/primary");
  if (!r) return Claim::unknown;
  return r->status == 200 ? Claim::yes : Claim::no;
}

Result<PatroniCluster> PatroniRest::cluster_from(const Node& node) {
  auto r = get(node, "/cluster");
  if (!r) return std::move(r.error()).with("host " + node.name);
  if (r->status != 200)
    return Error(ErrorKind::remote_failure, "GET /cluster answered " + std::to_string(r->status))
        .with("host " + node.name);
  return parse_patroni_cluster(r->body);
}

Result<PatroniCluster> PatroniRest::cluster() {
  Error last(ErrorKind::io, "no node with Patroni");
  for (const Node* n : inv_.nodes_with(Role::patroni)) {
    auto c = cluster_from(*n);
    if (c) return c;
    last = c.error();
  }
  return Error(ErrorKind::io, "no Patroni REST API answered GET /cluster; last: " + last.describe());
}

Result<std::vector<HistoryEntry>> PatroniRest::history() {
  Error last(ErrorKind::io, "no node with Patroni");
  for (const Node* n : inv_.nodes_with(Role::patroni)) {
    auto r = get(*n, "/history");
    if (!r) {
      last = r.error();
      continue;
    }
    if (r->status == 200) return parse_patroni_history(r->body);
  }
  return Error(ErrorKind::io, "no Patroni REST API answered GET /history; last: " + last.describe());
}

Status PatroniRest::switchover(const std::string& leader, const std::string& candidate,
                               const std::string& admin_password) {
  const Node* node = inv_.find_node(leader);
  if (!node) return Error(ErrorKind::not_found, "no node " + leader + " in the inventory");
  nlohmann::json body = {{"leader", leader}};
  if (!candidate.empty()) body["candidate"] = candidate;
  HttpRequest req;
  req.method = "POST";
  req.url = url(*node, "/switchover");
  req.headers["Content-Type"] = "application/json";
  req.headers["Authorization"] = basic_auth("admin", admin_password);
  req.body = body.dump();
  req.timeout_ms = 120000;  // Patroni answers when the switchover is over
  auto r = http_->send(req);
  if (!r) return std::move(r.error()).with("POST /switchover").with("host " + leader);
  if (r->status != 200)
    return Error(ErrorKind::remote_failure, "Patroni answered " + std::to_string(r->status) + ": " + r->body)
        .with("POST /switchover")
        .with("host " + leader);
  return {};
}

std::unique_ptr<PatroniRest> make_patroni_rest(const Inventory& inv, const TlsClient& tls, long timeout_ms) {
  CurlHttpOptions o;
  o.connect_timeout_ms = timeout_ms;
  o.ca_file = tls.ca_file;
  o.client_cert_file = tls.cert_file;
  o.client_key_file = tls.key_file;
  return std::make_unique<PatroniRest>(inv, std::make_unique<CurlHttp>(o), timeout_ms);
}

}  // namespace pgha
