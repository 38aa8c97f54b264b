// `pgha status [--watch] [--count N]`: one snapshot, or one a second until SIGINT (or N of them).
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <iostream>
#include <thread>

#include "cli/commands.hpp"
#include "roles/status.hpp"

namespace pgha {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;

void on_sigint(int) {
  g_interrupted = 1;
}

// Catches SIGINT while alive (without SA_RESTART, so a sleep ends early); the old action comes back.
class SigintGuard {
 public:
  SigintGuard() {
    g_interrupted = 0;
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_);
  }
  ~SigintGuard() { sigaction(SIGINT, &old_, nullptr); }
  SigintGuard(const SigintGuard&) = delete;
  SigintGuard& operator=(const SigintGuard&) = delete;

 private:
  struct sigaction old_ {};
};

std::string clock_now() {
  std::time_t t = std::time(nullptr);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", std::localtime(&t));
  return buf;
}

// Status connects with a short timeout: a stopped or frozen node is news to report, not to wait for.
constexpr int kStatusConnectTimeoutMs = 15000;

}  // namespace

int cmd_status(const GlobalOptions& g, const StatusOptions& o) {
  int rc = 0;
  auto c = open_cluster(g, &rc);
  if (!c) return rc;
  auto machines = c->provider->list(c->inv);
  if (!machines) return report_error(machines.error());
  if (std::string msg = not_running_message(c->inv, *machines, g.inventory); !msg.empty()) {
    std::cerr << "pgha: " << msg << "\n";
    return 1;
  }
  auto secrets = c->state.resolve_secrets(c->inv);
  if (!secrets) return report_error(secrets.error());
  StatusProbe probe(c->inv, *c->provider, make_ssh_factory(c->state, kStatusConnectTimeoutMs),
                    secrets->admin_password);
  const bool json = g.output == "json";
  const bool tty = isatty(STDOUT_FILENO) != 0;
  std::optional<SigintGuard> sigint;
  if (o.watch) sigint.emplace();
  rc = 0;
  for (int n = 1;; ++n) {
    const auto started = std::chrono::steady_clock::now();
    auto st = probe.snapshot();
    if (!st) return report_error(st.error());
    if (auto first = c->state.first_node_cert_expiry(c->inv)) {
      st->cert_expiry.node = first->first;
      st->cert_expiry.not_after = first->second;
      st->cert_expiry.now = static_cast<std::int64_t>(std::time(nullptr));
    }
    if (g_interrupted) break;
    rc = judge_status(*st).health == Health::down ? 1 : 0;
    if (!o.watch) {
      std::cout << (json ? status_json(*st).dump(2) + "\n" : format_status(*st));
      return rc;
    }
    if (json) {
      std::cout << status_json(*st).dump() << std::endl;  // one snapshot a line
    } else if (tty) {
      std::cout << "\033[H\033[2J"
                << "every 1 s, Ctrl-C stops    " << clock_now() << "\n\n"
                << format_status(*st) << std::flush;
    } else {
      std::cout << (n > 1 ? "\n" : "") << format_status(*st) << std::flush;
    }
    if (o.count > 0 && n >= o.count) break;
    while (!g_interrupted && std::chrono::steady_clock::now() - started < std::chrono::seconds(1))
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (g_interrupted) break;
  }
  return rc;
}

}  // namespace pgha
