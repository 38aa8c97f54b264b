#include "core/render_files.hpp"

#include "core/endpoints.hpp"

namespace pgha {
namespace {

const FileAttrs kRoot{"root", "root", 0644};
const FileAttrs kPostgresRead{"postgres", "postgres", 0640};
const FileAttrs kPostgresSecret{"postgres", "postgres", 0600};
// HAProxy reads its configuration as root, before it drops to the haproxy user.
const FileAttrs kHaproxySecret{"root", "haproxy", 0600};
const FileAttrs kRootProgram{"root", "root", 0755};

// systemd drop-in for `unit`: the packaged units restart too little for an HA stack.
RoleFile drop_in(const std::string& role, const std::string& unit) {
  return {"systemd/" + role + ".conf.mustache", "/etc/systemd/system/" + unit + ".d/pgha.conf", kRoot, false};
}

// The role's copy of the cluster CA, its node certificate and key (core/endpoints.hpp's TlsFiles),
// the key owned by the daemon's user.
void add_tls(std::vector<RoleFile>& files, const TlsFiles& where, const std::string& user) {
  files.push_back({"tls/ca.crt.mustache", where.ca(), kRoot, false, true});
  files.push_back({"tls/node.crt.mustache", where.cert(), kRoot, false, true});
  files.push_back({"tls/node.key.mustache", where.key(), {user, user, 0600}, true, true});
}

std::vector<RoleFile> with_tls(std::vector<RoleFile> files, const TlsFiles& where, const std::string& user) {
  add_tls(files, where, user);
  return files;
}

}  // namespace

const std::vector<RoleFile>& role_files(Role role) {
  // Certificates come first: a daemon restarted for its configuration finds them in place.
  static const std::vector<RoleFile> etcd = with_tls(
      {
          {"etcd/etcd.env.mustache", "/etc/default/etcd", kRoot, false},
          drop_in("etcd", "etcd.service"),
      },
      kEtcdTls, "etcd");
  static const std::vector<RoleFile> patroni = with_tls(
      {
          {"patroni/config.yml.mustache", "/etc/patroni/config.yml", kPostgresSecret, true},
          drop_in("patroni", "patroni.service"),
      },
      kPatroniTls, "postgres");
  static const std::vector<RoleFile> haproxy = {
      {"haproxy/haproxy.cfg.mustache", "/etc/haproxy/haproxy.cfg", kHaproxySecret, true},
      {"tls/ca.crt.mustache", kHaproxyTls.ca(), kRoot, false, true},
      // HAProxy reads its certificate and key from one file, as root before it drops privileges.
      {"tls/node.pem.mustache", kHaproxyTls.pem(), {"root", "root", 0600}, true, true},
  };
  static const std::vector<RoleFile> keepalived = {
      {"keepalived/keepalived.conf.mustache", "/etc/keepalived/keepalived.conf", kRoot, false},
      drop_in("keepalived", "keepalived.service"),
  };
  static const std::vector<RoleFile> pgbouncer = with_tls(
      {
          {"pgbouncer/pgbouncer.ini.mustache", "/etc/pgbouncer/pgbouncer.ini", kPostgresRead, false},
          {"pgbouncer/userlist.txt.mustache", "/etc/pgbouncer/userlist.txt", kPostgresSecret, true},
          drop_in("pgbouncer", "pgbouncer.service"),
      },
      kPgbouncerTls, "postgres");
  static const std::vector<RoleFile> pgbackrest = {
      {"pgbackrest/pgbackrest.conf.mustache", "/etc/pgbackrest/pgbackrest.conf", kPostgresRead, false},
      // Scheduled backups: a timer per backup type starts the templated service, which runs the
      // script; the script backs up only on the Patroni leader.
      {"pgbackrest/backup-scheduled.sh.mustache", "/usr/local/lib/pgha/backup-scheduled", kRootProgram,
       false},
      {"pgbackrest/pgha-backup@.service.mustache", "/etc/systemd/system/pgha-backup@.service", kRoot, false},
      {"pgbackrest/pgha-backup-full.timer.mustache", "/etc/systemd/system/pgha-backup-full.timer", kRoot,
       false},
      {"pgbackrest/pgha-backup-diff.timer.mustache", "/etc/systemd/system/pgha-backup-diff.timer", kRoot,
       false},
  };
  switch (role) {
    case Role::etcd: return etcd;
    case Role::patroni: return patroni;
    case Role::haproxy: return haproxy;
    case Role::keepalived: return keepalived;
    case Role::pgbouncer: return pgbouncer;
    case Role::pgbackrest: return pgbackrest;
  }
  return etcd;  // unreachable for a valid Role
}

}  // namespace pgha
