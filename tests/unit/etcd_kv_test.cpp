// The guard's etcd v3 gateway client: the exact JSON bodies (keys base64, the transaction comparing
// VALUE and MOD), the answers' handling, and failing over between endpoints.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fakes/fake_http.hpp"
#include "guard/etcd_kv.hpp"
#include "net/ssh_keys.hpp"

namespace pgha::guard {
namespace {

using nlohmann::json;

TEST(EtcdKv, RangeBodies) {
  EXPECT_EQ(range_body("/service/demo/leader", ReadConsistency::linearizable),
            R"({"key":"L3NlcnZpY2UvZGVtby9sZWFkZXI="})");
  EXPECT_EQ(range_body("/service/demo/leader", ReadConsistency::serializable),
            R"({"key":"L3NlcnZpY2UvZGVtby9sZWFkZXI=","serializable":true})");
}

TEST(EtcdKv, DeleteIfComparesValueAndModRevisionThenDeletes) {
  json j = json::parse(delete_if_body("/service/demo/leader", "pg1", 1234));
  json expected = json::parse(R"({
    "compare": [
      {"target": "VALUE", "result": "EQUAL", "key": "L3NlcnZpY2UvZGVtby9sZWFkZXI=", "value": "cGcx"},
      {"target": "MOD", "result": "EQUAL", "key": "L3NlcnZpY2UvZGVtby9sZWFkZXI=", "mod_revision": "1234"}
    ],
    "success": [{"request_delete_range": {"key": "L3NlcnZpY2UvZGVtby9sZWFkZXI="}}]
  })");
  EXPECT_EQ(j, expected);
  EXPECT_FALSE(j.contains("failure"));  // anything else: nothing at all
}

TEST(EtcdKv, ParsesARangeAnswer) {
  auto kv = parse_range(R"({"header":{"revision":"1300"},"kvs":[{"key":"L3NlcnZpY2UvZGVtby9sZWFkZXI=",
      "create_revision":"1200","mod_revision":"1234","version":"3","value":"cGcx","lease":"7587"}],"count":"1"})");
  ASSERT_TRUE(kv.ok()) << kv.error().describe();
  ASSERT_TRUE(kv->has_value());
  EXPECT_EQ((*kv)->value, "pg1");
  EXPECT_EQ((*kv)->mod_revision, 1234);
}

TEST(EtcdKv, AMissingKeyIsNulloptNotAnError) {
  auto kv = parse_range(R"({"header":{"revision":"1300"}})");
  ASSERT_TRUE(kv.ok());
  EXPECT_FALSE(kv->has_value());
}

TEST(EtcdKv, MalformedAnswersAreErrors) {
  EXPECT_FALSE(parse_range("not json").ok());
  EXPECT_FALSE(parse_range(R"({"kvs":[{"mod_revision":"12x"}]})").ok());
  EXPECT_FALSE(parse_range(R"({"kvs":"x"})").ok());
  EXPECT_FALSE(parse_txn("[]").ok());
  EXPECT_FALSE(parse_txn(R"({"header":{},"succeeded":"yes"})").ok());
}

TEST(EtcdKv, TxnOutcome) {
  EXPECT_TRUE(*parse_txn(R"({"header":{"revision":"1301"},"succeeded":true,"responses":[{}]})"));
  // The gateway omits false (proto3 JSON): a failed comparison has no "succeeded".
  EXPECT_FALSE(*parse_txn(R"({"header":{"revision":"1301"}})"));
}

TEST(EtcdKv, GatewayPostsToV3AndTriesTheNextEndpoint) {
  auto http = std::make_unique<FakeHttp>();
  FakeHttp* fake = http.get();
  fake->on("POST", "/v3/kv/txn", [](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.url.starts_with("http://10.0.0.1")) return Error(ErrorKind::io, "connection refused");
    HttpResponse ok;
    ok.status = 200;
    ok.body = R"({"header":{"revision":"9"},"succeeded":true})";
    return ok;
  });
  EtcdGateway gw({"http://10.0.0.1:2379", "http://10.0.0.2:2379"}, std::move(http), 1000);
  auto deleted = gw.delete_if("/service/demo/leader", "pg1", 8);
  ASSERT_TRUE(deleted.ok()) << deleted.error().describe();
  EXPECT_TRUE(*deleted);
  ASSERT_EQ(fake->requests.size(), 2u);
  EXPECT_EQ(fake->requests[1].url, "http://10.0.0.2:2379/v3/kv/txn");
  EXPECT_EQ(fake->requests[1].body, delete_if_body("/service/demo/leader", "pg1", 8));
  EXPECT_EQ(fake->requests[1].timeout_ms, 1000);
  // The endpoint that answered is asked first next time.
  (void)gw.delete_if("/service/demo/leader", "pg1", 8);
  EXPECT_EQ(fake->requests[2].url, "http://10.0.0.2:2379/v3/kv/txn");
}

TEST(EtcdKv, NoEndpointAnsweringIsAnError) {
  auto http = std::make_unique<FakeHttp>();
  http->on("POST", "/v3/kv/range", 503, R"({"error":"etcdserver: request timed out"})");
  EtcdGateway gw({"http://10.0.0.1:2379"}, std::move(http), 1000);
  auto kv = gw.get("/service/demo/leader", ReadConsistency::linearizable);
  ASSERT_FALSE(kv.ok());
  EXPECT_EQ(kv.error().kind, ErrorKind::remote_failure);
}

}  // namespace
}  // namespace pgha::guard
