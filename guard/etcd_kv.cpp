#include "guard/etcd_kv.hpp"

#include <nlohmann/json.hpp>

#include "net/ssh_keys.hpp"

namespace pgha::guard {
namespace {

using nlohmann::json;

// int64 fields arrive as JSON strings from the gateway (proto3 JSON), but accept numbers too.
std::optional<int64_t> int64_field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return int64_t{0};  // proto3 omits zero values
  if (it->is_number_integer()) return it->get<int64_t>();
  if (!it->is_string()) return std::nullopt;
  try {
    size_t used = 0;
    int64_t v = std::stoll(it->get<std::string>(), &used);
    if (used != it->get<std::string>().size()) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::string leader_key_path(const std::string& cluster) {
  return "/service/" + cluster + "/leader";
}

std::string range_body(const std::string& key, ReadConsistency c) {
  json j = {{"key", base64_encode(key)}};
  if (c == ReadConsistency::serializable) j["serializable"] = true;
  return j.dump();
}

std::string delete_if_body(const std::string& key, const std::string& value, int64_t mod_revision) {
  std::string k = base64_encode(key);
  json j = {
      {"compare",
       json::array({{{"target", "VALUE"}, {"result", "EQUAL"}, {"key", k}, {"value", base64_encode(value)}},
                    {{"target", "MOD"},
                     {"result", "EQUAL"},
                     {"key", k},
                     {"mod_revision", std::to_string(mod_revision)}}})},
      {"success", json::array({{{"request_delete_range", {{"key", k}}}}})}};
  return j.dump();
}

Result<std::optional<KeyValue>> parse_range(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_object()) return Error(ErrorKind::bad_input, "etcd range answer is not a JSON object");
  auto kvs = j.find("kvs");
  if (kvs == j.end() || (kvs->is_array() && kvs->empty())) return std::optional<KeyValue>{};
  if (!kvs->is_array() || !(*kvs)[0].is_object())
    return Error(ErrorKind::bad_input, "etcd range answer: kvs is not an array of objects");
  const json& kv = (*kvs)[0];
  auto rev = int64_field(kv, "mod_revision");
  auto value = kv.find("value");
  if (!rev || (value != kv.end() && !value->is_string()))
    return Error(ErrorKind::bad_input, "etcd range answer: malformed mod_revision or value");
  KeyValue out;
  out.mod_revision = *rev;
  if (value != kv.end()) out.value = base64_decode(value->get<std::string>());
  return std::optional<KeyValue>(std::move(out));
}

Result<bool> parse_txn(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("header"))
    return Error(ErrorKind::bad_input, "etcd txn answer is not the gateway's shape");
  auto it = j.find("succeeded");
  if (it == j.end()) return false;
  if (!it->is_boolean()) return Error(ErrorKind::bad_input, "etcd txn answer: succeeded is not a boolean");
  return it->get<bool>();
}

EtcdGateway::EtcdGateway(std::vector<std::string> endpoints, std::unique_ptr<HttpTransport> http,
                         long timeout_ms)
    : endpoints_(std::move(endpoints)), http_(std::move(http)), timeout_ms_(timeout_ms) {}

Result<HttpResponse> EtcdGateway::post(const std::string& path, const std::string& body) {
  if (endpoints_.empty()) return Error(ErrorKind::bad_input, "no etcd endpoint");
  Error last(ErrorKind::io, "no etcd endpoint answered");
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    size_t at = (preferred_ + i) % endpoints_.size();
    HttpRequest req;
    req.method = "POST";
    req.url = endpoints_[at] + path;
    req.headers["Content-Type"] = "application/json";
    req.body = body;
    req.timeout_ms = timeout_ms_;
    auto r = http_->send(req);
    if (!r) {
      last = std::move(r.error()).with("etcd " + endpoints_[at]);
      continue;
    }
    if (r->status != 200) {
      // Without quorum a member answers 503 or an error body ("etcdserver: request timed out"):
      // another member may do better.
      last = Error(ErrorKind::remote_failure,
                   "HTTP " + std::to_string(r->status) + ": " + r->body.substr(0, 200))
                 .with("etcd " + endpoints_[at]);
      continue;
    }
    preferred_ = at;
    return r;
  }
  return last;
}

Result<std::optional<KeyValue>> EtcdGateway::get(const std::string& key, ReadConsistency c) {
  auto r = post("/v3/kv/range", range_body(key, c));
  if (!r) return r.error();
  return parse_range(r->body);
}

Result<bool> EtcdGateway::delete_if(const std::string& key, const std::string& value, int64_t mod_revision) {
  auto r = post("/v3/kv/txn", delete_if_body(key, value, mod_revision));
  if (!r) return r.error();
  return parse_txn(r->body);
}

}  // namespace pgha::guard
