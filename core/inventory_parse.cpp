#include "core/inventory_parse.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "core/inventory_sections.hpp"
#include "core/inventory_yaml.hpp"
#include "core/net_addr.hpp"
#include "core/node_os.hpp"
#include "core/profiles.hpp"
#include "core/yaml_shape.hpp"

namespace pgha {

namespace {

// Explicit patroni:/haproxy: keys, applied over the chosen profile.
struct TimingKeys {
  std::string profile = kDefaultProfile;
  std::optional<int> ttl, loop_wait, retry_timeout, primary_start_timeout;
  int64_t maximum_lag_on_failover = 1048576;
  std::optional<int> inter, fastinter, downinter, fall, rise;
};

using Sections = std::map<std::string, YamlReader::Entry>;

// Reads the nodes in place of the inventory's nodes:/instances: sections; false when there are none
// to read at all (the reason is reported).
using NodesReader = std::function<bool(Inventory& inv)>;

const YAML::Node* section(const Sections& s, const char* key) {
  auto it = s.find(key);
  return it == s.end() ? nullptr : &it->second.value;
}

void read_provider(YamlReader& r, const YAML::Node& n, ProviderSettings& p) {
  std::string type = "docker";
  DockerSettings& d = p.docker;
  ProxmoxSettings& x = p.proxmox;
  StaticSettings& s = p.static_hosts;
  r.fields(n, "provider",
           {{"type", r.choice(type, {"docker", "proxmox", "static"}, "provider type")},
            {"docker",
             [&](const YAML::Node& v, const std::string& path) {
               r.fields(v, path,
                        {{"host", r.text(d.host)},
                         {"base_image", r.text(d.base_image)},
                         {"image", r.text(d.image)},
                         {"bake_packages", r.boolean(d.bake_packages)}});
             }},
            {"proxmox",
             [&](const YAML::Node& v, const std::string& path) {
               r.fields(v, path,
                        {{"endpoint", r.text(x.endpoint)},
                         {"nodes", r.texts(x.nodes)},
                         {"template", r.integer(x.template_vmid)},
                         {"templates",
                          [&](const YAML::Node& m, const std::string& at) {
                            if (!m.IsMap()) {
                              r.unreadable(at,
                                           "expected a mapping of Proxmox host to template VM id for " + at);
                              return;
                            }
                            for (const auto& e : r.entries(m, at, nullptr)) {
                              std::optional<int> id;
                              r.integer(id)(e.value, YamlReader::child(at, e.key));
                              if (id) x.templates[e.key] = *id;
                            }
                          }},
                         {"storage", r.text(x.storage)},
                         {"full_clone", r.boolean(x.full_clone)},
                         {"bridge", r.text(x.bridge)},
                         {"vlan", r.integer(x.vlan_tag)},
                         {"ciuser", r.text(x.ciuser)},
                         {"nameserver", r.text(x.nameserver)},
                         {"ca_file", r.text(x.ca_file)},
                         {"fingerprint", r.text(x.fingerprint)},
                         {"insecure", r.boolean(x.insecure)},
                         {"token_id", r.text(x.token_id)},
                         {"token_secret", r.text(x.token_secret)}});
             }},
            {"static", [&](const YAML::Node& v, const std::string& path) {
               r.fields(v, path,
                        {{"user", r.text(s.user)},
                         {"ssh_key", r.text(s.ssh_key)},
                         {"ssh_port", r.integer(s.ssh_port)}});
             }}});
  p.type = type == "proxmox"  ? ProviderType::proxmox
           : type == "static" ? ProviderType::static_hosts
                              : ProviderType::docker;
}

void read_timing(YamlReader& r, const Sections& top, Inventory& inv) {
  TimingKeys k;
  if (auto* n = section(top, "patroni")) {
    r.fields(*n, "patroni",
             {{"profile", r.choice(k.profile, timing_profile_names(), "timing profile")},
              {"ttl", r.integer(k.ttl)},
              {"loop_wait", r.integer(k.loop_wait)},
              {"retry_timeout", r.integer(k.retry_timeout)},
              {"primary_start_timeout", r.integer(k.primary_start_timeout)},
              {"maximum_lag_on_failover", r.integer(k.maximum_lag_on_failover)}});
  }
  if (auto* n = section(top, "haproxy")) {
    r.fields(*n, "haproxy",
             {{"check_inter_ms", r.integer(k.inter)},
              {"check_fastinter_ms", r.integer(k.fastinter)},
              {"check_downinter_ms", r.integer(k.downinter)},
              {"check_fall", r.integer(k.fall)},
              {"check_rise", r.integer(k.rise)}});
  }
  Timing& t = inv.timing;
  t = timing_profile(k.profile).value_or(*timing_profile(kDefaultProfile));
  t.ttl = k.ttl.value_or(t.ttl);
  t.loop_wait = k.loop_wait.value_or(t.loop_wait);
  t.retry_timeout = k.retry_timeout.value_or(t.retry_timeout);
  t.primary_start_timeout = k.primary_start_timeout.value_or(t.primary_start_timeout);
  t.maximum_lag_on_failover = k.maximum_lag_on_failover;
  t.check_inter_ms = k.inter.value_or(t.check_inter_ms);
  t.check_fastinter_ms = k.fastinter.value_or(t.check_fastinter_ms);
  t.check_downinter_ms = k.downinter.value_or(t.check_downinter_ms);
  t.check_fall = k.fall.value_or(t.check_fall);
  t.check_rise = k.rise.value_or(t.check_rise);
}

// False when nodes_from could not read any nodes.
bool read_sections(YamlReader& r, const Sections& top, Inventory& inv, const NodesReader* nodes_from) {
  if (auto* n = section(top, "cluster")) {
    r.fields(*n, "cluster",
             {{"name", r.text(inv.cluster_name)}, {"postgres_version", r.integer(inv.postgres_version)}});
  }
  if (auto* n = section(top, "provider")) read_provider(r, *n, inv.provider);
  if (auto* n = section(top, "defaults")) {
    Resources& d = inv.defaults;
    r.fields(*n, "defaults",
             {{"cpu", r.integer(d.cpu)},
              {"memory_mb", r.integer(d.memory_mb)},
              {"disk_gb", r.integer(d.disk_gb)},
              {"os", r.choice(inv.default_os, node_os_ids(), "node OS")},
              {"roles", r.roles(inv.default_roles)}});
  }
  const YAML::Node* nodes = section(top, "nodes");
  const YAML::Node* instances = section(top, "instances");
  bool nodes_read = true;
  if (nodes_from) {
    // Replaced: no rule may point at the sections that were not read.
    inv.marks.erase("nodes");
    inv.marks.erase("instances");
    nodes_read = (*nodes_from)(inv);
  } else {
    if (nodes) read_nodes(r, *nodes, inv);
    if (nodes && instances) {
      r.error(r.where("instances"), "both 'nodes' and 'instances' are given; use only one of them");
    } else if (instances) {
      read_instances(r, *instances, inv);
    }
  }
  if (auto* n = section(top, "network")) {
    Network& net = inv.network;
    r.fields(*n, "network",
             {{"subnet", r.text(net.subnet)},
              {"gateway", r.text(net.gateway)},
              {"vip", r.text(net.vip)},
              {"interface", r.text(net.interface)}});
  }
  if (auto subnet = parse_cidr(inv.network.subnet); subnet && inv.network.gateway.empty()) {
    inv.network.gateway = format_ipv4(subnet->first_host());
  }
  if (auto* n = section(top, "ports")) {
    Ports& p = inv.ports;
    r.fields(*n, "ports",
             {{"postgres", r.integer(p.postgres)},
              {"patroni_api", r.integer(p.patroni_api)},
              {"etcd_client", r.integer(p.etcd_client)},
              {"etcd_peer", r.integer(p.etcd_peer)},
              {"haproxy_write", r.integer(p.haproxy_write)},
              {"haproxy_read", r.integer(p.haproxy_read)},
              {"haproxy_stats", r.integer(p.haproxy_stats)},
              {"pgbouncer", r.integer(p.pgbouncer)}});
  }
  read_timing(r, top, inv);
  if (auto* n = section(top, "replication")) {
    std::string mode = "async";
    r.fields(*n, "replication",
             {{"mode", r.choice(mode, {"async", "sync"}, "replication mode")},
              {"strict", r.boolean(inv.replication.strict)}});
    inv.replication.mode = mode == "sync" ? ReplicationMode::sync_mode : ReplicationMode::async_mode;
  }
  if (auto* n = section(top, "keepalived")) {
    r.fields(*n, "keepalived",
             {{"virtual_router_id", r.integer(inv.keepalived.virtual_router_id)},
              {"advert_int", r.integer(inv.keepalived.advert_int)}});
  }
  if (auto* n = section(top, "pgbackrest")) {
    Backup& b = inv.backup;
    r.fields(*n, "pgbackrest",
             {{"repo_path", r.text(b.repo_path)},
              {"retention_full", r.integer(b.retention_full)},
              {"cipher_type", r.choice(b.cipher_type, {"none", "aes-256-cbc"}, "cipher type")}});
  }
  if (auto* n = section(top, "secrets")) {
    Secrets& s = inv.secrets;
    r.fields(*n, "secrets",
             {{"superuser_password", r.text(s.superuser_password)},
              {"replication_password", r.text(s.replication_password)},
              {"admin_password", r.text(s.admin_password)},
              {"backup_cipher_pass", r.text(s.backup_cipher_pass)}});
  }
  if (auto* n = section(top, "backup")) read_backup(r, *n, inv);
  if (auto* n = section(top, "guard")) read_guard(r, *n, inv);
  if (auto* n = section(top, "tls")) read_tls(r, *n, inv);
  if (auto* n = section(top, "postgresql"))
    r.fields(*n, "postgresql", {{"parameters", r.text_map(inv.pg_parameters)}});
  if (auto* n = section(top, "users")) read_users(r, *n, inv);
  if (auto* n = section(top, "databases")) read_databases(r, *n, inv);
  return nodes_read;
}

const std::vector<std::string> kSections = {"cluster",    "provider",   "defaults", "nodes",   "instances",
                                            "network",    "ports",      "patroni",  "haproxy", "replication",
                                            "keepalived", "pgbackrest", "secrets",  "users",   "databases",
                                            "guard",      "postgresql", "backup",   "tls"};

// Reads an instances file into inv.nodes (from inv's defaults) with a reader of its own, so that its
// diagnostics name it; then copies its marks and unreadable paths into inv, lines shifted by offset.
// False when the file holds no mapping to read.
bool read_instances_file(const InstancesText& file, const EnvLookup& env, int offset,
                         std::vector<Diagnostic>& diagnostics, Inventory& inv) {
  Inventory scratch;
  scratch.defaults = inv.defaults;
  scratch.default_roles = inv.default_roles;
  YamlReader r(file.display_name, env, diagnostics, scratch);
  bool ok = false;
  try {
    YAML::Node root = YAML::Load(std::string(file.text));
    if (root.IsNull()) {
      r.error({}, "the instances file is empty; expected a mapping of instance name to settings");
      return false;
    }
    r.record("instances", YamlReader::mark_of(root));
    read_instances(r, root, scratch);  // reports a root that is not a mapping
    ok = root.IsMap();
  } catch (const YAML::Exception& e) {
    Mark at = e.mark.is_null() ? Mark{} : Mark{e.mark.line + 1, e.mark.column + 1};
    r.error(at, "YAML syntax error: " + e.msg);
    return false;
  } catch (const std::exception&) {
    r.error({}, "internal error while reading the instances file");
    return false;
  }
  inv.nodes = std::move(scratch.nodes);
  for (const auto& [path, at] : scratch.marks) {
    if (at.line > 0) inv.marks[path] = Mark{at.line + offset, at.col};
  }
  inv.unreadable.insert(inv.unreadable.end(), scratch.unreadable.begin(), scratch.unreadable.end());
  return ok;
}

ParseOutcome parse(std::string_view text, const std::string& display_name, const EnvLookup& env,
                   const InstancesText* instances) {
  ParseOutcome out;
  NodesReader nodes_from;
  bool instances_read = false;
  if (instances) {
    // Past any mark in the inventory, including yaml-cpp's end-of-input one.
    out.instances_line_offset = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 2;
    out.instances_name = instances->display_name;
    nodes_from = [&out, &env, &instances_read, instances](Inventory& inv) {
      instances_read = true;
      return read_instances_file(*instances, env, out.instances_line_offset, out.diagnostics, inv);
    };
  }
  // When the inventory cannot be read, the instances file is still checked: every problem at once.
  auto failed = [&]() {
    Inventory unused;
    if (nodes_from && !instances_read) nodes_from(unused);
    return std::move(out);
  };
  Inventory inv;
  inv.source_name = display_name;
  YamlReader r(display_name, env, out.diagnostics, inv);
  bool nodes_read = true;
  if (auto problem = check_yaml_shape(text); problem || (problem = check_yaml_aliases(text))) {
    r.error(problem->at, problem->message);
    return failed();
  }
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (root.IsNull()) {
      r.error({1, 1}, "the inventory is empty");
      return failed();
    }
    if (!root.IsMap()) {
      r.error(YamlReader::mark_of(root),
              "expected a mapping of sections (cluster:, nodes:, ...) at the top level");
      return failed();
    }
    Sections top;
    for (auto& e : r.entries(root, "", &kSections)) top.emplace(e.key, e);
    nodes_read = read_sections(r, top, inv, nodes_from ? &nodes_from : nullptr);
  } catch (const YAML::Exception& e) {
    Mark at = e.mark.is_null() ? Mark{} : Mark{e.mark.line + 1, e.mark.column + 1};
    r.error(at, "YAML syntax error: " + e.msg);
    return failed();
  } catch (const std::exception&) {
    r.error({}, "internal error while reading the inventory");
    return failed();
  }
  if (nodes_read) out.inventory = std::move(inv);
  return out;
}

}  // namespace

ParseOutcome parse_inventory(std::string_view text, const std::string& display_name, const EnvLookup& env) {
  return parse(text, display_name, env, nullptr);
}

ParseOutcome parse_inventory(std::string_view text, const std::string& display_name, const EnvLookup& env,
                             const InstancesText& instances) {
  return parse(text, display_name, env, &instances);
}

void relocate_diagnostics(const ParseOutcome& parsed, std::vector<Diagnostic>& diagnostics) {
  if (parsed.instances_line_offset == 0) return;
  for (Diagnostic& d : diagnostics) {
    // The instances reader's own diagnostics already name the file, at unshifted lines.
    if (d.file == parsed.instances_name || d.at.line <= parsed.instances_line_offset) continue;
    d.file = parsed.instances_name;
    d.at.line -= parsed.instances_line_offset;
  }
}

}  // namespace pgha
