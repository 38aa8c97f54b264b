#include "core/validate.hpp"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "core/inventory_parse.hpp"

namespace pgha {
namespace {

// A valid inventory, as sections that a test replaces one at a time.
std::map<std::string, std::string> base() {
  return {
      {"1cluster", "cluster:\n  name: pgha-test\n"},
      {"2provider", "provider:\n  type: docker\n"},
      {"3nodes",
       "nodes:\n  - name: pg1\n    address: 10.42.0.11\n  - name: pg2\n    address: 10.42.0.12\n"
       "  - name: pg3\n    address: 10.42.0.13\n"},
      {"4network", "network:\n  subnet: 10.42.0.0/24\n  vip: 10.42.0.100\n"},
  };
}

const char* kProxmox = R"(provider:
  type: proxmox
  proxmox:
    endpoint: https://pve1:8006
    nodes: [pve1, pve2, pve3]
    template: 9000
    ca_file: /etc/pgha/ca.pem
    token_id: "pgha@pve!ci"
    token_secret: fake
)";

struct Checked {
  std::vector<Diagnostic> diagnostics;
  std::string text;
  size_t size() const { return diagnostics.size(); }
  bool empty() const { return diagnostics.empty(); }
  const Diagnostic& operator[](size_t i) const { return diagnostics[i]; }
};

bool has_errors(const Checked& c) {
  return pgha::has_errors(c.diagnostics);
}

Checked check(std::map<std::string, std::string> sections) {
  std::string text;
  for (const auto& [key, body] : sections) text += body;
  auto out = parse_inventory(text, "inv.yml", [](const std::string&) { return std::nullopt; });
  EXPECT_TRUE(out.inventory) << text;
  if (out.inventory) {
    auto more = validate_inventory(*out.inventory);
    out.diagnostics.insert(out.diagnostics.end(), more.begin(), more.end());
  }
  return {out.diagnostics, text};
}

Checked with(const std::string& key, const std::string& body) {
  auto s = base();
  s[key] = body;
  return check(s);
}

// The one diagnostic whose message contains `part`; fails when there is not exactly one.
Diagnostic find(const Checked& c, const std::string& part) {
  std::vector<Diagnostic> hits;
  std::string all;
  for (const auto& d : c.diagnostics) {
    all += d.message + "\n";
    if (d.message.find(part) != std::string::npos) hits.push_back(d);
  }
  EXPECT_EQ(hits.size(), 1u) << "looking for: " << part << "\nin:\n" << all;
  return hits.empty() ? Diagnostic{} : hits[0];
}

// The source line a diagnostic points at ("" when it has no place).
std::string line_of(const Checked& c, const Diagnostic& d) {
  std::istringstream in(c.text);
  std::string line;
  for (int i = 0; i < d.at.line && std::getline(in, line); ++i) {
  }
  return d.at.line > 0 ? line : "";
}

// Exactly one error mentions `part`, and it points at a line containing `where` ("" = no place).
void expect_error(const Checked& c, const std::string& part, const std::string& where) {
  Diagnostic d = find(c, part);
  EXPECT_EQ(d.severity, Severity::error) << d.message;
  std::string line = line_of(c, d);
  if (where.empty()) {
    EXPECT_EQ(d.at.line, 0) << d.message;
  } else {
    EXPECT_NE(line.find(where), std::string::npos) << d.message << "\n at: " << line;
  }
}

TEST(Validate, BaseInventoryIsClean) {
  EXPECT_TRUE(check(base()).empty());
}

TEST(Validate, ExampleProxmoxProviderIsClean) {
  EXPECT_TRUE(with("2provider", kProxmox).empty());
}

TEST(Validate, ReportsEveryProblemAtOnce) {
  auto s = base();
  s["1cluster"] = "cluster:\n  name: Bad_Name\n";
  s["5ports"] = "ports:\n  pgbouncer: 5432\n";
  s["6keepalived"] = "keepalived:\n  virtual_router_id: 999\n";
  auto ds = check(s);
  EXPECT_EQ(ds.size(), 3u);
  EXPECT_TRUE(has_errors(ds));
}

TEST(Validate, DuplicateNodeNames) {
  auto ds = with("3nodes",
                 "nodes:\n  - {name: pg1, address: 10.42.0.11}\n  - {name: pg1, address: 10.42.0.12}\n"
                 "  - {name: pg3, address: 10.42.0.13}\n");
  expect_error(ds, "duplicate node name 'pg1' (also nodes[0])", "name: pg1, address: 10.42.0.12");
}

TEST(Validate, DuplicateNodeAddresses) {
  auto ds = with("3nodes",
                 "nodes:\n  - {name: pg1, address: 10.42.0.11}\n  - {name: pg2, address: 10.42.0.11}\n"
                 "  - {name: pg3, address: 10.42.0.13}\n");
  expect_error(ds, "address 10.42.0.11 of nodes[1] (pg2) is also used by nodes[0] (pg1)", "name: pg2");
}

TEST(Validate, NodeAddressMustBeIpv4) {
  auto ds = with("3nodes",
                 "nodes:\n  - {name: pg1, address: pg1.local}\n  - {name: pg2, address: 10.42.0.12}\n"
                 "  - {name: pg3, address: 10.42.0.13}\n");
  expect_error(ds, "address of node pg1 'pg1.local' is not an IPv4 address", "pg1.local");
}

TEST(Validate, NodeAddressMustBeInsideTheSubnet) {
  auto ds = with("3nodes",
                 "nodes:\n  - {name: pg1, address: 10.9.0.11}\n  - {name: pg2, address: 10.42.0.12}\n"
                 "  - {name: pg3, address: 10.42.0.0}\n");
  expect_error(ds, "address of node pg1 10.9.0.11 is outside network.subnet 10.42.0.0/24", "10.9.0.11");
  expect_error(ds, "address of node pg3 10.42.0.0 is the network address of 10.42.0.0/24",
               "address: 10.42.0.0");
}

TEST(Validate, NodeNeedsAnAddress) {
  auto ds = with("3nodes",
                 "nodes:\n  - {name: pg1}\n  - {name: pg2, address: 10.42.0.12}\n"
                 "  - {name: pg3, address: 10.42.0.13}\n");
  expect_error(ds, "node pg1 has no address", "name: pg1");
}

TEST(Validate, GatewayMustBeInsideTheSubnet) {
  auto ds = with("4network", "network:\n  subnet: 10.42.0.0/24\n  gateway: 10.1.0.1\n  vip: 10.42.0.100\n");
  expect_error(ds, "network.gateway 10.1.0.1 is outside network.subnet 10.42.0.0/24", "gateway:");
}

TEST(Validate, SubnetMustBeACidr) {
  expect_error(with("4network", "network:\n  subnet: 10.42.0.0\n"), "is not an IPv4 CIDR", "subnet:");
  expect_error(with("4network", "network:\n  subnet: 10.42.0.9/24\n  vip: 10.42.0.100\n"),
               "has host bits set; did you mean '10.42.0.0/24'?", "subnet:");
  expect_error(with("4network", "network:\n  subnet: 10.42.0.0/31\n"), "prefix length", "subnet:");
}

TEST(Validate, VipMustNotBeANodeAddress) {
  expect_error(with("4network", "network:\n  subnet: 10.42.0.0/24\n  vip: 10.42.0.13\n"),
               "network.vip 10.42.0.13 is also the address of node pg3", "vip:");
}

TEST(Validate, VipMustNotBeTheGateway) {
  expect_error(with("4network", "network:\n  subnet: 10.42.0.0/24\n  vip: 10.42.0.1\n"),
               "network.vip 10.42.0.1 is also the gateway", "vip:");
}

TEST(Validate, VipMustBeInsideTheSubnet) {
  expect_error(with("4network", "network:\n  subnet: 10.42.0.0/24\n  vip: 10.43.0.100\n"),
               "network.vip 10.43.0.100 is outside network.subnet 10.42.0.0/24", "vip:");
}

TEST(Validate, KeepalivedRoleNeedsAVip) {
  expect_error(with("4network", "network:\n  subnet: 10.42.0.0/24\n"),
               "carries the keepalived role but network.vip is not set", "network:");
  auto s = base();
  s["4network"] = "network:\n  subnet: 10.42.0.0/24\n";
  s["5defaults"] = "defaults:\n  roles: [etcd, patroni, haproxy]\n";
  EXPECT_TRUE(check(s).empty());
}

TEST(Validate, EvenEtcdMemberCountWarns) {
  auto ds = with("3nodes",
                 "nodes:\n  - {name: pg1, address: 10.42.0.11}\n  - {name: pg2, address: 10.42.0.12}\n"
                 "  - {name: pg3, address: 10.42.0.13}\n  - {name: pg4, address: 10.42.0.14}\n");
  Diagnostic d = find(ds, "4 etcd members tolerate no more failures than 3");
  EXPECT_EQ(d.severity, Severity::warning);
  EXPECT_FALSE(has_errors(ds));
}

TEST(Validate, FewerThanThreeEtcdMembersWarns) {
  auto ds = with("3nodes",
                 "nodes:\n  - {name: pg1, address: 10.42.0.11}\n  - {name: pg2, address: 10.42.0.12}\n"
                 "  - {name: pg3, address: 10.42.0.13, roles: [patroni, haproxy]}\n");
  Diagnostic d = find(ds, "only 2 etcd members");
  EXPECT_EQ(d.severity, Severity::warning);
  EXPECT_FALSE(has_errors(ds));
}

TEST(Validate, NoEtcdOrPatroniIsAnError) {
  auto s = base();
  s["5defaults"] = "defaults:\n  roles: [haproxy]\n";
  auto ds = check(s);
  expect_error(ds, "no node carries the etcd role", "roles: [haproxy]");
  expect_error(ds, "no node carries the patroni role", "roles: [haproxy]");
}

TEST(Validate, SyncModeNeedsThreePatroniNodes) {
  auto s = base();
  s["3nodes"] =
      "nodes:\n  - {name: pg1, address: 10.42.0.11}\n  - {name: pg2, address: 10.42.0.12}\n"
      "  - {name: pg3, address: 10.42.0.13, roles: [etcd]}\n";
  s["5replication"] = "replication:\n  mode: sync\n";
  expect_error(check(s), "replication mode sync needs at least 3 patroni nodes, found 2", "mode: sync");
  s["5replication"] = "replication:\n  mode: async\n";
  EXPECT_TRUE(check(s).empty());
}

TEST(Validate, PatroniLoopWaitRetryTimeoutTtlRule) {
  auto ds = with("5patroni", "patroni:\n  ttl: 30\n  loop_wait: 10\n  retry_timeout: 11\n");
  expect_error(ds, "Patroni needs loop_wait + 2*retry_timeout <= ttl, but 10 + 2*11 = 32 > 30", "ttl: 30");
}

TEST(Validate, PatroniDocumentedMinimums) {
  auto ds = with("5patroni", "patroni:\n  ttl: 19\n  loop_wait: 1\n  retry_timeout: 2\n");
  expect_error(
      ds,
      "patroni.ttl is 19, below Patroni's documented minimum of 20; Patroni 3.0.2 does not enforce this "
      "but newer versions silently change it",
      "ttl: 19");
  expect_error(ds, "patroni.loop_wait is 1, below Patroni's documented minimum of 2", "loop_wait: 1");
  expect_error(ds, "patroni.retry_timeout is 2, below Patroni's documented minimum of 3", "retry_timeout: 2");
}

TEST(Validate, HaproxyMustDetectAFailedPrimaryWithinTtl) {
  auto ds =
      with("5haproxy", "haproxy:\n  check_inter_ms: 10000\n  check_fall: 3\n  check_fastinter_ms: 10000\n");
  expect_error(
      ds,
      "HAProxy needs check_inter_ms + (check_fall-1)*check_fastinter_ms = 10000 + 2*10000 = 30000 ms to "
      "mark a failed primary down, which must be less than the Patroni ttl (20000 ms)",
      "check_inter_ms");
  EXPECT_TRUE(
      with("5haproxy", "haproxy:\n  check_inter_ms: 1000\n  check_fall: 3\n  check_fastinter_ms: 9000\n")
          .empty());
}

TEST(Validate, HaproxyCheckSettingsMustBePositive) {
  expect_error(with("5haproxy", "haproxy:\n  check_rise: 0\n"),
               "haproxy.check_rise is 0; it must be at least 1", "check_rise");
}

TEST(Validate, PortCollisions) {
  auto ds = with("5ports", "ports:\n  etcd_client: 2380\n");
  expect_error(ds, "ports.etcd_peer 2380 collides with ports.etcd_client", "etcd_client: 2380");
}

TEST(Validate, PortRange) {
  auto ds = with("5ports", "ports:\n  postgres: 0\n  haproxy_stats: 65536\n");
  expect_error(ds, "ports.postgres is 0; a port must be between 1 and 65535", "postgres: 0");
  expect_error(ds, "ports.haproxy_stats is 65536", "haproxy_stats: 65536");
}

TEST(Validate, KeepalivedVirtualRouterIdRange) {
  expect_error(with("5keepalived", "keepalived:\n  virtual_router_id: 256\n"),
               "keepalived.virtual_router_id is 256; it must be between 1 and 255", "virtual_router_id");
  EXPECT_TRUE(with("5keepalived", "keepalived:\n  virtual_router_id: 255\n").empty());
}

TEST(Validate, UnknownRoleSuggests) {
  expect_error(with("5defaults", "defaults:\n  roles: [etcd, patroni, keepalive]\n"),
               "unknown role 'keepalive' in defaults.roles; did you mean 'keepalived'?", "keepalive]");
}

TEST(Validate, UnknownProfileSuggests) {
  expect_error(with("5patroni", "patroni:\n  profile: defualt\n"),
               "unknown timing profile 'defualt'; did you mean 'default'?", "profile:");
}

TEST(Validate, UnknownReplicationModeSuggests) {
  expect_error(with("5replication", "replication:\n  mode: asyn\n"),
               "unknown replication mode 'asyn'; did you mean 'async'?", "mode:");
}

TEST(Validate, UnknownProviderTypeSuggests) {
  expect_error(with("2provider", "provider:\n  type: statik\n"),
               "unknown provider type 'statik'; did you mean 'static'?", "type: statik");
}

TEST(Validate, NoNodes) {
  expect_error(with("3nodes", "nodes: []\n"), "no nodes", "nodes: []");
  auto s = base();
  s.erase("3nodes");
  s["4network"] = "network:\n  subnet: 10.42.0.0/24\n";
  // An absent section has no place of its own: it is reported at 1:1.
  Diagnostic d = find(check(s), "no nodes");
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_EQ(d.at.line, 1);
  EXPECT_EQ(d.at.col, 1);
}

TEST(Validate, ClusterNameMustBeADnsLabel) {
  expect_error(with("1cluster", "cluster:\n  name: pgha_test\n"),
               "cluster name 'pgha_test' is not a DNS label", "pgha_test");
  expect_error(with("1cluster", "cluster:\n  name: " + std::string(32, 'a') + "\n"), "is not a DNS label",
               "name: aaa");
  expect_error(with("1cluster", "cluster: {}\n"), "cluster.name is required", "cluster: {}");
  EXPECT_TRUE(with("1cluster", "cluster:\n  name: " + std::string(31, 'a') + "\n").empty());
}

TEST(Validate, OnlyTheVersionsDebianShips) {
  expect_error(with("1cluster", "cluster:\n  name: x\n  postgres_version: 16\n"),
               "PostgreSQL 16 is not supported: Debian 12 (bookworm) ships 15, Debian 13 (trixie) ships 17",
               "postgres_version");
}

TEST(Validate, ProxmoxNeedsItsSettings) {
  auto ds = with("2provider", "provider:\n  type: proxmox\n  proxmox:\n    endpoint: http://pve1:8006\n");
  expect_error(ds, "provider.proxmox.endpoint must start with https://", "endpoint:");
  expect_error(ds, "provider.proxmox.nodes must list at least one", "proxmox:");
  expect_error(ds, "provider.proxmox.template", "proxmox:");
  expect_error(ds, "provider.proxmox.token_id is required", "proxmox:");
  expect_error(ds, "provider.proxmox.token_secret is required", "proxmox:");
  expect_error(ds, "set exactly one of provider.proxmox.ca_file, provider.proxmox.fingerprint", "proxmox:");
}

TEST(Validate, ProxmoxNeedsExactlyOneWayToTrustTls) {
  std::string two = std::string(kProxmox) + "    fingerprint: \"AA:BB\"\n";
  expect_error(with("2provider", two), "set exactly one of", "fingerprint:");
}

TEST(Validate, ProxmoxInsecureWarns) {
  std::string insecure = kProxmox;
  insecure.replace(insecure.find("ca_file: /etc/pgha/ca.pem"), 25, "insecure: true");
  auto ds = with("2provider", insecure);
  Diagnostic d = find(ds, "TLS certificates of the Proxmox API are not verified");
  EXPECT_EQ(d.severity, Severity::warning);
  EXPECT_FALSE(has_errors(ds));
}

TEST(Validate, NodesAndInstancesBothGiven) {
  expect_error(with("5instances", "instances: {pg4: {ip_address: 10.42.0.14}}\n"),
               "both 'nodes' and 'instances' are given", "instances:");
}

TEST(Validate, DatabaseOwnerMustBeAUser) {
  auto ds = with("5users", "users:\n  - name: app\ndatabases:\n  - {name: app, owner: ap}\n");
  expect_error(ds, "owner 'ap' of database app is not a declared user; did you mean 'app'?", "owner: ap}");
  EXPECT_TRUE(with("5users", "databases:\n  - {name: app, owner: postgres}\n").empty());
}

TEST(Validate, UnreadableValuesAreNotReportedTwice) {
  auto ds =
      with("2provider", std::string(kProxmox).replace(std::string(kProxmox).find("fake"), 4, "${UNSET}"));
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].message, "environment variable UNSET is not set (needed by provider.proxmox.token_secret)");
}

TEST(Validate, NeverCrashesOnADefaultInventory) {
  Inventory inv;
  EXPECT_TRUE(has_errors(validate_inventory(inv)));
}

}  // namespace
}  // namespace pgha
