// The one place that says how a node's services are reached: scheme, address and port, and the TLS
// files each side presents. Every URL, etcdctl and curl command line for the cluster's own endpoints
// comes from here, so turning TLS on changes one place (inventory `tls.enabled`).
#pragma once

#include <string>

#include "core/inventory.hpp"
#include "core/tls_ca.hpp"

namespace pgha {

// Where each daemon finds the cluster CA, its certificate and its key on a node. Each role keeps its
// own copy, owned by the daemon's user (a key must be readable by that user alone).
struct TlsFiles {
  const char* dir;
  std::string ca() const { return std::string(dir) + "/ca.crt"; }
  std::string cert() const { return std::string(dir) + "/node.crt"; }
  std::string key() const { return std::string(dir) + "/node.key"; }
  std::string pem() const { return std::string(dir) + "/node.pem"; }  // certificate then key (HAProxy)
};
inline constexpr TlsFiles kEtcdTls{"/etc/etcd/tls"};
inline constexpr TlsFiles kPatroniTls{"/etc/patroni/tls"};  // Patroni's REST API, its etcd client, PostgreSQL
inline constexpr TlsFiles kPgbouncerTls{"/etc/pgbouncer/tls"};
inline constexpr TlsFiles kHaproxyTls{"/etc/haproxy/tls"};  // ca.crt, and node.pem

// The certificate a node gets: its name, its address, the loopback names (local clients, PgBouncer
// reaching the local HAProxy), and for a database node every HAProxy node and the VIP, through which
// its PostgreSQL answers too.
CertRequest node_cert_request(const Inventory& inv, const Node& node);

// pgha's own side of TLS on the operator's machine: the cluster CA to verify the nodes, and a client
// certificate (CN pgha) for etcd and Patroni's unsafe methods. Empty when TLS is off.
struct TlsClient {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool enabled() const { return !ca_file.empty(); }
};

class Reach {
 public:
  explicit Reach(const Inventory& inv) : inv_(inv) {}

  bool tls() const { return inv_.tls.enabled; }
  const char* scheme() const { return tls() ? "https" : "http"; }

  std::string etcd_client_url(const std::string& address) const;
  std::string etcd_peer_url(const std::string& address) const;
  std::string patroni_url(const std::string& address, const std::string& path) const;

  // Run on a node as root: etcdctl (v3) against `endpoints` (comma-separated URLs), with the etcd
  // role's certificate when TLS is on.
  std::string etcdctl(const std::string& endpoints) const;
  // Run on a node as root: curl's options for Patroni's REST API (the CA, and Patroni's own client
  // certificate for the unsafe methods), then the URL. Empty options when TLS is off.
  std::string patroni_curl(const std::string& address, const std::string& path) const;
  // Run on a HAProxy node as root: curl's options and the quoted URL of its stats page as CSV.
  std::string haproxy_stats_curl(const std::string& address) const;
  // curl's TLS options alone ("" when TLS is off), for a URL built elsewhere.
  std::string patroni_curl_tls() const;

 private:
  const Inventory& inv_;
};

}  // namespace pgha
