// `pgha guard -i INV [--dry-run]`: watches the leader every 500 ms, fences a dead one through the
// provider and releases its leader key (guard/). Every decision is one JSON line on stdout. Also the
// guard `check failover --guard` runs beside its cycles.
#include <csignal>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/ssh_factory.hpp"
#include "guard/guard_runner.hpp"
#include "net/ssh_shell.hpp"

namespace pgha {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) {
  g_stop = true;
}

}  // namespace

// SSH to the replicas for the guard: a short connect, and a command that cannot hang a round.
ShellFactory guard_ssh_factory(const StateDir& state) {
  return [key = state.private_key_path(),
          known = state.known_hosts_path()](const Machine& m) -> Result<std::unique_ptr<RemoteShell>> {
    SshOptions o = ssh_options_for(m, key, known, 3000);
    o.command_timeout_ms = 5000;
    auto shell = std::make_unique<SshShell>(o);
    if (auto s = shell->connect(); !s) return s.error();
    return std::unique_ptr<RemoteShell>(std::move(shell));
  };
}

int cmd_guard(const GlobalOptions& g, const GuardOptions& o) {
  int rc = 0;
  auto c = open_cluster(g, &rc);
  if (!c) return rc;
  auto secrets = c->state.resolve_secrets(c->inv);
  if (!secrets) return report_error(secrets.error());
  Provider& provider = *c->provider;
  guard::Settings settings = guard::settings_for(c->inv, provider.fence_support(), o.mode);
  auto print = [](const guard::Event& e) { std::cout << guard::event_json(e) << std::endl; };
  double now = guard::real_guard_clock().now();
  if (settings.fencing == guard::Fencing::observer_only) {
    print({now, "observed", "", "observer only: the " + provider.name() + " provider cannot fence", 0});
  }
  print({now, "observed", "",
         std::string(o.mode == guard::Mode::dry_run ? "dry run: " : "") + "guarding cluster " +
             c->inv.cluster_name + ", detect " + std::to_string(settings.detect_s) + " s, cooldown " +
             std::to_string(static_cast<int>(settings.cooldown_s)) + " s",
         0});
  guard::ClusterSeams seams{c->inv,          secrets->superuser_password,
                            provider,        guard_ssh_factory(c->state),
                            c->state.path(), secrets->tls.client};
  guard::GuardRunner runner(seams, settings, print);
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  runner.run(g_stop);
  return 0;
}

}  // namespace pgha
