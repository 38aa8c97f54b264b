#include "core/render_files.hpp"

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

}  // namespace

const std::vector<RoleFile>& role_files(Role role) {
  static const std::vector<RoleFile> etcd = {
      {"etcd/etcd.env.mustache", "/etc/default/etcd", kRoot, false},
      drop_in("etcd", "etcd.service"),
  };
  static const std::vector<RoleFile> patroni = {
      {"patroni/config.yml.mustache", "/etc/patroni/config.yml", kPostgresSecret, true},
      drop_in("patroni", "patroni.service"),
  };
  static const std::vector<RoleFile> haproxy = {
      {"haproxy/haproxy.cfg.mustache", "/etc/haproxy/haproxy.cfg", kHaproxySecret, true},
  };
  static const std::vector<RoleFile> keepalived = {
      {"keepalived/keepalived.conf.mustache", "/etc/keepalived/keepalived.conf", kRoot, false},
      drop_in("keepalived", "keepalived.service"),
  };
  static const std::vector<RoleFile> pgbouncer = {
      {"pgbouncer/pgbouncer.ini.mustache", "/etc/pgbouncer/pgbouncer.ini", kPostgresRead, false},
      {"pgbouncer/userlist.txt.mustache", "/etc/pgbouncer/userlist.txt", kPostgresSecret, true},
      drop_in("pgbouncer", "pgbouncer.service"),
  };
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
