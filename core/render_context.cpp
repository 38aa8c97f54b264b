#include "core/render_context.hpp"

#include <cctype>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "core/pg_settings.hpp"
#include "core/pgbouncer_auth.hpp"

namespace pgha {
namespace {

using kainjow::mustache::data;
using kainjow::mustache::list;

std::string str(int v) {
  return std::to_string(v);
}
std::string str(int64_t v) {
  return std::to_string(v);
}
std::string str(bool v) {
  return v ? "true" : "false";
}

// Text that will sit inside a line-oriented file must not break out of its line.
Status check_writable(const std::string& what, const std::string& value) {
  for (char c : value) {
    if (c == '\n' || c == '\r' || c == '\0') {
      return make_error(ErrorKind::bad_input, what +
                                                  " contains a line break or NUL; it cannot be written to a "
                                                  "configuration file");
    }
  }
  return {};
}

Result<int> subnet_prefix(const std::string& cidr) {
  auto slash = cidr.find('/');
  if (slash == std::string::npos || slash + 1 >= cidr.size()) {
    return make_error(ErrorKind::bad_input, "network.subnet '" + cidr + "' is not in CIDR form (a.b.c.d/n)");
  }
  int prefix = 0;
  for (char c : cidr.substr(slash + 1)) {
    if (c < '0' || c > '9')
      return make_error(ErrorKind::bad_input, "network.subnet '" + cidr + "' has a bad prefix");
    prefix = prefix * 10 + (c - '0');
    if (prefix > 32)
      return make_error(ErrorKind::bad_input, "network.subnet '" + cidr + "' has a bad prefix");
  }
  return prefix;
}

// A node on a loopback address is already reachable locally: adding 127.0.0.1 too would make several
// such nodes on one host fight over the same 127.0.0.1 port.
bool is_loopback(const std::string& address) {
  return address.rfind("127.", 0) == 0;
}

// Patroni tags are typed (nofailover: bool, replicatefrom: str): keep booleans and integers bare.
std::string tag_value(const std::string& v) {
  if (v == "true" || v == "false") return v;
  bool digits = !v.empty();
  for (char c : v) digits = digits && c >= '0' && c <= '9';
  return digits ? v : yaml_quote(v);
}

// A checked parameter value YAML reads back as the same string: letters, digits, '_', '.', '-',
// and no word YAML 1.1 reads as a boolean or null ("on" stays quoted).
bool plain_yaml(const std::string& v) {
  static const std::set<std::string> words = {"on", "off", "yes", "no", "true", "false", "null", "y", "n"};
  if (v.empty()) return false;
  std::string lower;
  for (char c : v) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') return false;
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return !words.count(lower);
}

list node_list(const std::vector<const Node*>& nodes) {
  list out;
  for (const Node* n : nodes) {
    data item;
    item.set("name", n->name);
    item.set("address", n->address);
    out.push_back(item);
  }
  return out;
}

list pg_hba(const Inventory& inv) {
  // Local: the postgres OS user by peer (Patroni itself, maintenance), everyone else by password.
  // Network: only the cluster subnet and this host, always scram-sha-256.
  std::vector<std::string> lines = {
      "local   all             postgres                                peer",
      "local   all             all                                     scram-sha-256",
      "host    all             all             127.0.0.1/32            scram-sha-256",
      "host    all             all             " + inv.network.subnet + "            scram-sha-256",
      "host    replication     replicator      127.0.0.1/32            scram-sha-256",
      "host    replication     replicator      " + inv.network.subnet + "            scram-sha-256",
  };
  if (inv.tls.enabled) {
    // With TLS, every network connection must use it (replication included); the rest is refused.
    for (std::string& l : lines)
      if (l.rfind("host    ", 0) == 0) l = "hostssl " + l.substr(8);
    lines.push_back("hostnossl all             all             0.0.0.0/0               reject");
    lines.push_back("hostnossl replication     all             0.0.0.0/0               reject");
  }
  list out;
  for (const auto& l : lines) out.push_back(data("line", yaml_quote(l)));
  return out;
}

void set_common(data& d, const Inventory& inv, const Node& node) {
  const std::string data_dir = "/var/lib/postgresql/" + str(inv.postgres_version) + "/" + inv.cluster_name;
  d.set("cluster", inv.cluster_name);
  d.set("node_name", node.name);
  d.set("node_address", node.address);
  d.set("local_listen", !is_loopback(node.address));
  d.set("pg_version", str(inv.postgres_version));
  d.set("data_dir", data_dir);
  d.set("bin_dir", "/usr/lib/postgresql/" + str(inv.postgres_version) + "/bin");
  d.set("subnet", inv.network.subnet);
  const Ports& p = inv.ports;
  d.set("port_postgres", str(p.postgres));
  d.set("port_patroni_api", str(p.patroni_api));
  d.set("port_etcd_client", str(p.etcd_client));
  d.set("port_etcd_peer", str(p.etcd_peer));
  d.set("port_haproxy_write", str(p.haproxy_write));
  d.set("port_haproxy_read", str(p.haproxy_read));
  d.set("port_haproxy_stats", str(p.haproxy_stats));
  d.set("port_pgbouncer", str(p.pgbouncer));
}

void set_etcd(data& d, const Inventory& inv) {
  d.set("etcd_members", node_list(inv.nodes_with(Role::etcd)));
}

void set_patroni(data& d, const Inventory& inv, const Node& node) {
  const Timing& t = inv.timing;
  d.set("ttl", str(t.ttl));
  d.set("loop_wait", str(t.loop_wait));
  d.set("retry_timeout", str(t.retry_timeout));
  d.set("primary_start_timeout", str(t.primary_start_timeout));
  d.set("maximum_lag_on_failover", str(t.maximum_lag_on_failover));
  d.set("synchronous_mode", str(inv.replication.mode == ReplicationMode::sync_mode));
  d.set("synchronous_mode_strict",
        str(inv.replication.mode == ReplicationMode::sync_mode && inv.replication.strict));
  d.set("has_pgbackrest", has_role(node, Role::pgbackrest));
  d.set("archive_command_yaml", yaml_quote("pgbackrest --stanza=" + inv.cluster_name + " archive-push %p"));
  d.set("pg_hba", pg_hba(inv));
  list tags;
  for (const auto& [name, value] : node.tags) {
    data tag;
    tag.set("name", name);
    tag.set("value", tag_value(value));
    tags.push_back(tag);
  }
  // PostgreSQL parameters: checked against PostgreSQL 15's settings, in canonical form, quoted.
  auto params = [](const std::map<std::string, std::string>& m) {
    list out;
    for (const auto& [name, value] : m) {
      data p;
      p.set("name", name);
      p.set("value_yaml", plain_yaml(value) ? value : yaml_quote(value));
      out.push_back(p);
    }
    return out;
  };
  d.set("dcs_parameters", params(dcs_parameters(inv)));
  d.set("node_parameters", params(node_parameters(node)));
  d.set("has_tags", !tags.empty());
  d.set("tags", tags);
  d.set("patroni_nodes", node_list(inv.nodes_with(Role::patroni)));
}

void set_haproxy(data& d, const Inventory& inv) {
  const Timing& t = inv.timing;
  d.set("check_inter_ms", str(t.check_inter_ms));
  d.set("check_fastinter_ms", str(t.check_fastinter_ms));
  d.set("check_downinter_ms", str(t.check_downinter_ms));
  d.set("check_fall", str(t.check_fall));
  d.set("check_rise", str(t.check_rise));
}

Status set_keepalived(data& d, const Inventory& inv, const Node& node) {
  d.set("has_vip", !inv.network.vip.empty());
  d.set("vip", inv.network.vip);
  d.set("interface", inv.network.interface);
  auto prefix = subnet_prefix(inv.network.subnet);
  if (!prefix) return prefix.error();
  d.set("vip_prefix", str(*prefix));
  d.set("keepalived_router_id", str(inv.keepalived.virtual_router_id));
  d.set("keepalived_advert_int", str(inv.keepalived.advert_int));
  // Priorities fall with inventory order so that the first healthy node wins an election.
  int priority = 150;
  list peers;
  for (const Node* n : inv.nodes_with(Role::haproxy)) {
    if (n->name == node.name) {
      d.set("keepalived_priority", str(priority < 1 ? 1 : priority));
    } else {
      peers.push_back(data("address", n->address));
    }
    priority -= 10;
  }
  if (!has_role(node, Role::haproxy)) d.set("keepalived_priority", "1");
  d.set("keepalived_peers", peers);
  return {};
}

void set_pgbouncer(data& d, const Inventory& inv, const Node& node) {
  // The pool must always reach the primary. The local HAProxy write port follows the leader within
  // one check interval and cuts sessions to a demoted primary; without a local HAProxy, the VIP (or
  // the first HAProxy node) does the same job one hop further.
  std::string host = "127.0.0.1";
  if (!has_role(node, Role::haproxy)) {
    const auto proxies = inv.nodes_with(Role::haproxy);
    if (!inv.network.vip.empty()) {
      host = inv.network.vip;
    } else if (!proxies.empty()) {
      host = proxies.front()->address;
    }
  }
  d.set("pgbouncer_target_host", host);
}

Status set_tls(data& d, const Inventory& inv, const Node& node, const TlsMaterial& tls) {
  const Reach ep(inv);
  d.set("tls", ep.tls());
  d.set("scheme", std::string(ep.scheme()));
  if (!ep.tls()) return {};
  auto it = tls.nodes.find(node.name);
  if (tls.ca_cert_pem.empty() || it == tls.nodes.end())
    return make_error(ErrorKind::bad_input,
                      "tls.enabled but no certificate was resolved for node " + node.name);
  d.set("tls_ca_pem", tls.ca_cert_pem);
  d.set("tls_cert_pem", it->second.cert_pem);
  d.set("tls_key_pem", it->second.key_pem);
  auto paths = [&d](const std::string& prefix, const TlsFiles& f) {
    d.set(prefix + "_ca", f.ca());
    d.set(prefix + "_cert", f.cert());
    d.set(prefix + "_key", f.key());
  };
  paths("etcd_tls", kEtcdTls);
  paths("patroni_tls", kPatroniTls);
  paths("pgbouncer_tls", kPgbouncerTls);
  d.set("haproxy_tls_ca", kHaproxyTls.ca());
  d.set("haproxy_tls_pem", kHaproxyTls.pem());
  return {};
}

Status set_secrets(data& d, const Inventory& inv, const ResolvedSecrets& s) {
  struct Named {
    const char* name;
    const std::string& value;
  };
  for (const Named& n :
       {Named{"superuser_password", s.superuser_password},
        Named{"replication_password", s.replication_password}, Named{"admin_password", s.admin_password},
        Named{"backup_cipher_pass", s.backup_cipher_pass}}) {
    if (auto st = check_writable(std::string("secret ") + n.name, n.value); !st) return st;
  }
  d.set("superuser_password_yaml", yaml_quote(s.superuser_password));
  d.set("replication_password_yaml", yaml_quote(s.replication_password));
  d.set("admin_password_yaml", yaml_quote(s.admin_password));
  d.set("haproxy_stats_auth", haproxy_quote("admin:" + s.admin_password));

  // PgBouncer's auth_file: the console user as a SCRAM verifier and the auth_query lookup role (see
  // core/pgbouncer_auth.hpp); every other user is looked up in PostgreSQL, superusers never.
  list userlist;
  auto add_user = [&userlist](const std::string& user, const std::string& password) {
    data entry;
    entry.set("user", userlist_quote(user));
    entry.set("password", userlist_quote(password));
    userlist.push_back(entry);
  };
  add_user("admin", stable_scram_verifier(s.admin_password, "admin", s.admin_password));
  add_user(kPgbouncerLookupRole, pgbouncer_lookup_password(s));
  for (const User& u : inv.users) {
    if (auto st = check_writable("user name '" + u.name + "'", u.name); !st) return st;
    auto it = s.user_passwords.find(u.name);
    if (it == s.user_passwords.end()) {
      return make_error(ErrorKind::bad_input, "no password resolved for user '" + u.name + "'");
    }
    if (auto st = check_writable("the password of user '" + u.name + "'", it->second); !st) return st;
  }
  d.set("pgbouncer_auth_user", std::string(kPgbouncerLookupRole));
  d.set("pgbouncer_auth_query", pgbouncer_auth_query());
  d.set("userlist", userlist);

  const bool encrypted = inv.backup.cipher_type != "none" && !inv.backup.cipher_type.empty();
  if (encrypted && s.backup_cipher_pass.empty()) {
    return make_error(ErrorKind::bad_input, "backup.cipher_type is " + inv.backup.cipher_type +
                                                " but no backup cipher passphrase was resolved");
  }
  d.set("backup_encrypted", encrypted);
  d.set("backup_cipher_type", inv.backup.cipher_type);
  d.set("backup_cipher_pass", s.backup_cipher_pass);
  d.set("backup_repo_path", inv.backup.repo_path);
  d.set("backup_retention_full", str(inv.backup.retention_full));
  d.set("backup_retention_diff", str(inv.backup.retention_diff));
  d.set("backup_compress_type", inv.backup.compression);
  d.set("backup_schedule_full", inv.backup.schedule_full);
  d.set("backup_schedule_diff", inv.backup.schedule_diff);
  return {};
}

}  // namespace

std::string yaml_quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string haproxy_quote(std::string_view s) {
  // HAProxy's configuration parser: inside double quotes a backslash escapes the next character and
  // '$' starts an environment variable, so '"', '\\' and '$' are escaped.
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\' || c == '$') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string userlist_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

Result<data> render_context(const Inventory& inv, const Node& node, const ResolvedSecrets& secrets) {
  data d;
  set_common(d, inv, node);
  set_etcd(d, inv);
  set_patroni(d, inv, node);
  set_haproxy(d, inv);
  if (auto st = set_keepalived(d, inv, node); !st) return st.error();
  set_pgbouncer(d, inv, node);
  if (auto st = set_secrets(d, inv, secrets); !st) return st.error();
  if (auto st = set_tls(d, inv, node, secrets.tls); !st) return st.error();
  return d;
}

}  // namespace pgha
