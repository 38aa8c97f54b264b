// The task poller, the retry loop and the client's error mapping, against a scripted transport.
#include "providers/proxmox/proxmox_tasks.hpp"

#include <deque>

#include <gtest/gtest.h>

namespace pgha::pve {
namespace {

struct Scripted {
  std::string method_path;  // "GET /nodes/pve1/tasks/...": a prefix of the request it answers
  HttpResponse response;
};

class ScriptTransport final : public HttpTransport {
 public:
  std::deque<Scripted> script;
  std::vector<HttpRequest> seen;
  Result<HttpResponse> send(const HttpRequest& r) override {
    seen.push_back(r);
    std::string path = r.url.substr(r.url.find("/api2/json") + 10);
    std::string key = r.method + " " + path;
    if (script.empty()) return HttpResponse{599, "unscripted " + key, {}, ""};
    Scripted next = script.front();
    script.pop_front();
    EXPECT_EQ(key.rfind(next.method_path, 0), 0u) << key;
    return next.response;
  }
};

class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point t{};
  std::vector<std::chrono::milliseconds> sleeps;
  std::chrono::steady_clock::time_point now() override { return t; }
  void sleep(std::chrono::milliseconds d) override {
    sleeps.push_back(d);
    t += d;
  }
};

HttpResponse ok(const std::string& data) {
  return {200, "OK", {}, "{\"data\":" + data + "}"};
}
HttpResponse fail(long status, const std::string& reason, const std::string& body = "{\"data\":null}") {
  return {status, reason, {}, body};
}

const std::string kUpid = "UPID:pve2:0001A2B3:00C0FFEE:6553F00D:qmclone:9000:root@pam!pgha:";

class TasksTest : public ::testing::Test {
 protected:
  ScriptTransport http;
  FakeClock clock;
  Client client{http, "https://pve:8006", TokenAuth{"root@pam!pgha", "s3cret"}};
  TaskPolicy policy;
};

TEST_F(TasksTest, UpidNode) {
  EXPECT_EQ(upid_node(kUpid), "pve2");
  EXPECT_FALSE(upid_node("nope").has_value());
}

TEST_F(TasksTest, PollsUntilStoppedWithOk) {
  http.script = {{"GET /nodes/pve2/tasks/UPID", ok(R"({"status":"running"})")},
                 {"GET /nodes/pve2/tasks/UPID", ok(R"({"status":"stopped","exitstatus":"OK"})")}};
  auto r = wait_task(client, kUpid, clock, policy);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->exitstatus, "OK");
  EXPECT_EQ(clock.sleeps.size(), 1u);
  EXPECT_EQ(http.seen[0].headers.at("Authorization"), "PVEAPIToken=root@pam!pgha=s3cret");
  EXPECT_TRUE(http.seen[0].body.empty());
}

TEST_F(TasksTest, WarningsCountAsSuccess) {
  http.script = {{"GET /nodes/pve2/tasks/", ok(R"({"status":"stopped","exitstatus":"WARNINGS: 2"})")}};
  auto r = wait_task(client, kUpid, clock, policy);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->warnings, 2);
}

TEST_F(TasksTest, FailureSurfacesExitStatusAndLogTail) {
  http.script = {
      {"GET /nodes/pve2/tasks/", ok(R"({"status":"stopped","exitstatus":"storage 'fast' does not exist"})")},
      {"GET /nodes/pve2/tasks/",
       ok(R"([{"n":1,"t":"create full clone"},{"n":2,"t":"TASK ERROR: storage 'fast' does not exist"}])")}};
  auto r = wait_task(client, kUpid, clock, policy);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::remote_failure);
  EXPECT_NE(r.error().message.find("task failed: storage 'fast' does not exist"), std::string::npos);
  EXPECT_NE(r.error().message.find("TASK ERROR: storage 'fast' does not exist"), std::string::npos);
}

TEST_F(TasksTest, NotYetVisibleTaskIsPolledAgain) {
  http.script = {{"GET /nodes/pve2/tasks/", fail(400, "Parameter verification failed.")},
                 {"GET /nodes/pve2/tasks/", ok(R"({"status":"stopped","exitstatus":"OK"})")}};
  EXPECT_TRUE(wait_task(client, kUpid, clock, policy).ok());
}

TEST_F(TasksTest, StillRunningAfterTheTimeoutIsATimeout) {
  policy.timeout = std::chrono::seconds(3);
  for (int i = 0; i < 10; ++i)
    http.script.push_back({"GET /nodes/pve2/tasks/", ok(R"({"status":"running"})")});
  auto r = wait_task(client, kUpid, clock, policy);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::timeout);
}

TEST_F(TasksTest, RetryBacksOffOnLockTimeoutsThenSucceeds) {
  http.script = {{"POST /nodes/pve1/qemu/9000/clone",
                  fail(500, "can't lock file '/var/lock/qemu-server/lock-9000.conf' - got timeout")},
                 {"POST /nodes/pve1/qemu/9000/clone", fail(503, "Service Unavailable")},
                 {"POST /nodes/pve1/qemu/9000/clone", ok("\"" + kUpid + "\"")}};
  int retried = 0;
  auto r = retry_call(
      clock, RetryPolicy{},
      [&] {
        return client.post("/nodes/pve1/qemu/9000/clone", {{"newid", "100"}});
      },
      [&](const Error&) { ++retried; });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(retried, 2);
  EXPECT_EQ(clock.sleeps, (std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(1000),
                                                                  std::chrono::milliseconds(2000)}));
  EXPECT_EQ(http.seen[0].body, "newid=100");
  EXPECT_EQ(http.seen[0].headers.at("Content-Type"), "application/x-www-form-urlencoded");
}

TEST_F(TasksTest, RetryIsBounded) {
  for (int i = 0; i < 10; ++i) http.script.push_back({"POST /x", fail(500, "got timeout")});
  auto r = retry_call(clock, RetryPolicy{}, [&] { return client.post("/x"); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::timeout);
  EXPECT_EQ(http.seen.size(), 4u);
}

TEST_F(TasksTest, RetryStopsAtPermanentErrors) {
  http.script = {
      {"POST /x",
       fail(
           400, "Parameter verification failed.",
           R"({"data":null,"errors":{"name":"invalid format - value does not look like a valid DNS name"}})")}};
  auto r = retry_call(clock, RetryPolicy{}, [&] { return client.post("/x"); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::bad_input);
  EXPECT_NE(r.error().message.find("name: invalid format"), std::string::npos);
  EXPECT_EQ(http.seen.size(), 1u);
}

TEST(ProxmoxApiError, MapsStatusAndReason) {
  EXPECT_EQ(api_error({401, "Authentication failed!", {}, ""}).kind, ErrorKind::auth);
  EXPECT_EQ(api_error({403, "Permission check failed (/vms/100, VM.Clone)", {}, ""}).kind, ErrorKind::auth);
  EXPECT_EQ(api_error({500, "unable to create VM 100: config file already exists", {}, ""}).kind,
            ErrorKind::conflict);
  EXPECT_EQ(
      api_error({400, "Parameter verification failed.", {}, R"({"errors":{"vmid":"VM 100 already exists"}})"})
          .kind,
      ErrorKind::conflict);
  EXPECT_EQ(
      api_error({500, "Configuration file 'nodes/pve1/qemu-server/7.conf' does not exist", {}, ""}).kind,
      ErrorKind::not_found);
  EXPECT_EQ(api_error({596, "Connection timed out", {}, ""}).kind, ErrorKind::remote_failure);
  EXPECT_EQ(api_error({501, "Unexpected content for method 'DELETE'", {}, ""}).kind, ErrorKind::internal);
  Error e = api_error({500, "", {}, R"({"data":null,"message":"VM 101 is running - destroy failed\n"})"});
  EXPECT_EQ(e.message, "500 VM 101 is running - destroy failed");
}

TEST(ProxmoxClient, AuthFailureNamesTheTokenIdNeverTheSecret) {
  ScriptTransport http;
  http.script = {{"GET /nodes", fail(401, "Authentication failed!", "")}};
  Client client(http, "https://pve:8006/api2/json/", TokenAuth{"root@pam!pgha", "s3cret"});
  auto r = client.get("/nodes");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::auth);
  EXPECT_NE(r.error().describe().find("root@pam!pgha"), std::string::npos);
  EXPECT_EQ(r.error().describe().find("s3cret"), std::string::npos);
  EXPECT_EQ(http.seen[0].url, "https://pve:8006/api2/json/nodes");
}

TEST(ProxmoxClient, TicketAuthLogsInAndSendsCsrfOnWrites) {
  ScriptTransport http;
  http.script = {
      {"POST /access/ticket", ok(R"({"ticket":"PVE:t1","CSRFPreventionToken":"c1","username":"u@pve"})")},
      {"GET /nodes", ok("[]")},
      {"DELETE /nodes/pve1/qemu/100?purge=1", ok("\"UPID:x\"")}};
  Client client(http, "https://pve:8006", TicketAuth{"u@pve", "pw d"});
  ASSERT_TRUE(client.get("/nodes").ok());
  ASSERT_TRUE(client.del("/nodes/pve1/qemu/100", {{"purge", "1"}}).ok());
  EXPECT_EQ(http.seen[0].body, "username=u%40pve&password=pw%20d");
  EXPECT_EQ(http.seen[1].headers.at("Cookie"), "PVEAuthCookie=PVE:t1");
  EXPECT_EQ(http.seen[1].headers.count("CSRFPreventionToken"), 0u);
  EXPECT_EQ(http.seen[2].headers.at("CSRFPreventionToken"), "c1");
  EXPECT_TRUE(http.seen[2].body.empty());
}

}  // namespace
}  // namespace pgha::pve
