#include "core/endpoints.hpp"

namespace pgha {

CertRequest node_cert_request(const Inventory& inv, const Node& node) {
  CertRequest r;
  r.common_name = node.name;
  r.dns_names = {node.name, "localhost"};
  r.ip_addresses = {node.address, "127.0.0.1"};
  // PostgreSQL answers through HAProxy's write and read ports too (TCP mode: TLS runs end to end), so a
  // database node's certificate also names every HAProxy node and the VIP they share.
  if (has_role(node, Role::patroni)) {
    for (const Node* h : inv.nodes_with(Role::haproxy)) {
      if (h->name == node.name) continue;
      r.dns_names.push_back(h->name);
      r.ip_addresses.push_back(h->address);
    }
  }
  const bool fronts =
      has_role(node, Role::patroni) || has_role(node, Role::keepalived) || has_role(node, Role::haproxy);
  if (!inv.network.vip.empty() && fronts) r.ip_addresses.push_back(inv.network.vip);
  return r;
}

std::string Reach::etcd_client_url(const std::string& address) const {
  return std::string(scheme()) + "://" + address + ":" + std::to_string(inv_.ports.etcd_client);
}

std::string Reach::etcd_peer_url(const std::string& address) const {
  return std::string(scheme()) + "://" + address + ":" + std::to_string(inv_.ports.etcd_peer);
}

std::string Reach::patroni_url(const std::string& address, const std::string& path) const {
  return std::string(scheme()) + "://" + address + ":" + std::to_string(inv_.ports.patroni_api) + path;
}

std::string Reach::etcdctl(const std::string& endpoints) const {
  std::string cmd = "ETCDCTL_API=3 etcdctl --endpoints=" + endpoints;
  if (tls()) {
    cmd += " --cacert=" + kEtcdTls.ca() + " --cert=" + kEtcdTls.cert() + " --key=" + kEtcdTls.key();
  }
  return cmd;
}

std::string Reach::patroni_curl_tls() const {
  if (!tls()) return "";
  return "--cacert " + kPatroniTls.ca() + " --cert " + kPatroniTls.cert() + " --key " + kPatroniTls.key() +
         " ";
}

std::string Reach::haproxy_stats_curl(const std::string& address) const {
  const std::string options = tls() ? "--cacert " + kHaproxyTls.ca() + " " : "";
  return options + "'" + scheme() + "://" + address + ":" + std::to_string(inv_.ports.haproxy_stats) +
         "/;csv'";
}

std::string Reach::patroni_curl(const std::string& address, const std::string& path) const {
  return patroni_curl_tls() + patroni_url(address, path);
}

}  // namespace pgha
