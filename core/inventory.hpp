// The cluster inventory: what the user declared, after parsing and ${ENV} interpolation, with
// defaults applied. Produced by parse_inventory() (core/inventory_parse.hpp), checked by
// validate_inventory() (core/validate.hpp), consumed by the renderer, planner and providers.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/role_option.hpp"

namespace pgha {

// A position in the inventory text. line and col are 1-based; 0 means "unknown".
struct Mark {
  int line = 0;
  int col = 0;
};

enum class ProviderType { docker, proxmox, static_hosts };
enum class ReplicationMode { async_mode, sync_mode };

// The six roles a node can carry. Order here is the bring-up order.
enum class Role { etcd, patroni, haproxy, keepalived, pgbouncer, pgbackrest };
const char* to_string(Role role);
std::optional<Role> role_from_string(const std::string& name);
const std::vector<Role>& all_roles();

struct DockerSettings {
  std::string host;  // "" = $DOCKER_HOST, else unix:///var/run/docker.sock
  std::string base_image = "debian:bookworm";
  std::string image = "pgha-node:bookworm";  // the node image pgha builds
  bool bake_packages = true;                 // install role packages into the image at build time
};

struct ProxmoxSettings {
  std::string endpoint;            // https://pve1.example:8006
  std::vector<std::string> nodes;  // Proxmox hosts to spread VMs across (anti-affinity)
  int template_vmid = 0;           // the template VMs are cloned from (0: `templates` names every host's)
  // Proxmox host -> the VM id of a template on that host: its VMs are cloned there, with no
  // `target` and no migration, whatever the storage.
  std::map<std::string, int> templates;
  std::string storage;  // target storage for full clones
  bool full_clone = true;
  std::string bridge = "vmbr0";
  int vlan_tag = 0;  // 0 = untagged
  std::string ciuser = "debian";
  std::string nameserver;
  std::string ca_file;       // trust this CA, or
  std::string fingerprint;   // pin this SHA-256 certificate fingerprint, or
  bool insecure = false;     // explicitly skip verification (warns)
  std::string token_id;      // USER@REALM!TOKENID, usually ${PROXMOX_API_TOKEN_ID}
  std::string token_secret;  // usually ${PROXMOX_API_TOKEN_SECRET}
};

struct StaticSettings {
  std::string user = "root";
  std::string ssh_key;  // private key path; "" = the cluster key in state
  int ssh_port = 22;
};

struct ProviderSettings {
  ProviderType type = ProviderType::docker;
  DockerSettings docker;
  ProxmoxSettings proxmox;
  StaticSettings static_hosts;
};

struct Resources {
  int cpu = 2;
  int memory_mb = 2048;
  int disk_gb = 20;
};

struct Node {
  std::string name;
  std::string address;  // IPv4, inside network.subnet
  // nodes[].os, else defaults.os: "debian12" | "debian13" (checked); "" = not declared (core/node_os.hpp).
  std::string os;
  Resources resources;
  std::vector<Role> roles;                  // defaults.roles unless overridden
  std::map<std::string, std::string> tags;  // patroni tags (nofailover, noloadbalance, ...)
  // nodes[].postgresql.parameters: GUC -> value as written, over the cluster's (core/pg_settings.hpp).
  std::map<std::string, std::string> parameters;
};

struct Network {
  std::string subnet = "10.42.0.0/24";  // CIDR
  std::string gateway;                  // "" = first host address of the subnet
  std::string vip;                      // "" = no VIP (keepalived role then has nothing to do)
  std::string interface = "eth0";       // interface carrying the VIP inside the nodes
};

struct Ports {
  int postgres = 5432;
  int patroni_api = 8008;
  int etcd_client = 2379;
  int etcd_peer = 2380;
  int haproxy_write = 5000;
  int haproxy_read = 5001;
  int haproxy_stats = 7000;
  int pgbouncer = 6432;
};

// Patroni + HAProxy timing. A profile name fills every field; explicit keys override it.
struct Timing {
  std::string profile = "fast";  // fast | default | safe; kDefaultProfile (core/profiles.hpp)
  int ttl = 0;
  int loop_wait = 0;
  int retry_timeout = 0;
  int primary_start_timeout = 0;
  int64_t maximum_lag_on_failover = 1048576;
  // HAProxy server check timing, milliseconds / counts.
  int check_inter_ms = 0;
  int check_fastinter_ms = 0;
  int check_downinter_ms = 0;
  int check_fall = 0;
  int check_rise = 0;
};

struct Replication {
  ReplicationMode mode = ReplicationMode::async_mode;
  bool strict = false;  // synchronous_mode_strict: never degrade to async
};

struct Keepalived {
  int virtual_router_id = 51;
  int advert_int = 1;
};

// The `backup:` block (and the older `pgbackrest:` one: repo_path, retention_full, cipher_type).
// Every value is checked by check_backup (core/inventory_rules_backup.cpp) before it reaches
// pgbackrest.conf or a systemd unit.
struct Backup {
  std::string repo_path = "/var/lib/pgbackrest";
  int retention_full = 2;            // repo1-retention-full: full backups kept
  int retention_diff = 7;            // repo1-retention-diff: differential backups kept
  std::string compression = "gz";    // compress-type: none | gz | bz2 | lz4 | zst
  std::string cipher_type = "none";  // none | aes-256-cbc (then cipher_pass secret); backup.encryption
  std::string from = "leader";       // leader | standby (backup-standby)
  // systemd OnCalendar expressions of the scheduled backups (pgha-backup-full/diff.timer).
  std::string schedule_full = "Sun *-*-* 01:00:00";
  std::string schedule_diff = "Mon..Sat *-*-* 01:00:00";
};

// `pgha guard`: how long the leader must fail before suspicion, how often it may fence, and whether
// it starts the fenced machine again once a new leader is up.
struct GuardConfig {
  int detect_s = 3;
  int cooldown_s = 600;  // the key `guard.cooldown`, in seconds
  bool restart_fenced = false;
};

// tls: certificates on every hop (etcd client and peer, Patroni's REST API, PostgreSQL, replication,
// PgBouncer, HAProxy's checks and stats). pgha's own cluster CA (state directory) unless the inventory
// names one of the user's: ca_cert and ca_key are local PEM files, read at plan time.
struct TlsConfig {
  bool enabled = false;
  std::string ca_cert;
  std::string ca_key;
};

// Secrets: "" means "not given"; such a secret is generated on first `up` and kept in state.
// A `${VAR}` that names an unset variable is a validation error naming VAR.
struct Secrets {
  std::string superuser_password;    // PATRONI_SUPERUSER_PASSWORD
  std::string replication_password;  // PATRONI_REPLICATION_PASSWORD
  std::string admin_password;        // PATRONI_ADMIN_PASSWORD (Patroni REST API + pgbouncer admin)
  std::string backup_cipher_pass;
};

struct User {
  std::string name;
  std::string password;             // "" = generated and kept in state
  std::vector<RoleOption> options;  // LOGIN, CREATEDB, ...; empty = LOGIN
};

struct Database {
  std::string name;
  std::string owner;
  // CREATE EXTENSION names, each one of core/pg_extensions.hpp's table (validate checks).
  std::vector<std::string> extensions;
};

struct Inventory {
  std::string source_name;  // the display name it was parsed from (file path)
  std::string cluster_name;
  int postgres_version = 15;
  ProviderSettings provider;
  Resources defaults;
  std::string default_os;  // defaults.os; "" = not declared
  std::vector<Role> default_roles = all_roles();
  std::vector<Node> nodes;
  Network network;
  Ports ports;
  Timing timing;
  Replication replication;
  Keepalived keepalived;
  Backup backup;
  GuardConfig guard;
  TlsConfig tls;
  Secrets secrets;
  std::vector<User> users;
  std::vector<Database> databases;
  // postgresql.parameters: GUC -> value as written, checked by check_postgres against PostgreSQL
  // 15's settings; cluster-wide, through Patroni's dynamic configuration.
  std::map<std::string, std::string> pg_parameters;

  // Where each value came from, keyed by its YAML path: "cluster.name", "nodes[1].address",
  // "nodes[1]" (the node's mapping), "network.vip", "patroni.ttl". Empty Mark when absent.
  std::map<std::string, Mark> marks;
  Mark where(const std::string& path) const;
  // Paths whose value could not be read: wrong type, or a ${VAR} that is unset. The parser
  // reported each and left the value at its default; the validator stays quiet at their marks.
  std::vector<std::string> unreadable;

  // Nodes carrying a role, in inventory order.
  std::vector<const Node*> nodes_with(Role role) const;
  const Node* find_node(const std::string& name) const;
};

bool has_role(const Node& node, Role role);

}  // namespace pgha
