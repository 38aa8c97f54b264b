// Unit convergence and SQL helpers shared by the role phases.
#include "roles/catalog.hpp"
#include "roles/engine.hpp"
#include "roles/parallel.hpp"
#include "roles/patroni_api.hpp"
#include "roles/remote.hpp"

namespace pgha {

Status ensure_unit(NodeHandle& n, const std::string& step, const std::string& unit, bool changed,
                   bool reload_on_change) {
  const std::string u = shell_quote(unit);
  auto st = n.shell->run("systemctl is-enabled " + u + " 2>/dev/null; systemctl is-active " + u +
                         " 2>/dev/null; true");
  if (!st) return std::move(st.error()).with("step " + step).with("host " + n.node->name);
  const bool enabled = st->out.rfind("enabled", 0) == 0;
  const bool active = st->out.find("\nactive") != std::string::npos;
  if (!enabled) {
    if (auto r = must(*n.shell, step, "systemctl enable " + u); !r) return r.error();
    n.did(ChangeKind::start_unit, unit, "enabled " + unit);
  }
  if (!active) {
    if (auto r = must(*n.shell, step, "systemctl restart " + u); !r) return r.error();
    n.did(ChangeKind::start_unit, unit, "started " + unit);
  } else if (changed) {
    if (auto r =
            must(*n.shell, step, std::string("systemctl ") + (reload_on_change ? "reload " : "restart ") + u);
        !r)
      return r.error();
    n.did(reload_on_change ? ChangeKind::reload_unit : ChangeKind::restart_unit, unit,
          (reload_on_change ? "reloaded " : "restarted ") + unit);
  }
  return {};
}

Status ensure_role_units(NodeHandle& n, Role role) {
  return ensure_roles_units(n, {role});
}

Status ensure_roles_units(NodeHandle& n, const std::vector<Role>& wanted) {
  // Roles converged earlier in this run are left alone, and then nothing here writes to n: the
  // late gates call this from several threads for the same node.
  std::vector<Role> roles;
  for (Role role : wanted) {
    if (!n.applied.count(role)) roles.push_back(role);
  }
  if (roles.empty()) return {};
  if (!n.seen.valid) {
    // Without an observation (unit tests, `status`-like callers) each unit is asked on its own.
    for (Role role : roles) {
      const RoleSpec& spec = role_spec(role);
      const bool changed = n.changed.count(role) > 0;
      for (const auto& unit : spec.units) {
        Status s = ensure_unit(n, std::string(to_string(role)) + ":start", unit, changed,
                               spec.on_change == ApplyAction::reload);
        if (!s) return s;
      }
      if (changed && !spec.units.empty()) {
        if (auto s = clear_pending(n, to_string(role)); !s) return s;
      }
      n.applied.insert(role);
    }
    return {};
  }
  // From the observation: one command for every unit of these roles. systemctl enable reloads
  // systemd's configuration each time it runs, so all enables go in one call, and so on.
  std::vector<std::string> enable, restart, reload, markers;
  std::vector<std::pair<ChangeKind, std::string>> done;
  std::string step;
  for (Role role : roles) {
    const RoleSpec& spec = role_spec(role);
    const bool changed = n.changed.count(role) > 0;
    step += (step.empty() ? "" : ",") + std::string(to_string(role));
    for (const auto& unit : spec.units) {
      const UnitState st = n.seen.units[unit];
      if (!st.enabled) enable.push_back(unit);
      if (!st.active) {
        restart.push_back(unit);
        done.emplace_back(ChangeKind::start_unit, unit);
      } else if (changed) {
        const bool by_reload = spec.on_change == ApplyAction::reload;
        (by_reload ? reload : restart).push_back(unit);
        done.emplace_back(by_reload ? ChangeKind::reload_unit : ChangeKind::restart_unit, unit);
      }
    }
    if (changed && !spec.units.empty()) markers.push_back(to_string(role));
  }
  auto list = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += " " + shell_quote(s);
    return out;
  };
  std::string cmd;
  auto then = [&](const std::string& c) { cmd += (cmd.empty() ? "" : " && ") + c; };
  if (!enable.empty()) then("systemctl enable -q" + list(enable));
  if (!restart.empty()) then("systemctl restart" + list(restart));
  if (!reload.empty()) then("systemctl reload" + list(reload));
  // The pending markers go only once the work they stand for is done (see roles/files.cpp).
  if (!markers.empty()) {
    std::string rm = "rm -f";
    for (const auto& m : markers) rm += " " + shell_quote(std::string(kPendingDir) + "/" + m);
    then(rm);
  }
  if (!cmd.empty()) {
    if (auto r = must(*n.shell, step + ":start", cmd); !r) return r.error();
  }
  for (const auto& u : enable) n.did(ChangeKind::start_unit, u, "enabled " + u);
  for (const auto& [kind, u] : done) {
    const char* verb = kind == ChangeKind::start_unit    ? "started "
                       : kind == ChangeKind::reload_unit ? "reloaded "
                                                         : "restarted ";
    n.did(kind, u, verb + u);
  }
  for (const auto& u : restart) n.seen.units[u] = UnitState{true, true};
  for (const auto& u : enable) n.seen.units[u].enabled = true;
  for (Role role : roles) n.applied.insert(role);
  return {};
}

Result<CommandResult> run_sql(NodeHandle& n, const std::string& step, const std::string& sql,
                              const std::string& database) {
  return must(
      *n.shell, step,
      "runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -tA -d " + shell_quote(database) + " -f -", sql);
}

Result<CommandResult> query_tcp(NodeHandle& from, const std::string& step, const std::string& host, int port,
                                const std::string& password, const std::string& sql, const std::string& user,
                                const std::string& database) {
  // The password arrives on stdin and lives only in this shell's environment; the SQL follows it.
  return must(*from.shell, step,
              "IFS= read -r PGPASSWORD; export PGPASSWORD; PGCONNECT_TIMEOUT=5 psql -X -q -tA -v "
              "ON_ERROR_STOP=1 -h " +
                  shell_quote(host) + " -p " + std::to_string(port) + " -U " + shell_quote(user) + " -d " +
                  shell_quote(database) + " -f -",
              password + "\n" + sql);
}

std::vector<NodeHandle*> nodes_with_role(EngineContext& ctx, Role role) {
  std::vector<NodeHandle*> out;
  for (auto& n : ctx.nodes) {
    if (has_role(*n.node, role)) out.push_back(&n);
  }
  return out;
}

Status for_each_node(std::vector<NodeHandle*>& nodes, const std::function<Status(NodeHandle&)>& task) {
  return for_each_parallel<NodeHandle*>(nodes, [&](NodeHandle*& n) { return task(*n); });
}

std::string patroni_admin_curl_config(const ResolvedSecrets& secrets) {
  std::string quoted;  // a double-quoted curl config string
  for (char c : secrets.admin_password) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return "user = \"admin:" + quoted + "\"\n";
}

std::optional<PatroniCluster> read_patroni_cluster(EngineContext& ctx) {
  for (NodeHandle* n : nodes_with_role(ctx, Role::patroni)) {
    auto r =
        n->shell->run("curl -s --max-time 3 " + Reach(ctx.inv).patroni_curl(n->node->address, "/cluster"));
    if (!r || r->exit_code != 0) continue;
    auto c = parse_patroni_cluster(r->out);
    if (c) return std::move(c.value());
  }
  return std::nullopt;
}

NodeHandle* find_leader(EngineContext& ctx, std::string* why) {
  auto c = read_patroni_cluster(ctx);
  if (!c) {
    if (why) *why = "no Patroni REST API answers";
    return nullptr;
  }
  const PatroniMember* leader = c->leader();
  if (!leader) {
    if (why) *why = "no Patroni leader yet";
    return nullptr;
  }
  for (auto& m : ctx.nodes) {
    if (m.node->name == leader->name) return &m;
  }
  if (why) *why = "leader " + leader->name + " is not in the inventory";
  return nullptr;
}

}  // namespace pgha
