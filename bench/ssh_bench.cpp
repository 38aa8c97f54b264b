// Per-command latency of pgha's SshShell (issue 10, item 2): one connection, made before the clock
// starts, then ROUNDS rounds of N runs of COMMAND; prints each round's milliseconds per command and
// the median. bench/ssh_latency.sh runs it beside OpenSSH's multiplexed client (the floor).
//   ssh_bench --address A --key KEY --known-hosts FILE [--port 22] [--user root] [-n 20] [--rounds 5]
//             [--command true]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "net/ssh_shell.hpp"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: ssh_bench --address A --key KEY --known-hosts FILE [--port P] [--user U] [-n N] "
               "[--rounds R] [--command CMD]\n");
  return 2;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  pgha::SshOptions o;
  o.host = "bench";
  int n = 20;
  int rounds = 5;
  std::string command = "true";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    std::string v = argv[++i];
    if (a == "--address") {
      o.address = v;
    } else if (a == "--key") {
      o.private_key_path = v;
    } else if (a == "--known-hosts") {
      o.known_hosts_path = v;
    } else if (a == "--port") {
      o.port = std::atoi(v.c_str());
    } else if (a == "--user") {
      o.user = v;
    } else if (a == "-n") {
      n = std::atoi(v.c_str());
    } else if (a == "--rounds") {
      rounds = std::atoi(v.c_str());
    } else if (a == "--command") {
      command = v;
    } else {
      return usage();
    }
  }
  if (o.address.empty() || o.private_key_path.empty() || o.known_hosts_path.empty() || n < 1 || rounds < 1) {
    return usage();
  }

  pgha::SshShell sh(o);
  if (auto st = sh.connect(); !st.ok()) {
    std::fprintf(stderr, "ssh_bench: %s\n", st.error().describe().c_str());
    return 1;
  }
  std::vector<double> per_command;
  for (int r = 1; r <= rounds; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      auto res = sh.run(command);
      if (!res.ok()) {
        std::fprintf(stderr, "ssh_bench: %s\n", res.error().describe().c_str());
        return 1;
      }
      if (res->exit_code != 0) {
        std::fprintf(stderr, "ssh_bench: `%s` exited %d: %s\n", command.c_str(), res->exit_code,
                     res->err.c_str());
        return 1;
      }
    }
    std::chrono::duration<double, std::milli> ms = std::chrono::steady_clock::now() - t0;
    per_command.push_back(ms.count() / n);
    std::printf("round %d: %d commands in %.1f ms, %.2f ms each\n", r, n, ms.count(), per_command.back());
  }
  std::printf("median_ms_per_command %.2f\n", median(per_command));
  return 0;
}
