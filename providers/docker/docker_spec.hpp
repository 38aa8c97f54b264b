// Names, labels and Engine API request bodies for a cluster's Docker resources. Pure functions of
// the inventory: everything pgha creates is named pgha-<cluster>[-<node>[-<volume>]] and labelled
// pgha.cluster=<cluster> (and pgha.node=<node>), which is all destroy() ever looks at.
#pragma once

#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/inventory.hpp"
#include "providers/docker/docker_client.hpp"
#include "providers/docker/docker_engine.hpp"

namespace pgha {

inline constexpr const char* kClusterLabel = "pgha.cluster";
inline constexpr const char* kNodeLabel = "pgha.node";

// A named volume of each node and where it is mounted. Docker fills an empty volume from the
// image's content at first mount, so Debian's 15/main cluster and etcd's directory arrive intact.
struct VolumeMount {
  std::string suffix;      // "data" -> pgha-<cluster>-<node>-data
  std::string mountpoint;  // /var/lib/postgresql
  bool shared = false;     // one volume for every node: pgha-<cluster>-<suffix>
};
std::vector<VolumeMount> node_volumes(const Inventory& inv);

std::string network_name(const Inventory& inv);
std::string container_name(const Inventory& inv, const std::string& node);
std::string volume_name(const Inventory& inv, const std::string& node, const VolumeMount& v);
std::string cluster_label_filter(const Inventory& inv);  // "pgha.cluster=<cluster>"

// The gateway: inventory's, else the subnet's first host address. Errors: bad_input for a subnet
// that is not IPv4 CIDR.
Result<std::string> network_gateway(const Network& net);

json network_spec(const Inventory& inv, const std::string& gateway);
// runtime: how systemd containers run on this engine (node_runtime() of its facts).
json container_spec(const Inventory& inv, const Node& node, const NodeRuntime& runtime);
// The endpoint config that gives a container its fixed address (and its node name as DNS alias).
json endpoint_config(const Node& node);

// A tar that installs public_key as /root/.ssh/authorized_keys (dir 0700, file 0600).
std::string authorized_keys_tar(const std::string& public_key);

}  // namespace pgha
