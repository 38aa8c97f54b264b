// `pgha status`: what the cluster looks like now, from the nodes themselves.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "roles/engine.hpp"
#include "roles/patroni_api.hpp"

namespace pgha {

struct BackendState {
  std::string haproxy_node;  // whose HAProxy reported it
  std::string listener;      // primary | replicas
  std::string server;        // node name
  std::string status;        // UP | DOWN | ...
};

struct EtcdMemberHealth {
  std::string endpoint;
  bool healthy = false;
  std::string error;
};

struct ClusterStatus {
  PatroniCluster patroni;
  std::string patroni_error;  // why the member table is missing, if it is
  std::vector<EtcdMemberHealth> etcd;
  std::vector<BackendState> backends;
  std::string vip;
  std::string vip_holder;  // node name, "" when nobody holds it
};

// Reads everything over the nodes' shells; parts that cannot be read are reported, not fatal.
ClusterStatus collect_status(EngineContext& ctx);

std::string format_status(const ClusterStatus& s);
nlohmann::json status_json(const ClusterStatus& s);

}  // namespace pgha
