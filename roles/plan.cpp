#include "roles/plan.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "core/pg_extensions.hpp"
#include "core/pg_settings.hpp"
#include "core/sha256.hpp"
#include "net/ssh_keys.hpp"
#include "roles/catalog.hpp"
#include "roles/rolling.hpp"

namespace pgha {

std::string etcd_id_hex(uint64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(id));
  return buf;
}
namespace {

using json = nlohmann::json;

struct Builder {
  const PlanInput& in;
  Plan plan;
  void add(ChangeKind kind, const std::string& node, const std::string& target, const std::string& summary,
           bool secret = false) {
    plan.changes.push_back(Change{kind, node, target, summary, secret});
  }
};

// The inventory's nodes (not the leaving ones) that carry `role`.
std::vector<const PlanNode*> wanted_with(const PlanInput& in, Role role) {
  std::vector<const PlanNode*> out;
  for (const auto& n : in.nodes) {
    if (!n.leaving && has_role(n.node, role)) out.push_back(&n);
  }
  return out;
}

// A node that is not an etcd member yet joins as a learner and is promoted once caught up.
void plan_etcd_join(Builder& b, const std::string& name) {
  b.add(ChangeKind::etcd_add, name, "", "add " + name + " to etcd as a learner");
  b.add(ChangeKind::etcd_promote, name, "", "promote " + name + " to a voting member");
}

// Machines, prepare, files and units of every node of the inventory.
void plan_nodes(Builder& b) {
  for (const auto& n : b.in.nodes) {
    if (n.leaving) continue;
    const std::string& name = n.node.name;
    if (!n.machine) b.add(ChangeKind::create_machine, name, "", "create the machine of " + name);
    const NodeObservation& s = n.seen;
    // A node not observed (new, or not answering) is planned as new: everything is written and
    // started; `up` observes it again once it answers and does only what is then missing. A
    // machine still to be made from pgha's baked Docker image needs no prepare: the image holds the
    // packages and the Patroni fix, and its stock services wait for pgha's config
    // (templates/docker/Dockerfile.mustache).
    const bool baked =
        b.in.inv.provider.type == ProviderType::docker && b.in.inv.provider.docker.bake_packages;
    bool prepare = (!s.valid && !(baked && !n.machine)) || (s.valid && !s.dpkg_clean);
    if (s.valid) {
      for (const auto& p : node_packages(n.node, b.in.inv.postgres_version)) prepare |= !s.installed.count(p);
      prepare |= has_role(n.node, Role::patroni) &&
                 ((s.stock_postgres && !stock_cluster_kept(s)) || !s.patroni_fixed);
      prepare |= has_role(n.node, Role::etcd) && s.stock_etcd;
      for (const auto& st : stock_services())
        prepare |= has_role(n.node, st.role) && s.stock_running.count(st.unit);
    }
    if (prepare)
      b.add(ChangeKind::prepare, name, "", "packages, Debian's stock services and the Patroni fix");
    // The extensions' packages, before any file names their libraries: PostgreSQL does not start
    // with a shared_preload_libraries entry it cannot load.
    if (has_role(n.node, Role::patroni)) {
      for (const auto& p : extension_packages(b.in.inv)) {
        if (!s.valid || !s.installed.count(p))
          b.add(ChangeKind::pg_package, name, p, "install " + p + " (a PostgreSQL extension's package)");
      }
    }
    std::set<Role> changed;
    for (const auto& f : n.files) {
      auto it = s.files.find(f.path);
      const bool differs = !s.valid || it == s.files.end() || it->second.hash != sha256_hex(f.content) ||
                           it->second.attrs != file_attrs_string(f.attrs);
      if (!differs) continue;
      const bool absent = !s.valid || it == s.files.end() || it->second.hash == "-";
      b.add(ChangeKind::write_file, name, f.path, (absent ? "create " : "update ") + f.path, f.secret);
      changed.insert(f.role);
    }
    for (const auto& p : s.pending) {
      if (auto role = role_from_string(p)) changed.insert(*role);
    }
    for (const auto& spec : role_catalog()) {
      if (!has_role(n.node, spec.role)) continue;
      for (const auto& unit : spec.units) {
        // As ensure_roles_units() does it: enable a disabled unit, start a stopped one, and
        // restart (or reload) a running one whose files changed, even if it also needed enabling.
        auto it = s.units.find(unit);
        const bool active = s.valid && it != s.units.end() && it->second.active;
        const bool enabled = s.valid && it != s.units.end() && it->second.enabled;
        if (!active || !enabled)
          b.add(ChangeKind::start_unit, name, unit, (active ? "enable " : "start ") + unit);
        if (active && changed.count(spec.role)) {
          const bool reload = spec.on_change == ApplyAction::reload;
          b.add(reload ? ChangeKind::reload_unit : ChangeKind::restart_unit, name, unit,
                (reload ? "reload " : "restart ") + unit);
        }
      }
    }
  }
}

// etcd: members to add (as learners, one at a time, before any removal), to promote, to remove.
void plan_etcd(Builder& b) {
  const Inventory& inv = b.in.inv;
  const ClusterView& v = b.in.view;
  const auto wanted = wanted_with(b.in, Role::etcd);
  if (!v.etcd_answered) {
    bool any_data = false;
    for (const auto& n : b.in.nodes) any_data |= n.seen.valid && n.seen.etcd_data;
    if (!any_data) {
      b.plan.etcd_bootstrap = true;
      for (const PlanNode* n : wanted)
        b.add(ChangeKind::etcd_add, n->node.name, "", "start " + n->node.name + " with the new etcd cluster");
      return;
    }
    b.plan.warnings.push_back(
        "etcd does not answer: its members are started first and the membership is planned again then");
    for (const PlanNode* n : wanted) {
      if (!n->seen.etcd_data) {
        plan_etcd_join(b, n->node.name);
      }
    }
    return;
  }
  std::set<uint64_t> matched;
  size_t healthy_staying = 0;
  for (const PlanNode* n : wanted) {
    const std::string url = etcd_peer_url(inv, n->node);
    const EtcdMember* m = nullptr;
    for (const auto& e : v.etcd) {
      if (e.name == n->node.name || (e.name.empty() && e.peer_url == url)) m = &e;
    }
    if (!m) {
      plan_etcd_join(b, n->node.name);
      continue;
    }
    matched.insert(m->id);
    // Started once, but its machine is gone or has no etcd data: made again, it joins afresh after
    // its stale member is removed (join_etcd_member).
    if (!m->name.empty() && (!n->machine || (n->seen.valid && !n->seen.etcd_data))) {
      const std::string id = etcd_id_hex(m->id);
      b.add(ChangeKind::etcd_replace, n->node.name, id,
            "remove " + n->node.name + "'s stale etcd member (" + id + "): its machine has no etcd data");
      plan_etcd_join(b, n->node.name);
      continue;
    }
    if (m->name.empty())
      b.add(ChangeKind::etcd_add, n->node.name, "",
            "start " + n->node.name + "'s etcd member (added, never started)");
    if (m->learner)
      b.add(ChangeKind::etcd_promote, n->node.name, "", "promote " + n->node.name + " to a voting member");
    if (!m->learner && m->healthy) ++healthy_staying;
  }
  // Removals, one at a time after every addition. Each must leave a quorum of the members that
  // stay, counted before the new learners are promoted (a learner that fails to catch up never votes).
  std::vector<const EtcdMember*> leaving;
  for (const auto& e : v.etcd) {
    if (!matched.count(e.id)) leaving.push_back(&e);
  }
  size_t voters = 0;
  for (const auto& e : v.etcd) voters += e.learner ? 0 : 1;
  for (const EtcdMember* e : leaving) {
    std::string who = e->name;
    if (who.empty()) {
      for (const auto& n : b.in.nodes) {
        if (etcd_peer_url(inv, n.node) == e->peer_url) who = n.node.name;
      }
    }
    const std::string id = etcd_id_hex(e->id);
    b.add(ChangeKind::etcd_remove, who.empty() ? inv.cluster_name : who, id,
          "remove etcd member " + (who.empty() ? e->peer_url : who) + " (" + id + ")");
    if (!e->learner) --voters;
  }
  const size_t promoted = wanted.size();
  if (!leaving.empty() && healthy_staying == 0) {
    b.plan.violations.push_back(
        "etcd never loses quorum: no etcd member that stays is healthy, so no member can be removed");
  } else if (!leaving.empty() && healthy_staying < voters / 2 + 1) {
    b.plan.violations.push_back("etcd never loses quorum: after the removals " +
                                std::to_string(healthy_staying) + " healthy members would remain of " +
                                std::to_string(voters) + " voters; heal the cluster first");
  }
  if (promoted > 0 && (promoted < 3 || promoted % 2 == 0) && (!leaving.empty() || v.etcd.size() != promoted))
    b.plan.warnings.push_back("etcd will have " + std::to_string(promoted) +
                              " voting members: an odd number of at least 3 tolerates a failure without "
                              "an even split");
}

// Patroni: members to add (replicas clone from the leader), a switchover when the leader leaves,
// members to stop and forget.
void plan_patroni(Builder& b) {
  const Inventory& inv = b.in.inv;
  const ClusterView& v = b.in.view;
  const auto wanted = wanted_with(b.in, Role::patroni);
  auto is_wanted = [&](const std::string& name) {
    return std::any_of(wanted.begin(), wanted.end(), [&](const PlanNode* n) { return n->node.name == name; });
  };
  const bool running = v.patroni && !v.patroni->members.empty();
  for (const PlanNode* n : wanted) {
    bool member = false;
    if (running) {
      for (const auto& m : v.patroni->members) member |= m.name == n->node.name;
    }
    if (!member)
      b.add(ChangeKind::patroni_add, n->node.name, "",
            running ? n->node.name + " joins as a replica (a base backup of the leader)"
                    : n->node.name + " joins the new Patroni cluster");
  }
  std::vector<const PatroniMember*> leaving;
  if (running) {
    for (const auto& m : v.patroni->members) {
      if (!is_wanted(m.name)) leaving.push_back(&m);
    }
  }
  if (wanted.empty() && running) {
    b.plan.violations.push_back("at least one Patroni node must remain: the inventory names none");
    return;
  }
  if (!leaving.empty() && inv.replication.mode == ReplicationMode::sync_mode && wanted.size() < 2 &&
      !b.in.force)
    b.plan.violations.push_back(
        "in sync mode a removal must leave a synchronous candidate: " + std::to_string(wanted.size()) +
        " Patroni node would remain (--force to remove anyway)");
  const PatroniMember* leader = running ? v.patroni->leader() : nullptr;
  // Replicas that leave stop first: in sync mode the leader then picks a synchronous standby among
  // the members that stay, and only a synchronous standby can take over in a switchover.
  for (const PatroniMember* m : leaving) {
    if (m != leader) b.add(ChangeKind::patroni_remove, m->name, "", "stop and disable Patroni on " + m->name);
  }
  if (leader && !is_wanted(leader->name)) {
    // The candidate: a synchronous standby that stays, else a replica that stays and replicates on
    // the leader's timeline. Its lag is not judged here: under writes a healthy replica's lag, as
    // Patroni reports it, is rarely 0 at the instant of one observation. The switchover itself waits
    // (within the Patroni gate) for a candidate with lag 0 (membership.cpp, switch_over_from).
    const PatroniMember* best = nullptr;
    for (const auto& m : v.patroni->members) {
      if (&m == leader || !is_wanted(m.name)) continue;
      const bool healthy =
          (m.state == "running" || m.state == "streaming") && m.timeline == leader->timeline && m.lag_bytes;
      if (!healthy) continue;
      if (!best || (m.role == "sync_standby" && best->role != "sync_standby")) best = &m;
    }
    if (!best) {
      b.plan.violations.push_back("the leader is never stopped: " + leader->name +
                                  " leaves the inventory but no healthy replica that stays can take over");
    } else {
      const bool sync = inv.replication.mode == ReplicationMode::sync_mode;
      b.plan.switchover_to = best->name;
      b.add(
          ChangeKind::switchover, leader->name, "",
          "switch over from " + leader->name + " to " +
              (sync && best->role != "sync_standby" ? "the synchronous standby it picks among those that stay"
                                                    : best->name) +
              " before removing " + leader->name);
      b.add(ChangeKind::patroni_remove, leader->name, "", "stop and disable Patroni on " + leader->name);
    }
  }
  // Member keys of nodes that are no longer members: deleted by compare-and-swap on what was seen.
  for (const auto& [name, rev] : v.member_keys) {
    if (is_wanted(name)) continue;
    b.add(ChangeKind::dcs_delete_key, name, patroni_member_key(inv, name),
          "delete " + name + "'s Patroni member key if it lingers");
  }
  for (const PatroniMember* m : leaving) {
    if (!v.member_keys.count(m->name))
      b.add(ChangeKind::dcs_delete_key, m->name, patroni_member_key(inv, m->name),
            "delete " + m->name + "'s Patroni member key if it lingers");
  }
}

// Each cluster-wide parameter that changes, with whether members take it by a reload or only when
// restarted (context from PostgreSQL 15's table, the same as the members' pg_settings), and the
// rolling restart that follows: for a restart parameter every member, else the members that
// already have a pending restart (a roll that was interrupted, or a node's own parameter).
void plan_parameters(Builder& b) {
  const Inventory& inv = b.in.inv;
  const ClusterView& v = b.in.view;
  if (!v.patroni || !v.patroni->leader()) return;
  bool restart = false;
  RollOptions opts;
  opts.primary = b.in.primary;
  opts.replication = inv.replication.mode;
  if (v.dcs_config) {
    for (const auto& p : parameter_changes(inv, *v.dcs_config)) {
      restart |= p.restart;
      if (lowers_standby_minimum(p.name, p.from, p.to)) opts.order = RollOrder::leader_first;
      b.add(ChangeKind::pg_parameter, inv.cluster_name, p.name,
            p.summary() + (p.restart ? ": needs a restart" : ": reload"));
    }
  }
  std::set<std::string> targets;
  for (const auto& m : v.patroni->members) {
    if (restart || m.pending_restart) targets.insert(m.name);
  }
  if (targets.empty()) return;
  std::string order;
  for (const auto& step : roll_order(*v.patroni, targets, opts)) order += (order.empty() ? "" : "; ") + step;
  b.add(ChangeKind::pg_restart, inv.cluster_name, "",
        "rolling restart: " + order +
            ". A member that does not come back stops the roll before the leader; to roll back, restore the "
            "previous values in the inventory and run up again");
}

// A Patroni that runs its module from before pgha's leader-key fix (applied by this run's prepare,
// or by an older pgha after Patroni started) gets the fix only by restarting: Patroni's own service,
// replicas one at a time, then a switchover and the old leader.
void plan_patroni_restart(Builder& b) {
  const ClusterView& v = b.in.view;
  if (!v.patroni || !v.patroni->leader()) return;
  RollOptions opts;
  opts.replication = b.in.inv.replication.mode;
  opts.action = RollAction::patroni;
  for (const auto& n : b.in.nodes) {
    if (n.leaving || !has_role(n.node, Role::patroni) || !n.seen.valid) continue;
    auto u = n.seen.units.find("patroni.service");
    const bool active = u != n.seen.units.end() && u->second.active;
    if (active && (n.seen.patroni_stale || !n.seen.patroni_fixed)) opts.members.insert(n.node.name);
  }
  if (opts.members.empty()) return;
  std::string order;
  for (const auto& step : roll_order(*v.patroni, opts.members, opts))
    order += (order.empty() ? "" : "; ") + step;
  b.add(ChangeKind::pg_restart, b.in.inv.cluster_name, "patroni",
        "rolling restart of Patroni, which runs its code from before the leader-key fix: " + order);
}

// CREATE EXTENSION for each extension a database lacks (everything, when the leader's databases
// could not be read), after the restart that preloads their libraries. An extension a database has
// but the inventory no longer lists is left in place: DROP EXTENSION can drop the data that uses it.
void plan_extensions(Builder& b) {
  const Inventory& inv = b.in.inv;
  const ClusterView& v = b.in.view;
  const bool known = v.patroni && v.patroni->leader() && v.sql_known;
  for (const auto& d : inv.databases) {
    auto have = known ? v.sql_extensions.find(d.name) : v.sql_extensions.end();
    const bool exists = have != v.sql_extensions.end();
    for (const auto& e : d.extensions) {
      if (exists && have->second.count(e)) continue;
      b.add(ChangeKind::pg_extension, inv.cluster_name, d.name + "." + e,
            "CREATE EXTENSION IF NOT EXISTS " + e + " in database " + d.name + " on the leader");
    }
    if (!exists) continue;
    for (const auto& e : have->second) {
      if (e == "plpgsql" || std::find(d.extensions.begin(), d.extensions.end(), e) != d.extensions.end())
        continue;
      b.plan.warnings.push_back("extension " + e + " in database " + d.name +
                                " is not in the inventory: it is left installed (dropping an extension can "
                                "drop the data that uses it; DROP EXTENSION by hand if that is meant)");
    }
  }
}

void plan_cluster_objects(Builder& b) {
  const Inventory& inv = b.in.inv;
  const ClusterView& v = b.in.view;
  const bool running = v.patroni && v.patroni->leader();
  if (running && v.dcs_config) {
    json patch = dcs_config_patch(inv, *v.dcs_config);
    if (!patch.empty())
      b.add(ChangeKind::dcs_patch, inv.cluster_name, patch.dump(),
            "patch Patroni's dynamic configuration: " + patch.dump());
  }
  plan_parameters(b);
  plan_patroni_restart(b);
  bool missing = !running || !v.sql_known;
  if (running && v.sql_known) {
    for (const auto& u : inv.users) missing |= !v.sql_roles.count(u.name);
    for (const auto& d : inv.databases) missing |= !v.sql_databases.count(d.name);
  }
  if (missing && (!inv.users.empty() || !inv.databases.empty()))
    b.add(ChangeKind::sql_objects, inv.cluster_name, "", "create the missing users and databases");
  plan_extensions(b);
  if (!running && !inv.nodes_with(Role::pgbackrest).empty())
    b.add(ChangeKind::backup_stanza, inv.cluster_name, inv.cluster_name, "create the pgBackRest stanza");
}

}  // namespace

std::string etcd_peer_url(const Inventory& inv, const Node& node) {
  return Reach(inv).etcd_peer_url(node.address);
}

std::string patroni_member_key(const Inventory& inv, const std::string& member) {
  return "/service/" + inv.cluster_name + "/members/" + member;
}

json dcs_config_patch(const Inventory& inv, const json& have) {
  const auto& t = inv.timing;
  const bool sync = inv.replication.mode == ReplicationMode::sync_mode;
  json want = {{"ttl", t.ttl},
               {"loop_wait", t.loop_wait},
               {"retry_timeout", t.retry_timeout},
               {"primary_start_timeout", t.primary_start_timeout},
               {"maximum_lag_on_failover", t.maximum_lag_on_failover},
               {"synchronous_mode", sync},
               {"synchronous_mode_strict", sync && inv.replication.strict},
               {"failsafe_mode", true}};
  json patch = json::object();
  for (auto& [k, val] : want.items()) {
    if (!have.is_object() || !have.contains(k) || have[k] != val) patch[k] = val;
  }
  for (const auto& p : parameter_changes(inv, have)) {
    // Patroni's PATCH /config deletes a key whose value is null.
    if (p.reset())
      patch["postgresql"]["parameters"][p.name] = nullptr;
    else
      patch["postgresql"]["parameters"][p.name] = p.to;
  }
  return patch;
}

namespace {

// A parameter's value as Patroni's GET /config holds it: a string, or a number or boolean from an
// older bootstrap.dcs.
std::optional<std::string> dcs_value(const json& have, const std::string& name) {
  if (!have.is_object() || !have.contains("postgresql") || !have["postgresql"].is_object())
    return std::nullopt;
  const json& pg = have["postgresql"];
  if (!pg.contains("parameters") || !pg["parameters"].is_object() || !pg["parameters"].contains(name))
    return std::nullopt;
  const json& v = pg["parameters"][name];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return std::string(v.get<bool>() ? "on" : "off");
  if (v.is_null()) return std::nullopt;
  return v.dump();
}

}  // namespace

std::string ParameterChange::summary() const {
  const std::string was = from.empty() ? "" : " (was " + from + ")";
  return reset() ? "reset " + name + " to its default" + was : "set " + name + " = " + to + was;
}

std::vector<ParameterChange> parameter_changes(const Inventory& inv, const json& have) {
  std::vector<ParameterChange> out;
  const auto wanted = dcs_parameters(inv);
  auto needs_restart = [](const std::string& name) {
    const PgSetting* s = find_pg_setting(name);
    return s && s->needs_restart();
  };
  for (const auto& [name, value] : wanted) {
    auto was = dcs_value(have, name);
    if (was && same_pg_value(name, *was, value)) continue;
    out.push_back(ParameterChange{name, was.value_or(""), value, needs_restart(name)});
  }
  // A parameter the inventory no longer sets leaves the dynamic configuration: declarative, and
  // shown in the plan like any other change.
  if (have.is_object() && have.contains("postgresql") && have["postgresql"].is_object() &&
      have["postgresql"].contains("parameters") && have["postgresql"]["parameters"].is_object()) {
    for (const auto& [name, v] : have["postgresql"]["parameters"].items()) {
      if (wanted.count(name) || v.is_null()) continue;
      out.push_back(ParameterChange{name, dcs_value(have, name).value_or(""), "", needs_restart(name)});
    }
  }
  return out;
}

// pgBackRest cannot change the cipher of a repository that holds a stanza: every archive.info,
// backup.info and file in it stays as it was written, and a node configured otherwise can neither
// archive nor restore. Refused before any file changes; the repository answers on any pgBackRest node.
void plan_backup_cipher(Builder& b) {
  const std::string& wanted = b.in.inv.backup.cipher_type;
  for (const auto& n : b.in.nodes) {
    if (n.leaving || !n.seen.valid || n.seen.repo_cipher.empty() || n.seen.repo_cipher == wanted) continue;
    b.plan.violations.push_back(
        "the backup repository of stanza " + b.in.inv.cluster_name + " is " +
        (n.seen.repo_cipher == "none" ? std::string("not encrypted")
                                      : "encrypted (" + n.seen.repo_cipher + ")") +
        " but the inventory asks for " + (wanted == "none" ? std::string("none") : wanted) +
        ": pgBackRest cannot change an existing repository's cipher (keep backup.encryption as it was; "
        "another cipher needs a new, empty repository)");
    return;
  }
}

// TLS is set when a cluster is made. Moving a running cluster between plaintext and TLS takes an order
// of its own (etcd serving both schemes, peer URLs updated member by member, Patroni and HAProxy
// switched together) that `up` does not do yet: refused, naming the node, before anything changes.
void plan_tls_change(Builder& b) {
  const std::string wanted = b.in.inv.tls.enabled ? "https" : "http";
  for (const auto& n : b.in.nodes) {
    if (n.leaving || !n.seen.valid || !n.seen.etcd_data || n.seen.etcd_scheme.empty() ||
        n.seen.etcd_scheme == wanted)
      continue;
    b.plan.violations.push_back(
        b.in.inv.tls.enabled
            ? "TLS is set when a cluster is made: tls.enabled is true but the running cluster is plaintext "
              "(etcd "
              "on " +
                  n.node.name +
                  " serves http); converting a running cluster to TLS is not supported yet "
                  "(keep tls.enabled: false, or make the cluster anew)"
            : "TLS is never turned off by an inventory edit: the running cluster uses TLS (etcd on " +
                  n.node.name + " serves https) but tls.enabled is false");
    return;
  }
}

// Debian's stock cluster is dropped when pgha takes a node over, but never one that holds databases:
// that is an operator's PostgreSQL, and `up` refuses before it changes anything, naming the cluster
// and the databases. --adopt-stock-cluster keeps it instead, stopped and disabled.
void plan_stock_cluster(Builder& b) {
  const std::string cluster = std::to_string(b.in.inv.postgres_version) + "/main";
  for (const auto& n : b.in.nodes) {
    if (n.leaving || !n.seen.valid || !has_role(n.node, Role::patroni) || !stock_cluster_in_use(n.seen))
      continue;
    std::string names;
    int unnamed = 0;
    for (const auto& d : n.seen.stock_databases) {
      if (d.empty()) {
        ++unnamed;
        continue;
      }
      names += (names.empty() ? "" : ", ") + d;
    }
    if (unnamed > 0)
      names += (names.empty() ? "" : ", and ") + std::to_string(unnamed) +
               " more (the cluster is stopped: only their directories are seen)";
    if (b.in.stock == StockCluster::adopt) {
      b.plan.warnings.push_back(n.node.name + ": Debian's stock PostgreSQL cluster " + cluster +
                                " holds databases (" + names +
                                "): it is stopped and disabled (start.conf), and its data kept");
      continue;
    }
    b.plan.violations.push_back(
        n.node.name + ": Debian's stock PostgreSQL cluster " + cluster + " holds databases (" + names +
        "): pgha replaces the stock cluster and will not drop one in use; move those databases, or run "
        "again with --adopt-stock-cluster to stop it, disable it (start.conf) and keep its data");
  }
}

Plan compute_plan(const PlanInput& in) {
  Builder b{in, {}};
  plan_nodes(b);
  plan_etcd(b);
  plan_patroni(b);
  plan_backup_cipher(b);
  plan_stock_cluster(b);
  plan_tls_change(b);
  // In execution order: etcd members leave after Patroni no longer runs on them.
  std::stable_partition(b.plan.changes.begin(), b.plan.changes.end(),
                        [](const Change& c) { return c.kind != ChangeKind::etcd_remove; });
  plan_cluster_objects(b);
  for (const auto& n : in.nodes) {
    if (n.leaving && n.machine)
      b.add(ChangeKind::remove_machine, n.node.name, "", "remove the machine of " + n.node.name);
  }
  return std::move(b.plan);
}

json plan_json(const Plan& plan) {
  json changes = json::array();
  for (const auto& c : plan.changes) {
    json j = {{"kind", to_string(c.kind)}, {"node", c.node}, {"summary", c.summary}};
    if (!c.target.empty()) j["target"] = c.target;
    if (auto r = plan.routes.find(c.node); c.kind == ChangeKind::create_machine && r != plan.routes.end())
      j["route"] = r->second;
    changes.push_back(std::move(j));
  }
  return json{{"changes", changes}, {"warnings", plan.warnings}};
}

std::string format_plan(const Plan& plan, const std::map<std::string, std::string>& diffs) {
  std::ostringstream out;
  for (const auto& w : plan.warnings) out << "warning: " << w << "\n";
  if (plan.changes.empty()) {
    out << "no changes\n";
    return out.str();
  }
  out << plan.changes.size() << " changes:\n";
  size_t width = 0;
  for (const auto& c : plan.changes) width = std::max(width, c.node.size());
  for (const auto& c : plan.changes) {
    out << "  " << c.node << std::string(width - c.node.size() + 2, ' ') << c.summary;
    if (auto r = plan.routes.find(c.node); c.kind == ChangeKind::create_machine && r != plan.routes.end())
      out << ": " << r->second;
    if (c.kind == ChangeKind::write_file && c.secret) out << " (holds secrets: changed, not shown)";
    out << "\n";
    auto d = diffs.find(change_key(c));
    if (d != diffs.end() && !c.secret) {
      std::istringstream lines(d->second);
      std::string line;
      while (std::getline(lines, line)) out << "      " << line << "\n";
    }
  }
  return out.str();
}

Result<std::vector<EtcdMember>> parse_etcd_members(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("members") || !j["members"].is_array())
    return Error(ErrorKind::bad_input, "etcd's member list is not the expected JSON");
  std::vector<EtcdMember> out;
  for (const auto& m : j["members"]) {
    EtcdMember e;
    if (m.contains("ID") && m["ID"].is_number_unsigned())
      e.id = m["ID"].get<uint64_t>();
    else if (m.contains("ID") && m["ID"].is_number_integer())
      e.id = static_cast<uint64_t>(m["ID"].get<int64_t>());
    e.name = m.value("name", "");
    if (m.contains("peerURLs") && m["peerURLs"].is_array() && !m["peerURLs"].empty() &&
        m["peerURLs"][0].is_string())
      e.peer_url = m["peerURLs"][0].get<std::string>();
    if (m.contains("clientURLs") && m["clientURLs"].is_array() && !m["clientURLs"].empty() &&
        m["clientURLs"][0].is_string())
      e.client_url = m["clientURLs"][0].get<std::string>();
    e.learner = m.value("isLearner", false);
    out.push_back(std::move(e));
  }
  return out;
}

std::set<std::string> parse_etcd_health(const std::string& text) {
  std::set<std::string> out;
  auto j = json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    if (e.is_object() && e.value("health", false)) out.insert(e.value("endpoint", ""));
  }
  return out;
}

std::map<std::string, int64_t> parse_dcs_keys(const std::string& text, const std::string& prefix) {
  std::map<std::string, int64_t> out;
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("kvs") || !j["kvs"].is_array()) return out;
  for (const auto& kv : j["kvs"]) {
    std::string key = base64_decode(kv.value("key", ""));
    if (key.rfind(prefix, 0) != 0) continue;
    out[key.substr(prefix.size())] = kv.value("mod_revision", int64_t{0});
  }
  return out;
}

}  // namespace pgha
