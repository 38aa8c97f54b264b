// `pgha backup`, `pgha backup list` and `pgha restore`: pgBackRest through the cluster's leader.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "roles/backup.hpp"
#include "roles/parallel.hpp"
#include "roles/remote.hpp"
#include "roles/restore.hpp"
#include "roles/restore_drill.hpp"
#include "roles/restore_steps.hpp"
#include "roles/serial_shell.hpp"
#include "roles/status.hpp"

namespace pgha {
namespace {

struct BackupArgs {
  std::string type = "full";
};

struct RestoreArgs {
  std::string to;
  bool latest = false;
  std::string backup;
  bool dry_run = false;
  bool yes = false;
  bool keep_old = false;
};

// The cluster's nodes, each with a shell (every machine must run and answer). With
// MissingMachines::leave_out a node whose machine the provider does not list at all (destroyed behind
// pgha's back) is left out of `nodes` and named in `missing`; otherwise connecting to it fails.
enum class MissingMachines { refuse, leave_out };

struct Connected {
  ResolvedSecrets secrets;
  std::vector<NodeHandle> nodes;
  std::vector<Machine> machines;
  std::vector<std::string> missing;
};

Result<std::unique_ptr<Connected>> connect_nodes(ClusterHandles& c, const std::string& inventory_path,
                                                 MissingMachines policy = MissingMachines::refuse) {
  auto out = std::make_unique<Connected>();
  auto secrets = c.state.resolve_secrets(c.inv);
  if (!secrets) return secrets.error();
  out->secrets = std::move(secrets.value());
  auto machines = c.provider->list(c.inv);
  if (!machines) return machines.error();
  out->machines = *machines;
  if (std::string msg = not_running_message(c.inv, *machines, inventory_path); !msg.empty())
    return Error(ErrorKind::remote_failure, msg);
  for (const auto& node : c.inv.nodes) {
    NodeHandle h;
    h.node = &node;
    bool listed = false;
    for (const auto& m : *machines) {
      if (m.node == node.name) h.machine = m, listed = true;
    }
    if (!listed && policy == MissingMachines::leave_out) {
      out->missing.push_back(node.name);
      continue;
    }
    out->nodes.push_back(std::move(h));
  }
  ShellFactory factory = make_ssh_factory(c.state, 30000);
  Status s = for_each_parallel<NodeHandle>(out->nodes, [&](NodeHandle& n) -> Status {
    auto sh = factory(n.machine);
    if (!sh) return std::move(sh.error()).with("step connect").with("host " + n.node->name);
    n.shell = std::make_unique<SerialShell>(std::move(sh.value()));
    return {};
  });
  if (!s) return s.error();
  return out;
}

// A node with pgBackRest to ask the repository through: the leader when it has the role, else the
// first that has it.
NodeHandle* repository_node(EngineContext& ctx, NodeHandle* leader) {
  if (leader && has_role(*leader->node, Role::pgbackrest)) return leader;
  for (auto& n : ctx.nodes) {
    if (has_role(*n.node, Role::pgbackrest)) return &n;
  }
  return nullptr;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

int cmd_backup(const GlobalOptions& g, const BackupArgs& a) {
  auto type = backup_type_from_string(a.type);
  if (!type) {
    std::cerr << "pgha: error: --type " << a.type << ": expected full, diff or incr\n";
    return 2;
  }
  int rc = 0;
  auto c = open_cluster(g, &rc);
  if (!c) return rc;
  auto progress = progress_for(g);
  auto conn = connect_nodes(*c, g.inventory);
  if (!conn) return report_error(conn.error());
  EngineContext ctx{c->inv, (*conn)->secrets, *progress, (*conn)->nodes, GateTimeouts{}};
  std::string why;
  NodeHandle* leader = find_leader(ctx, &why);
  if (!leader) return report_error(Error(ErrorKind::remote_failure, "no leader to back up: " + why));
  if (!has_role(*leader->node, Role::pgbackrest))
    return report_error(
        Error(ErrorKind::bad_input, "the leader " + leader->node->name + " has no pgbackrest role"));
  progress->phase_begin("backup");
  progress->node_step(leader->node->name, std::string("pgbackrest:backup ") + backup_type_name(*type));
  const auto started = std::chrono::steady_clock::now();
  auto set = take_backup(*leader->shell, c->inv.cluster_name, *type);
  const double took = seconds_since(started);
  progress->phase_end("backup", set.ok());
  if (!set) {
    progress->node_failed(leader->node->name, "pgbackrest:backup", set.error().message);
    progress->finish();
    return report_error(std::move(set.error()).with("host " + leader->node->name));
  }
  progress->node_done(leader->node->name, true);
  progress->finish();
  if (g.output == "json") {
    nlohmann::ordered_json j{{"label", set->label},           {"type", set->type},
                             {"node", leader->node->name},    {"start", format_utc(set->start)},
                             {"stop", format_utc(set->stop)}, {"size", set->size},
                             {"repo_size", set->repo_size},   {"duration_s", took}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << set->type << " backup " << set->label << " on " << leader->node->name << ": "
              << format_bytes(set->size) << " (" << format_bytes(set->repo_size) << " stored) in "
              << fixed1(took) << " s\n";
  }
  return 0;
}

// The leader's view of its archive: the time it last archived a segment (epoch seconds).
std::optional<int64_t> last_archived_time(NodeHandle* leader) {
  if (!leader) return std::nullopt;
  auto r =
      run_sql(*leader, "archiver",
              "SELECT coalesce(extract(epoch from last_archived_time)::bigint, 0) FROM pg_stat_archiver;");
  if (!r) return std::nullopt;
  try {
    int64_t v = std::stoll(trim(r->out));
    if (v > 0) return v;
  } catch (...) {
  }
  return std::nullopt;
}

int cmd_backup_list(const GlobalOptions& g) {
  int rc = 0;
  auto c = open_cluster(g, &rc);
  if (!c) return rc;
  auto progress = progress_for(g);
  auto conn = connect_nodes(*c, g.inventory);
  if (!conn) return report_error(conn.error());
  EngineContext ctx{c->inv, (*conn)->secrets, *progress, (*conn)->nodes, GateTimeouts{}};
  NodeHandle* leader = find_leader(ctx);
  NodeHandle* repo = repository_node(ctx, leader);
  if (!repo) return report_error(Error(ErrorKind::bad_input, "no node has the pgbackrest role"));
  auto info = read_stanza_info(*repo->shell, c->inv.cluster_name);
  if (!info) return report_error(std::move(info.error()).with("host " + repo->node->name));
  progress->finish();
  RecoveryWindow w = recovery_window(*info, last_archived_time(leader));
  if (g.output == "json") {
    std::cout << backup_list_json(*info, w).dump(2) << "\n";
  } else {
    std::cout << format_backup_list(*info, w);
  }
  return 0;
}

// The node the drill restores onto: a replica with pgBackRest when there is one (the copy costs it
// disk and I/O, not the leader), else the leader.
NodeHandle* drill_node(EngineContext& ctx, NodeHandle* leader) {
  for (auto& n : ctx.nodes) {
    if (&n != leader && n.shell && has_role(*n.node, Role::pgbackrest) && has_role(*n.node, Role::patroni))
      return &n;
  }
  return leader && has_role(*leader->node, Role::pgbackrest) ? leader : nullptr;
}

}  // namespace

int cmd_check_restore(const GlobalOptions& g) {
  int rc = 0;
  auto c = open_cluster(g, &rc);
  if (!c) return rc;
  auto progress = progress_for(g);
  auto conn = connect_nodes(*c, g.inventory);
  if (!conn) return report_error(conn.error());
  EngineContext ctx{c->inv, (*conn)->secrets, *progress, (*conn)->nodes, GateTimeouts{}};
  std::string why;
  NodeHandle* leader = find_leader(ctx, &why);
  if (!leader) return report_error(Error(ErrorKind::remote_failure, "no leader to archive through: " + why));
  if (!has_role(*leader->node, Role::pgbackrest))
    return report_error(
        Error(ErrorKind::bad_input, "the leader " + leader->node->name + " has no pgbackrest role"));
  NodeHandle* node = drill_node(ctx, leader);
  progress->phase_begin("check restore");
  progress->node_step(node->node->name, "check-restore: restore and replay the archive");
  auto rep = run_restore_drill(*leader->shell, *node->shell, node->node->name, c->inv.cluster_name,
                               cluster_bin_dir(c->inv), 600);
  progress->phase_end("check restore", rep.ok());
  progress->finish();
  if (!rep) {
    if (rep.error().kind != ErrorKind::conflict)
      return report_error(std::move(rep.error()).with("host " + node->node->name));
    if (g.output == "json") {
      nlohmann::ordered_json j{{"pass", false}, {"node", node->node->name}, {"problem", rep.error().message}};
      std::cout << j.dump(2) << "\n";
    }
    std::cerr << "pgha: check restore FAILED: " << rep.error().describe() << "\n";
    return 1;
  }
  if (g.output == "json") {
    nlohmann::ordered_json j{{"pass", true},
                             {"node", rep->node},
                             {"backup", rep->backup},
                             {"backup_size", rep->backup_size},
                             {"wal_max", rep->wal_max},
                             {"replayed_to", format_lsn(rep->redo_done)},
                             {"databases", rep->databases},
                             {"duration_s", rep->seconds}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "restore drill on " << rep->node << ": backup " << rep->backup << " ("
              << format_bytes(rep->backup_size) << ") restored, the archive replayed to "
              << format_lsn(rep->redo_done) << " (its newest segment " << rep->wal_max << "), "
              << rep->databases.size() << " databases answer; the copy removed; " << fixed1(rep->seconds)
              << " s\nPASS\n";
  }
  return 0;
}

namespace {

std::string new_restore_id() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return buf;
}

// The backup pgBackRest will start from for a target (its own rule, restore.c in 2.45).
std::string backup_for(const RestoreTarget& t, const StanzaInfo& info) {
  if (info.backups.empty()) return "";
  if (t.kind == RestoreKind::backup) return t.label;
  if (t.kind == RestoreKind::latest) return info.backups.back().label;
  for (auto it = info.backups.rbegin(); it != info.backups.rend(); ++it) {
    if (it->stop < t.time_us / 1000000) return it->label;
  }
  return info.backups.front().label;
}

bool confirm(const std::string& cluster) {
  std::cerr
      << "This replaces the data of every node of " << cluster
      << " (the old data directories are kept aside until it succeeds).\nType the cluster name to go on: "
      << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return trim(answer) == cluster;
}

int cmd_restore(const GlobalOptions& g, const RestoreArgs& a) {
  const int chosen = (a.to.empty() ? 0 : 1) + (a.latest ? 1 : 0) + (a.backup.empty() ? 0 : 1);
  if (chosen != 1) {
    std::cerr << "pgha: error: restore needs exactly one of --to TIMESTAMP, --latest, --backup LABEL\n";
    return 2;
  }
  RestoreTarget target;
  if (!a.to.empty()) {
    auto t = parse_target_time(a.to);
    if (!t) return report_error(t.error());
    target.kind = RestoreKind::time;
    target.time_us = *t;
  } else if (!a.backup.empty()) {
    target.kind = RestoreKind::backup;
    target.label = a.backup;
  }
  int rc = 0;
  auto c = open_cluster(g, &rc);
  if (!c) return rc;
  auto store = file_restore_records(c->state.path());
  auto recorded = store->load();
  if (!recorded) return report_error(recorded.error());
  auto resumed = resume_or_refuse(*recorded, target);
  if (!resumed) return report_error(resumed.error());

  auto progress = progress_for(g);
  std::vector<std::string> names;
  for (const auto& n : c->inv.nodes) names.push_back(n.name);
  progress->set_nodes(names);
  // A node whose machine is gone (destroyed with its volumes) is left out of the preflight and made
  // again by `up` before the stages, which then clone it from the restored leader like the others.
  auto conn = connect_nodes(*c, g.inventory, MissingMachines::leave_out);
  if (!conn) return report_error(conn.error());
  const std::vector<std::string> missing = (*conn)->missing;
  std::string missing_list;
  for (const auto& m : missing) missing_list += (missing_list.empty() ? "" : ", ") + m;
  EngineContext ctx{c->inv, (*conn)->secrets, *progress, (*conn)->nodes, GateTimeouts{}};

  // Preflight: nothing below changes the cluster's data until the plan is printed and confirmed.
  RestoreRecord rec;
  std::string plan;
  if (*resumed) {
    rec = **resumed;
    plan = "resuming the restore of " + c->inv.cluster_name + " " + describe_target(rec.target) + " on " +
           rec.node + " after stage " + stage_name(rec.stage) + "\n";
  } else {
    progress->phase_begin("preflight");
    NodeHandle* leader = find_leader(ctx);
    NodeHandle* repo = repository_node(ctx, leader);
    if (!repo) return report_error(Error(ErrorKind::bad_input, "no node has the pgbackrest role"));
    // A live leader proves how far the archive reaches: its clock, then pgBackRest's check (which
    // switches WAL and waits until that segment is archived).
    std::optional<int64_t> archived_until;
    if (leader && has_role(*leader->node, Role::pgbackrest)) {
      auto now = run_sql(*leader, "preflight:now", "SELECT extract(epoch from now())::bigint;");
      auto check =
          leader->shell->run(pgbackrest_command(c->inv.cluster_name) + "--log-level-console=warn check");
      if (now && check && check->exit_code == 0) {
        try {
          archived_until = std::stoll(trim(now->out));
        } catch (...) {
        }
      } else {
        progress->warn("pgbackrest check failed on the leader " + leader->node->name +
                       ": the archive's end is not known; recovery ends at the newest archived WAL");
      }
    }
    auto info = read_stanza_info(*repo->shell, c->inv.cluster_name);
    progress->phase_end("preflight", info.ok());
    if (!info) {
      progress->finish();
      return report_error(std::move(info.error()).with("host " + repo->node->name));
    }
    RecoveryWindow w = recovery_window(*info, archived_until);
    if (auto s = check_target(target, *info, w); !s) {
      progress->finish();
      return report_error(s.error());
    }
    rec.id = new_restore_id();
    rec.target = target;
    rec.node = leader ? leader->node->name : "";
    if (rec.node.empty()) {
      for (const auto& h : (*conn)->nodes) {
        const Node& n = *h.node;
        if (has_role(n, Role::patroni) && has_role(n, Role::pgbackrest)) {
          rec.node = n.name;
          break;
        }
      }
    }
    if (rec.node.empty())
      return report_error(Error(ErrorKind::bad_input, "no node has both patroni and pgbackrest"));
    std::string others;
    for (const auto& n : c->inv.nodes) {
      if (n.name != rec.node && has_role(n, Role::patroni)) others += (others.empty() ? "" : ", ") + n.name;
    }
    plan = "restore of " + c->inv.cluster_name + " " + describe_target(target) + "\n" +
           "  repository: stanza " + info->name + ", " + std::to_string(info->backups.size()) + " backups, " +
           describe_window(w) + "\n" + "  from backup: " + backup_for(target, *info) + "\n" +
           "  restored on: " + rec.node + (leader ? " (the leader now)" : "") + ", which then leads; " +
           (others.empty() ? "no replicas" : others) + " cloned from it\n" +
           "  old data directories: moved to " + moved_aside_path(c->inv, rec.id) +
           " on each node, removed after success" + (a.keep_old ? " unless kept (--keep-old)" : "") + "\n" +
           "  then: pgbackrest check on the new timeline, a new full backup, every health gate of up\n";
  }
  if (!missing.empty()) {
    plan += "  missing machines: " + missing_list +
            "; made again first by up (with the cluster as it is now), then restored like the others\n";
  }
  progress->finish();
  std::cout << plan << std::flush;
  if (a.dry_run) {
    std::cout << "dry run: nothing changed\n";
    return 0;
  }
  if (!a.yes) {
    if (!isatty(STDIN_FILENO)) {
      std::cerr << "pgha: error: restore replaces every node's data; without a terminal it needs --yes\n";
      return 2;
    }
    if (!confirm(c->inv.cluster_name)) {
      std::cerr << "pgha: restore not confirmed; nothing changed\n";
      return 1;
    }
  }

  auto run_progress = progress_for(g);
  run_progress->set_nodes(names);
  auto templates = templates_for(g);
  auto verify = [&]() -> Status {
    UpDeps deps{*c->provider,  make_ssh_factory(c->state), *templates, *run_progress, c->state,
                GateTimeouts{}};
    auto report = cluster_up(c->inv, deps);
    if (!report) return report.error();
    return {};
  };
  if (!missing.empty()) {
    // The machines first: every stage below works on every node. A run killed here finds them made
    // next time, and its preflight then sees the whole cluster.
    run_progress->info("making the missing machines again with up: " + missing_list);
    if (auto s = verify(); !s) {
      run_progress->finish();
      return report_error(std::move(s.error()).with("step remake-missing-machines"));
    }
    conn = connect_nodes(*c, g.inventory);
    if (!conn) return report_error(conn.error());
  }
  EngineContext run_ctx{c->inv, (*conn)->secrets, *run_progress, (*conn)->nodes, GateTimeouts{}};
  auto steps = node_restore_steps(run_ctx, verify);
  const auto started = std::chrono::steady_clock::now();
  Status s =
      run_restore_stages(rec, *steps, *store, *run_progress, a.keep_old ? OldData::keep : OldData::remove);
  if (!s) {
    FailureSite site = failure_site(s.error());
    run_progress->node_failed(site.node, site.step, s.error().message);
    run_progress->finish();
    std::cerr << "pgha: the restore stopped; its target and stage are kept in " << c->state.path()
              << "/restore.json: the same command resumes it\n";
    return report_error(s.error());
  }
  for (const auto& n : names) run_progress->node_done(n, true);
  run_progress->finish();
  std::cout << "restored " << c->inv.cluster_name << " " << describe_target(rec.target) << " in "
            << fixed1(seconds_since(started)) << " s; " << rec.node << " leads";
  if (a.keep_old) std::cout << "; old data kept in " << moved_aside_path(c->inv, rec.id) << " on each node";
  std::cout << "\n";
  return 0;
}

}  // namespace

void register_backup_commands(CLI::App& app, GlobalOptions& g, std::function<int()>& handler) {
  static BackupArgs backup;  // outlive the parse: the handler runs after it
  static RestoreArgs restore;
  CLI::App* b =
      app.add_subcommand("backup", "take a pgBackRest backup on the leader now (list: every backup)");
  add_common_options(b, g);
  b->add_option("--type", backup.type, "full | diff | incr")
      ->check(CLI::IsMember({"full", "diff", "incr"}))
      ->capture_default_str();
  CLI::App* list =
      b->add_subcommand("list", "every backup (label, type, start, stop, size) and the recoverable window");
  add_common_options(list, g);
  list->callback([&handler, &g] { handler = [&g] { return cmd_backup_list(g); }; });
  b->callback([&handler, &g, list] {
    if (list->parsed()) return;
    handler = [&g] { return cmd_backup(g, backup); };
  });

  CLI::App* r = app.add_subcommand(
      "restore", "point-in-time recovery of the whole cluster from its pgBackRest repository");
  add_common_options(r, g);
  r->add_option("--to", restore.to,
                "the target time: 'YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM]' (UTC without a zone)");
  r->add_flag("--latest", restore.latest, "replay every archived WAL");
  r->add_option("--backup", restore.backup, "restore this backup set (its label) to its consistent point");
  r->add_flag("--dry-run", restore.dry_run, "preflight and print the plan; change nothing");
  r->add_flag("--yes", restore.yes, "do not ask for confirmation (required without a terminal)");
  r->add_flag("--keep-old", restore.keep_old, "keep the old data directories after success");
  r->callback([&handler, &g] { handler = [&g] { return cmd_restore(g, restore); }; });
}

}  // namespace pgha
