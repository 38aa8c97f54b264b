#include "roles/restore_steps.hpp"

#include <chrono>

#include "roles/backup.hpp"
#include "roles/cluster_view.hpp"
#include "roles/remote.hpp"

namespace pgha {
namespace {

constexpr std::chrono::milliseconds kPoll(1000);

class NodeRestoreSteps : public RestoreSteps {
 public:
  NodeRestoreSteps(EngineContext& ctx, std::function<Status()> verify, int recovery_timeout_s)
      : ctx_(ctx), verify_(std::move(verify)), recovery_timeout_s_(recovery_timeout_s) {}

  Status stop_cluster(const RestoreRecord& r) override {
    // Paused, Patroni leaves PostgreSQL alone when it stops: nothing fails over while the nodes go
    // down one by one. A cluster already down (no leader answers) has nothing to pause.
    if (NodeHandle* leader = find_leader(ctx_)) {
      auto paused = leader->shell->run(
          "curl -s -f --max-time 10 -K - -X PATCH -H 'Content-Type: application/json' --data-binary "
          "'{\"pause\":true}' " +
              Reach(ctx_.inv).patroni_curl(leader->node->address, "/config"),
          patroni_admin_curl_config(ctx_.secrets));
      if (paused && paused->exit_code == 0) ctx_.progress.node(leader->node->name, "Patroni paused");
    }
    auto all = patroni_nodes();
    if (auto s = for_each_node(all,
                               [&](NodeHandle& n) -> Status {
                                 ctx_.progress.node_step(n.node->name, "stop:patroni");
                                 auto st = must(*n.shell, "stop:patroni", "systemctl stop patroni.service");
                                 if (!st) return std::move(st.error()).with("host " + n.node->name);
                                 return {};
                               });
        !s)
      return s;
    // The replicas' PostgreSQL first, then the node that led (the restore's own node).
    std::vector<NodeHandle*> replicas;
    NodeHandle* leader = nullptr;
    for (NodeHandle* n : all) {
      if (n->node->name == r.node) {
        leader = n;
      } else {
        replicas.push_back(n);
      }
    }
    auto stop_pg = [&](NodeHandle& n) -> Status {
      ctx_.progress.node_step(n.node->name, "stop:postgres");
      auto st =
          must(*n.shell, "stop:postgres",
               "if " + as_postgres(pg_ctl() + " -D " + data_q() + " status") + " >/dev/null 2>&1; then " +
                   as_postgres(pg_ctl() + " -D " + data_q() + " stop -m fast -w -t 600") + "; fi");
      if (!st) return std::move(st.error()).with("host " + n.node->name);
      ctx_.progress.node(n.node->name, "PostgreSQL stopped");
      return {};
    };
    if (auto s = for_each_node(replicas, stop_pg); !s) return s;
    if (leader) return stop_pg(*leader);
    return {};
  }

  Status clear_dcs(const RestoreRecord&) override {
    std::string last = "no etcd node answers";
    for (NodeHandle* n : nodes_with_role(ctx_, Role::etcd)) {
      auto r = n->shell->run(etcdctl(ctx_.inv, *n->node) + " del --prefix " +
                             shell_quote("/service/" + ctx_.inv.cluster_name + "/"));
      if (r && r->exit_code == 0) {
        ctx_.progress.node(n->node->name, "removed the cluster's keys from etcd");
        return {};
      }
      if (r) last = tail_lines(r->err, 3);
    }
    return Error(ErrorKind::remote_failure, "cannot clear the cluster's DCS keys: " + last)
        .with("step dcs:clear");
  }

  Status restore_data(const RestoreRecord& r) override {
    NodeHandle* n = handle(r.node);
    if (!n) return Error(ErrorKind::bad_input, "the restore's node " + r.node + " is not in the inventory");
    const std::string marker = "/var/lib/pgha/restore-" + r.id;
    const std::string aside = shell_quote(moved_aside_path(ctx_.inv, r.id));
    const std::string data = data_q();
    ctx_.progress.node_step(n->node->name, "restore:pgbackrest");
    // The original directory is moved aside once; anything at the data path after that is this
    // restore's own partial work, which starts over.
    std::string cmd = "set -e; mkdir -p /var/lib/pgha; if [ ! -e " + marker + ".restored ]; then " +
                      "if [ ! -e " + aside + " ]; then if [ -e " + data + " ]; then mv " + data + " " +
                      aside + "; else mkdir -p " + aside + "; fi; fi; rm -rf " + data +
                      "; install -d -o postgres -g postgres -m 0700 " + data + "; " +
                      pgbackrest_command(ctx_.inv.cluster_name) + "--log-level-console=warn " +
                      restore_options(r.target) + " restore; touch " + marker + ".restored; fi";
    if (auto st = must(*n->shell, "restore:pgbackrest", cmd); !st)
      return std::move(st.error()).with("host " + r.node);
    auto promoted = n->shell->run("test -e " + marker + ".promoted");
    if (!promoted) return promoted.error();
    if (promoted->exit_code == 0) return {};

    // PostgreSQL alone replays the archive to the target and promotes (recovery_target_action); on
    // the unix socket only, so nothing connects before the cluster is back under Patroni.
    ctx_.progress.node_step(n->node->name, "restore:recover");
    const std::string log = "/var/log/postgresql/pgha-restore-" + r.id + ".log";
    if (auto st =
            must(*n->shell, "restore:start",
                 "if ! " + as_postgres(pg_ctl() + " -D " + data + " status") + " >/dev/null 2>&1; then " +
                     as_postgres(pg_ctl() + " -D " + data + " -l " + log +
                                 " -o \"-c listen_addresses=''\" -W start") +
                     "; fi");
        !st)
      return std::move(st.error()).with("host " + r.node);
    std::string stopped;
    auto promoted_now =
        wait_until_promoted(*n->shell, "PostgreSQL on " + r.node + " reaching the target and promoting",
                            pg_ctl(), data, "/var/run/postgresql", ctx_.inv.ports.postgres, log,
                            std::chrono::seconds(recovery_timeout_s_), kPoll, &stopped);
    if (!promoted_now) return std::move(promoted_now.error()).with("host " + r.node);
    if (!*promoted_now)
      return Error(ErrorKind::remote_failure, "PostgreSQL stopped during recovery: " + stopped)
          .with("step restore:recover")
          .with("host " + r.node);
    ctx_.progress.node(n->node->name, "recovered " + describe_target(r.target) + " and promoted");
    // Stopped cleanly, without the recovery settings pgBackRest wrote to postgresql.auto.conf: Patroni
    // starts it next, and a leftover recovery target would apply to its standby start.
    if (auto st = must(*n->shell, "restore:stop",
                       "set -e; " + as_postgres(pg_ctl() + " -D " + data + " stop -m fast -w -t 600") +
                           "; sed -i -e '/^restore_command *=/d' -e '/^recovery_target[a-z_]* *=/d' " + data +
                           "/postgresql.auto.conf; touch " + marker + ".promoted");
        !st)
      return std::move(st.error()).with("host " + r.node);
    return {};
  }

  Status start_leader(const RestoreRecord& r) override {
    NodeHandle* n = handle(r.node);
    if (!n) return Error(ErrorKind::bad_input, "the restore's node " + r.node + " is not in the inventory");
    ctx_.progress.node_step(r.node, "patroni:start");
    if (auto st = must(*n->shell, "patroni:start", "systemctl start patroni.service"); !st)
      return std::move(st.error()).with("host " + r.node);
    return poll_until("Patroni on " + r.node + " leading the restored data",
                      std::chrono::seconds(ctx_.timeouts.patroni_s), kPoll, [&](std::string& why) {
                        auto c = read_patroni_cluster(ctx_);
                        const PatroniMember* l = c ? c->leader() : nullptr;
                        if (l && l->name == r.node && l->state == "running") return true;
                        why = l ? "leader " + l->name + " is " + l->state : "no leader yet";
                        return false;
                      });
  }

  Status rebuild_replicas(const RestoreRecord& r) override {
    std::vector<NodeHandle*> replicas;
    for (NodeHandle* n : patroni_nodes()) {
      if (n->node->name != r.node) replicas.push_back(n);
    }
    const std::string aside = shell_quote(moved_aside_path(ctx_.inv, r.id));
    const std::string data = data_q();
    if (auto s = for_each_node(replicas,
                               [&](NodeHandle& n) -> Status {
                                 ctx_.progress.node_step(n.node->name, "replica:clone");
                                 auto st = must(*n.shell, "replica:clone",
                                                "set -e; if [ ! -e " + aside + " ]; then if [ -e " + data +
                                                    " ]; then mv " + data + " " + aside + "; else mkdir -p " +
                                                    aside + "; fi; fi; systemctl start patroni.service");
                                 if (!st) return std::move(st.error()).with("host " + n.node->name);
                                 return {};
                               });
        !s)
      return s;
    NodeHandle* leader = nullptr;
    auto all = patroni_nodes();
    return patroni_gate(ctx_, all, nullptr, leader);
  }

  Status check_archive(const RestoreRecord& r) override {
    NodeHandle* n = handle(r.node);
    if (!n) return Error(ErrorKind::bad_input, "no node " + r.node);
    auto st = must(*n->shell, "pgbackrest:check",
                   pgbackrest_command(ctx_.inv.cluster_name) + "--log-level-console=warn check");
    if (!st) return std::move(st.error()).with("host " + r.node);
    ctx_.progress.node(r.node, "WAL of the new timeline reaches the repository");
    return {};
  }

  Status full_backup(const RestoreRecord& r) override {
    NodeHandle* n = handle(r.node);
    if (!n) return Error(ErrorKind::bad_input, "no node " + r.node);
    ctx_.progress.node_step(r.node, "pgbackrest:backup");
    auto b = take_backup(*n->shell, ctx_.inv.cluster_name, BackupType::full);
    if (!b) return std::move(b.error()).with("host " + r.node);
    ctx_.progress.node(r.node, "new full backup " + b->label + " (" + format_bytes(b->size) + ")");
    return {};
  }

  Status verify(const RestoreRecord&) override { return verify_(); }

  Status drop_old_data(const RestoreRecord& r) override {
    auto all = patroni_nodes();
    const std::string aside = shell_quote(moved_aside_path(ctx_.inv, r.id));
    return for_each_node(all, [&](NodeHandle& n) -> Status {
      auto st =
          must(*n.shell, "restore:drop-old", "rm -rf " + aside + " /var/lib/pgha/restore-" + r.id + ".*");
      if (!st) return std::move(st.error()).with("host " + n.node->name);
      return {};
    });
  }

 private:
  NodeHandle* handle(const std::string& name) {
    for (auto& n : ctx_.nodes) {
      if (n.node->name == name && n.shell) return &n;
    }
    return nullptr;
  }
  std::vector<NodeHandle*> patroni_nodes() { return nodes_with_role(ctx_, Role::patroni); }
  std::string pg_ctl() const { return cluster_bin_dir(ctx_.inv) + "/pg_ctl"; }
  std::string data_q() const { return shell_quote(cluster_data_dir(ctx_.inv)); }
  static std::string as_postgres(const std::string& cmd) { return "runuser -u postgres -- " + cmd; }

  EngineContext& ctx_;
  std::function<Status()> verify_;
  int recovery_timeout_s_;
};

}  // namespace

Result<bool> wait_until_promoted(RemoteShell& sh, const std::string& what, const std::string& pg_ctl,
                                 const std::string& data, const std::string& socket_dir, int port,
                                 const std::string& log, std::chrono::seconds timeout,
                                 std::chrono::milliseconds interval, std::string* log_tail) {
  const std::string probe =
      "runuser -u postgres -- psql -X -At -h " + socket_dir + " -p " + std::to_string(port) +
      " -d postgres -c 'SELECT pg_is_in_recovery()' 2>/dev/null; runuser -u postgres -- " + pg_ctl + " -D " +
      data + " status >/dev/null 2>&1 || echo @@not-running@@; tail -n 3 " + log;
  bool stopped = false;
  Status s = poll_until(what, timeout, interval, [&](std::string& why) {
    auto q = sh.run(probe);
    if (!q) {
      why = q.error().message;
      return false;
    }
    if (q->out.rfind("f\n", 0) == 0) return true;
    if (q->out.find("@@not-running@@") != std::string::npos) {
      stopped = true;
      if (log_tail) *log_tail = tail_lines(q->out, 3);
      return true;
    }
    why = "still recovering: " + tail_lines(q->out, 1);
    return false;
  });
  if (!s) return s.error();
  return !stopped;
}

std::string cluster_data_dir(const Inventory& inv) {
  return "/var/lib/postgresql/" + std::to_string(inv.postgres_version) + "/" + inv.cluster_name;
}
std::string cluster_bin_dir(const Inventory& inv) {
  return "/usr/lib/postgresql/" + std::to_string(inv.postgres_version) + "/bin";
}
std::string moved_aside_path(const Inventory& inv, const std::string& id) {
  return cluster_data_dir(inv) + ".pgha-restore-" + id;
}

std::unique_ptr<RestoreSteps> node_restore_steps(EngineContext& ctx, std::function<Status()> verify,
                                                 int recovery_timeout_s) {
  return std::make_unique<NodeRestoreSteps>(ctx, std::move(verify), recovery_timeout_s);
}

}  // namespace pgha
