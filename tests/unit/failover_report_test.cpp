#include <gtest/gtest.h>

#include "core/http.hpp"
#include "roles/failover/patroni_rest.hpp"
#include "roles/failover/report.hpp"

namespace pgha {
namespace {

RunResult good_run(int n, double rto) {
  RunResult r;
  r.run = n;
  r.fault = "kill-node";
  r.old_primary = "pg1";
  r.new_primary = "pg2";
  r.timeline_before = 1;
  r.timeline_after = 2;
  r.fault_at = 1000;
  r.rto = {rto, rto - 4, 1, 3};
  PathResult h;
  h.via = "haproxy";
  h.target = "10.42.0.12:5000";
  h.rto_s = rto;
  h.acked = 300;
  r.paths.push_back(h);
  PathResult v = h;
  v.via = "vip";
  v.target = "10.42.0.100:5000";
  v.rto_s = rto + 0.5;
  r.paths.push_back(v);
  r.split.max_primaries = 1;
  r.split.samples = 900;
  r.rejoined = true;
  r.rejoin_s = 12.5;
  return r;
}

const ReportHeader kHeader{"check failover", "pgha-local", "default", "sync"};

TEST(Stats, MinMedianMax) {
  Stats s = stats_of({3, 1, 2});
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.median, 2);
  EXPECT_EQ(s.max, 3);
  EXPECT_EQ(stats_of({4, 1, 3, 2}).median, 2.5);
  EXPECT_EQ(stats_of({}).n, 0);
}

TEST(Verdicts, EachGuarantee) {
  Limits limits{30, true};
  EXPECT_TRUE(all_pass({good_run(1, 28)}, limits));
  EXPECT_FALSE(all_pass({good_run(1, 31)}, limits));  // RTO over --max-rto
  RunResult lost = good_run(1, 20);
  lost.paths[0].lost = 2;
  lost.paths[0].lost_seqs = {41, 42};
  EXPECT_FALSE(all_pass({lost}, limits));
  EXPECT_TRUE(all_pass({lost}, Limits{30, false}));  // async: reported, not failed
  RunResult split = good_run(1, 20);
  split.split.split_brain = true;
  split.split.nodes = {"pg1", "pg2"};
  split.split.signal = "postgres";
  EXPECT_FALSE(all_pass({split}, limits));
  RunResult norejoin = good_run(1, 20);
  norejoin.rejoined = false;
  EXPECT_FALSE(all_pass({norejoin}, limits));
  RunResult never = good_run(1, 20);
  never.rto.total.reset();
  EXPECT_FALSE(all_pass({never}, limits));
  EXPECT_FALSE(all_pass({}, limits));
  auto v = verdicts(lost, limits);
  EXPECT_EQ(v[1].name, "rpo");
  EXPECT_EQ(v[1].message, "2 acknowledged writes missing on the new primary; haproxy: seq 41 42");
}

TEST(Report, TextShowsThePhasesAndTheSummary) {
  std::string t =
      format_report_text(kHeader, {good_run(1, 28), good_run(2, 30), good_run(3, 26)}, Limits{0, true});
  EXPECT_NE(t.find("pgha check failover: cluster pgha-local, profile default, sync replication, 3 runs"),
            std::string::npos);
  EXPECT_NE(t.find("run 1: kill-node on pg1 -> new primary pg2 (timeline 1 -> 2)"), std::string::npos) << t;
  EXPECT_NE(t.find("28.00 s = detection 24.00 + promotion 1.00 + routing 3.00"), std::string::npos) << t;
  EXPECT_NE(t.find("PASS rejoin"), std::string::npos) << t;
  EXPECT_NE(t.find("rto_s               26.00    28.00    30.00    3"), std::string::npos) << t;
  EXPECT_EQ(t.substr(t.size() - 5), "PASS\n");
}

TEST(Report, JsonCarriesRunsSummaryAndVerdict) {
  auto j = report_json(kHeader, {good_run(1, 28), good_run(2, 30)}, Limits{29, true});
  EXPECT_EQ(j["runs"].size(), 2u);
  EXPECT_EQ(j["runs"][0]["rto_s"], 28.0);
  EXPECT_EQ(j["runs"][0]["paths"][1]["via"], "vip");
  EXPECT_EQ(j["runs"][1]["pass"], false);
  EXPECT_EQ(j["summary"]["rto_s"]["median"], 29.0);
  EXPECT_EQ(j["summary"]["rto_direct_s"], nullptr);
  EXPECT_EQ(j["lost_writes"], 0);
  EXPECT_EQ(j["pass"], false);
}

TEST(Report, JunitHasOneCasePerGuaranteeAndEscapes) {
  RunResult r = good_run(1, 40);
  r.error = "a <bad> & \"odd\" error";
  std::string x = report_junit(kHeader, {r}, Limits{30, true});
  EXPECT_NE(x.find("<testsuites tests=\"5\" failures=\"2\">"), std::string::npos) << x;
  EXPECT_NE(x.find("classname=\"pgha.pgha-local.kill-node.run1\" name=\"rto\" time=\"40.00\""),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("a &lt;bad&gt; &amp; &quot;odd&quot; error"), std::string::npos) << x;
}

class FakeHttp : public HttpTransport {
 public:
  Result<HttpResponse> send(const HttpRequest& r) override {
    last = r;
    return reply;
  }
  HttpRequest last;
  Result<HttpResponse> reply = HttpResponse{200, "OK", {}, "Successfully switched over"};
};

TEST(PatroniRest, BasicAuthAndSwitchoverRequest) {
  EXPECT_EQ(basic_auth("admin", "secret"), "Basic YWRtaW46c2VjcmV0");
  EXPECT_EQ(basic_auth("a", "b"), "Basic YTpi");
  EXPECT_EQ(basic_auth("ab", "c"), "Basic YWI6Yw==");
  Inventory inv;
  inv.nodes = {{"pg1", "10.42.0.11"}, {"pg2", "10.42.0.12"}};
  auto http = std::make_unique<FakeHttp>();
  FakeHttp* fake = http.get();
  PatroniRest rest(inv, std::move(http), 500);
  ASSERT_TRUE(rest.switchover("pg1", "pg2", "secret"));
  EXPECT_EQ(fake->last.method, "POST");
  EXPECT_EQ(fake->last.url, "http://10.42.0.11:8008/switchover");
  EXPECT_EQ(fake->last.body, R"({"candidate":"pg2","leader":"pg1"})");
  EXPECT_EQ(fake->last.headers["Authorization"], "Basic YWRtaW46c2VjcmV0");
  fake->reply = HttpResponse{412, "", {}, "candidate name does not match with sync_standby"};
  auto s = rest.switchover("pg1", "pg3", "secret");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().describe().find("412: candidate name does not match"), std::string::npos);
  EXPECT_EQ(s.error().describe().find("secret"), std::string::npos);
  EXPECT_EQ(rest.primary_claim(inv.nodes[1]), Claim::no);
}

}  // namespace
}  // namespace pgha
