// The list-shaped inventory sections, read by parse_inventory (core/inventory_parse.cpp).
// Each appends to inv and reports problems through the reader; nodes start from inv.defaults and
// inv.default_roles, so those must be read first.
#pragma once

#include <yaml-cpp/yaml.h>

#include "core/inventory.hpp"
#include "core/inventory_yaml.hpp"

namespace pgha {

// nodes: [{name, address, cpu, memory_mb, disk_gb, roles, tags}, ...]
void read_nodes(YamlReader& r, const YAML::Node& list, Inventory& inv);
// instances: {"node1": {"ip_address": ..., "cpu_cores": ..., "ram_mb": ..., "disk_gb": ...}}, the map
// provisioning workflows emit. Marks are recorded under both "instances.node1.ip_address" and
// "nodes[i].address" (likewise cpu, memory_mb, disk_gb, roles, tags; the key is "nodes[i].name").
void read_instances(YamlReader& r, const YAML::Node& map, Inventory& inv);
// users: [{name, password, options}], databases: [{name, owner}]
void read_users(YamlReader& r, const YAML::Node& list, Inventory& inv);
void read_databases(YamlReader& r, const YAML::Node& list, Inventory& inv);
// guard: {detect_s, cooldown, restart_fenced}
void read_guard(YamlReader& r, const YAML::Node& map, Inventory& inv);
// tls: enabled, ca_cert, ca_key.
void read_tls(YamlReader& r, const YAML::Node& map, Inventory& inv);
// backup: {retention_full, retention_diff, compression, encryption, cipher_pass, from,
// schedule: {full, diff}}. Read after pgbackrest: and secrets:, whose overlapping keys it overrides
// (check_backup reports a key given in both places). cipher_pass goes to inv.secrets.
void read_backup(YamlReader& r, const YAML::Node& map, Inventory& inv);

}  // namespace pgha
