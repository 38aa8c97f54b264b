// core/endpoints: the one builder of the cluster's URLs and node-side client command lines, with and
// without TLS, and the names a node's certificate carries.
#include "core/endpoints.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace pgha {
namespace {

Inventory three_nodes() {
  Inventory inv;
  inv.cluster_name = "c1";
  inv.network.vip = "10.9.0.100";
  for (int i = 1; i <= 3; ++i) {
    Node n;
    n.name = "pg" + std::to_string(i);
    n.address = "10.9.0.1" + std::to_string(i);
    n.roles = all_roles();
    inv.nodes.push_back(n);
  }
  return inv;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(Reach, PlaintextUrlsAndCommands) {
  Inventory inv = three_nodes();
  Reach r(inv);
  EXPECT_FALSE(r.tls());
  EXPECT_EQ(r.etcd_client_url("10.9.0.11"), "http://10.9.0.11:2379");
  EXPECT_EQ(r.etcd_peer_url("10.9.0.11"), "http://10.9.0.11:2380");
  EXPECT_EQ(r.patroni_url("10.9.0.11", "/cluster"), "http://10.9.0.11:8008/cluster");
  EXPECT_EQ(r.etcdctl("http://127.0.0.1:2379"), "ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:2379");
  EXPECT_EQ(r.patroni_curl("10.9.0.12", "/leader"), "http://10.9.0.12:8008/leader");
  EXPECT_EQ(r.haproxy_stats_curl("10.9.0.13"), "'http://10.9.0.13:7000/;csv'");
}

TEST(Reach, TlsUrlsCarryTheRolesCertificates) {
  Inventory inv = three_nodes();
  inv.tls.enabled = true;
  Reach r(inv);
  EXPECT_EQ(r.etcd_client_url("10.9.0.11"), "https://10.9.0.11:2379");
  EXPECT_EQ(r.etcd_peer_url("10.9.0.11"), "https://10.9.0.11:2380");
  EXPECT_EQ(r.etcdctl("https://127.0.0.1:2379"),
            "ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/etcd/tls/ca.crt "
            "--cert=/etc/etcd/tls/node.crt --key=/etc/etcd/tls/node.key");
  EXPECT_EQ(
      r.patroni_curl("10.9.0.12", "/leader"),
      "--cacert /etc/patroni/tls/ca.crt --cert /etc/patroni/tls/node.crt --key /etc/patroni/tls/node.key "
      "https://10.9.0.12:8008/leader");
  EXPECT_EQ(r.haproxy_stats_curl("10.9.0.13"),
            "--cacert /etc/haproxy/tls/ca.crt 'https://10.9.0.13:7000/;csv'");
}

// A database node's certificate names itself, loopback, every HAProxy node (its PostgreSQL answers
// through their ports) and the VIP; a node with etcd alone names only itself and loopback.
TEST(Reach, NodeCertificateNames) {
  Inventory inv = three_nodes();
  CertRequest r = node_cert_request(inv, inv.nodes[0]);
  EXPECT_EQ(r.common_name, "pg1");
  EXPECT_EQ(r.dns_names, (std::vector<std::string>{"pg1", "localhost", "pg2", "pg3"}));
  EXPECT_EQ(r.ip_addresses,
            (std::vector<std::string>{"10.9.0.11", "127.0.0.1", "10.9.0.12", "10.9.0.13", "10.9.0.100"}));

  inv.nodes[2].roles = {Role::etcd};
  CertRequest witness = node_cert_request(inv, inv.nodes[2]);
  EXPECT_EQ(witness.dns_names, (std::vector<std::string>{"pg3", "localhost"}));
  EXPECT_EQ(witness.ip_addresses, (std::vector<std::string>{"10.9.0.13", "127.0.0.1"}));
  EXPECT_FALSE(has(node_cert_request(inv, inv.nodes[0]).ip_addresses, "10.9.0.13"));
}

}  // namespace
}  // namespace pgha
