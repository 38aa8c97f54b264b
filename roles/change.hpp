// One change to a cluster: what `pgha plan` predicts and what `pgha up` reports having done, in the
// same vocabulary, so the two can be compared entry by entry.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pgha {

enum class ChangeKind {
  create_machine,  // the provider creates the node's machine
  prepare,         // packages, Debian's stock services and the Patroni fix on one node
  write_file,      // target: the path (content, owner or mode differs)
  daemon_reload,   // systemd re-reads changed unit drop-ins
  start_unit,      // target: the unit (enable and start)
  reload_unit,     // target: the unit
  restart_unit,    // target: the unit
  etcd_add,        // the node joins etcd (a learner in a running cluster, or the first members)
  etcd_promote,    // a learner becomes a voting member
  etcd_remove,     // `member remove` of a node that left the inventory
  etcd_replace,    // `member remove` of the stale member of a node made again; it then joins afresh
  patroni_add,     // a Patroni member starts (a replica clones from the leader)
  switchover,      // node: the leader that leaves; target: the candidate
  patroni_remove,  // Patroni stopped and disabled on a node that left the inventory
  dcs_delete_key,  // target: the key; deleted only by a compare-and-swap on its mod revision
  dcs_patch,       // Patroni's dynamic configuration; target: the JSON patch
  sql_objects,     // users and databases created on the leader
  backup_stanza,   // the pgBackRest stanza created
  remove_machine,  // the provider removes the node's machine
  pg_parameter,    // a cluster-wide PostgreSQL parameter; target: its name (with dcs_patch)
  pg_restart,      // PostgreSQL restarted member by member, leader last
  pg_package,      // an extension's Debian package installed on a PostgreSQL node; target: the package
  pg_extension,    // CREATE EXTENSION on the leader; target: "<database>.<extension>"
};

const char* to_string(ChangeKind kind);
std::optional<ChangeKind> change_kind_from_string(const std::string& name);

struct Change {
  ChangeKind kind = ChangeKind::prepare;
  std::string node;
  std::string target;   // a path, a unit, a key, a candidate; "" when the kind says it all
  std::string summary;  // for people: "wrote /etc/haproxy/haproxy.cfg"
  bool secret = false;  // a file that carries secrets: its diff is never shown
};

// "kind node target": what plan and report are compared on.
std::string change_key(const Change& c);

}  // namespace pgha
