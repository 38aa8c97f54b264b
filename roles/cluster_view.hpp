// Reading the cluster as a whole: etcd's members and health, Patroni's members and member keys,
// the dynamic configuration and the leader's users and databases (see ClusterView in plan.hpp).
#pragma once

#include <string>
#include <vector>

#include "roles/engine.hpp"
#include "roles/plan.hpp"

namespace pgha {

// `ETCDCTL_API=3 etcdctl --endpoints=<node's client URL> --command-timeout=3s`.
std::string etcdctl(const Inventory& inv, const Node& at);

// Fills view's etcd part (members, health, Patroni's member keys) through node n's etcd; false when
// it does not answer.
bool read_etcd_view(const Inventory& inv, NodeHandle& n, ClusterView& view);

// Asks each node in turn until one answers each question. Nodes without a shell are skipped.
ClusterView observe_cluster(const Inventory& inv, const std::vector<NodeHandle*>& nodes);

}  // namespace pgha
