// pgha-pve-sim: the Proxmox VE API simulator as a standalone process, for the end-to-end test.
//   pgha-pve-sim --listen 127.0.0.1:8006 --cert-dir DIR --nodes pve1,pve2,pve3 --template 9000
//                [--token-env PGHA_SIM_TOKEN | --token 'root@pam!pgha=SECRET'] [--backend docker|null] ...
// Prints "endpoint URL", "ca_file PATH" and "fingerprint AA:BB:..." lines once it listens (also
// into --ready-file as JSON), then serves until SIGINT/SIGTERM.
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include "backend_factory.hpp"
#include "pve_sim.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, sep)) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

int usage(const std::string& why) {
  std::cerr
      << "pgha-pve-sim: " << why << "\n"
      << "usage: pgha-pve-sim --cert-dir DIR [--listen HOST:PORT] [--nodes a,b,c] [--template ID[@NODE]]...\n"
         "       [--token-env VAR | --token ID=SECRET] [--user U@REALM --password-env VAR]\n"
         "       [--backend docker|null] [--image IMAGE] [--network NAME] [--subnet CIDR]\n"
         "       [--no-agent] [--task-ms N] [--auth-delay-ms N] [--agent-delay-ms N] [--ready-file PATH]\n"
         "       [--pve-version 8|9] [--template-storage ID] [--stats-ms N]\n"
         "The first --template is the template; each further one (ID@NODE) that node's own.\n"
         "Storages: local (dir), local-lvm (lvmthin) and ceph (rbd, shared). --stats-ms: how often the\n"
         "simulated pvestatd refreshes names and states in /cluster/resources (default 10000).\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  pgha::sim::SimOptions opt;
  opt.stats_interval = std::chrono::seconds(10);  // pvestatd's pace, as on a real cluster
  pgha::sim::BackendOptions backend_opt;
  std::string listen = "127.0.0.1:8006", cert_dir, ready_file, backend_kind = "docker";
  const char* env_token = std::getenv("PGHA_SIM_TOKEN");
  if (env_token != nullptr) opt.token = env_token;
  bool first_template = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) return "";
      return argv[++i];
    };
    if (a == "--listen")
      listen = next();
    else if (a == "--cert-dir")
      cert_dir = next();
    else if (a == "--nodes")
      opt.nodes = split(next(), ',');
    else if (a == "--template") {
      // The first --template is the template; each further one (ID@NODE) a node's own.
      std::string t = next();
      size_t at = t.find('@');
      int vmid = std::atoi(t.substr(0, at).c_str());
      std::string node = at == std::string::npos ? "" : t.substr(at + 1);
      if (!first_template && node.empty()) return usage("a further --template wants ID@NODE");
      if (first_template) {
        opt.template_vmid = vmid;
        opt.template_node = node;
      } else {
        opt.node_templates[node] = vmid;
      }
      first_template = false;
    } else if (a == "--token")
      opt.token = next();
    else if (a == "--token-env") {
      const char* v = std::getenv(next().c_str());
      if (v == nullptr) return usage("the --token-env variable is not set");
      opt.token = v;
    } else if (a == "--user")
      opt.user = next();
    else if (a == "--password-env") {
      const char* v = std::getenv(next().c_str());
      if (v == nullptr) return usage("the --password-env variable is not set");
      opt.password = v;
    } else if (a == "--backend")
      backend_kind = next();
    else if (a == "--image")
      backend_opt.image = next();
    else if (a == "--network")
      backend_opt.network = next();
    else if (a == "--subnet")
      backend_opt.subnet = next();
    else if (a == "--no-agent")
      opt.template_agent = false;
    else if (a == "--task-ms")
      opt.task_duration = std::chrono::milliseconds(std::atoi(next().c_str()));
    else if (a == "--auth-delay-ms")
      opt.auth_fail_delay = std::chrono::milliseconds(std::atoi(next().c_str()));
    else if (a == "--agent-delay-ms")
      opt.agent_delay = std::chrono::milliseconds(std::atoi(next().c_str()));
    else if (a == "--pve-version")
      opt.version = std::atoi(next().c_str());
    else if (a == "--template-storage")
      opt.template_storage = next();
    else if (a == "--stats-ms")
      opt.stats_interval = std::chrono::milliseconds(std::atoi(next().c_str()));
    else if (a == "--ready-file")
      ready_file = next();
    else
      return usage("unknown option " + a);
  }
  if (cert_dir.empty()) return usage("--cert-dir is required");
  if (opt.nodes.empty()) return usage("--nodes lists no node");
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return usage("--listen wants HOST:PORT");

  std::string error;
  std::unique_ptr<pgha::sim::VmBackend> backend = pgha::sim::make_backend(backend_kind, backend_opt, error);
  if (!backend) {
    std::cerr << "pgha-pve-sim: " << error << "\n";
    return 1;
  }
  pgha::sim::SimServer server(opt, *backend);
  if (!server.start(cert_dir, listen.substr(0, colon), std::atoi(listen.substr(colon + 1).c_str()), error)) {
    std::cerr << "pgha-pve-sim: " << error << "\n";
    return 1;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::cout << "endpoint " << server.endpoint() << "\nca_file " << server.ca_file() << "\nfingerprint "
            << server.fingerprint() << std::endl;
  if (!ready_file.empty()) {
    std::ofstream out(ready_file + ".tmp");
    out << nlohmann::json{{"endpoint", server.endpoint()},
                          {"ca_file", server.ca_file()},
                          {"fingerprint", server.fingerprint()}}
               .dump()
        << "\n";
    out.close();
    std::rename((ready_file + ".tmp").c_str(), ready_file.c_str());
  }
  while (g_stop == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server.stop();
  return 0;
}
