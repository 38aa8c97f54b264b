#include "cli/commands.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/ssh_factory.hpp"
#include "core/diagnostics.hpp"
#include "core/inventory_parse.hpp"
#include "core/render.hpp"
#include "core/validate.hpp"
#include "roles/state.hpp"
#include "roles/teardown.hpp"

namespace pgha {
namespace fs = std::filesystem;

void add_common_options(CLI::App* sub, GlobalOptions& g) {
  sub->add_option("-i,--inventory", g.inventory, "inventory file (YAML)")->capture_default_str();
  sub->add_option("--instances", g.instances,
                  "file with a JSON/YAML map of instance name to settings; replaces the inventory's nodes");
  sub->add_option("--state-dir", g.state_root, "state directory root")->capture_default_str();
  sub->add_option("--templates", g.templates_dir, "directory overriding the built-in templates");
  sub->add_option("-o,--output", g.output, "text or json")->check(CLI::IsMember({"text", "json"}));
  sub->add_flag("-q,--quiet", g.quiet, "no progress lines");
}

int report_error(const Error& e) {
  std::cerr << "pgha: error: " << e.describe() << "\n";
  return e.kind == ErrorKind::bad_input ? 2 : 1;
}

std::optional<Inventory> load_inventory(const GlobalOptions& g) {
  // The file's whole text; nullopt once "<path>: error: cannot read the <what>" is printed.
  auto read_text = [](const std::string& path, const char* what) -> std::optional<std::string> {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::cerr << path << ": error: cannot read the " << what << "\n";
      return std::nullopt;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  auto text = read_text(g.inventory, "inventory file");
  std::optional<std::string> instances;
  if (!g.instances.empty()) instances = read_text(g.instances, "instances file");
  if (!text || (!g.instances.empty() && !instances)) return std::nullopt;
  auto env = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
  ParseOutcome parsed = instances
                            ? parse_inventory(*text, g.inventory, env, InstancesText{*instances, g.instances})
                            : parse_inventory(*text, g.inventory, env);
  std::vector<Diagnostic> all = parsed.diagnostics;
  if (parsed.inventory) {
    auto more = validate_inventory(*parsed.inventory);
    relocate_diagnostics(parsed, more);
    all.insert(all.end(), more.begin(), more.end());
  }
  std::vector<DiagnosticSource> sources = {{g.inventory, *text}};
  if (instances) sources.push_back({g.instances, *instances});
  if (!all.empty()) std::cerr << format_diagnostics(all, sources);
  if (!parsed.inventory || has_errors(all)) return std::nullopt;
  return parsed.inventory;
}

std::unique_ptr<TemplateSource> templates_for(const GlobalOptions& g) {
  return g.templates_dir.empty() ? embedded_template_source() : directory_template_source(g.templates_dir);
}

std::unique_ptr<Progress> progress_for(const GlobalOptions& g) {
  ProgressOptions o;
  o.verbose = g.verbose;
  o.width_fd = STDERR_FILENO;
  return make_progress(std::cerr, g.quiet ? ProgressStyle::quiet : detect_progress_style(STDERR_FILENO), o);
}

std::optional<ClusterHandles> open_cluster(const GlobalOptions& g, int* exit_code) {
  *exit_code = 2;
  auto inv = load_inventory(g);
  if (!inv) return std::nullopt;
  auto state = StateDir::open(g.state_root, inv->cluster_name);
  if (!state) {
    *exit_code = report_error(state.error());
    return std::nullopt;
  }
  auto provider = make_provider(*inv);
  if (!provider) {
    *exit_code = report_error(provider.error());
    return std::nullopt;
  }
  return ClusterHandles{std::move(*inv), std::move(state.value()), std::move(provider.value())};
}

int cmd_validate(const GlobalOptions& g) {
  auto inv = load_inventory(g);
  if (!inv) return 2;
  std::cout << g.inventory << ": ok (" << inv->nodes.size() << " nodes, cluster " << inv->cluster_name
            << ")\n";
  // How each machine would be made, from the inventory alone: validate never touches the network.
  std::vector<std::string> names;
  for (const auto& n : inv->nodes) names.push_back(n.name);
  auto provider = make_provider(*inv);
  auto routes = provider ? (*provider)->creation_routes(*inv, names, RouteSource::inventory)
                         : Result<std::map<std::string, std::string>>(provider.error());
  if (routes && !routes->empty()) {
    std::cout << "machines, when none exists yet (`pgha plan` reads what exists and how it is stored):\n";
    size_t width = 0;
    for (const auto& [name, route] : *routes) width = std::max(width, name.size());
    for (const auto& n : inv->nodes) {
      auto r = routes->find(n.name);
      if (r != routes->end())
        std::cout << "  " << n.name << std::string(width - n.name.size() + 2, ' ') << r->second << "\n";
    }
  }
  return 0;
}

namespace {

// Rendering for inspection (or for the paths alone): secrets not given are shown as placeholders,
// never generated here.
ResolvedSecrets placeholder_secrets(const Inventory& inv) {
  ResolvedSecrets secrets;
  auto pick = [](const std::string& v, const char* placeholder) {
    return v.empty() ? std::string(placeholder) : v;
  };
  secrets.superuser_password = pick(inv.secrets.superuser_password, "GENERATED-ON-UP-superuser");
  secrets.replication_password = pick(inv.secrets.replication_password, "GENERATED-ON-UP-replication");
  secrets.admin_password = pick(inv.secrets.admin_password, "GENERATED-ON-UP-admin");
  secrets.backup_cipher_pass = pick(inv.secrets.backup_cipher_pass, "GENERATED-ON-UP-cipher");
  for (const auto& u : inv.users) secrets.user_passwords[u.name] = pick(u.password, "GENERATED-ON-UP-user");
  if (inv.tls.enabled) {
    secrets.tls.ca_cert_pem = "# the cluster CA certificate, made on first up\n";
    for (const Node& n : inv.nodes)
      secrets.tls.nodes[n.name] = {"# the certificate of " + n.name + ", issued on up\n",
                                   "# the key of " + n.name + ", made on up\n"};
  }
  return secrets;
}

}  // namespace

int cmd_render(const GlobalOptions& g, const std::string& out_dir) {
  auto inv = load_inventory(g);
  if (!inv) return 2;
  const ResolvedSecrets secrets = placeholder_secrets(*inv);
  auto templates = templates_for(g);
  for (const auto& node : inv->nodes) {
    auto files = render_node(*inv, node, secrets, *templates);
    if (!files) return report_error(std::move(files.error()).with("render node " + node.name));
    for (const auto& f : *files) {
      fs::path p = fs::path(out_dir) / node.name / fs::path(f.path).relative_path();
      std::error_code ec;
      fs::create_directories(p.parent_path(), ec);
      if (auto s = write_file_atomic(p.string(), f.content, f.attrs.mode); !s) return report_error(s.error());
    }
    std::cout << "rendered " << files->size() << " files for " << node.name << " into "
              << (fs::path(out_dir) / node.name).string() << "\n";
  }
  return 0;
}

int cmd_down(const GlobalOptions& g, const DownOptions& o) {
  auto inv = load_inventory(g);
  if (!inv) return 2;
  auto provider = make_provider(*inv);
  if (!provider) return report_error(provider.error());
  auto state = StateDir::open(g.state_root, inv->cluster_name);
  if (!state) return report_error(state.error());
  auto progress = progress_for(g);
  if ((*provider)->ownership() == Ownership::borrowed) {
    // Hosts pgha did not make stay; only pgha leaves them. Their data stays unless --purge.
    const DataRetention data = o.purge ? DataRetention::remove : DataRetention::keep;
    auto machines = (*provider)->list(*inv);
    if (!machines) return report_error(machines.error());
    auto templates = templates_for(g);
    const ResolvedSecrets secrets = placeholder_secrets(*inv);
    progress->phase_begin("down");
    Status s = release_hosts(
        *inv, *machines, [&](const Node& n) { return render_node(*inv, n, secrets, *templates); },
        make_ssh_factory(*state), data, *progress);
    progress->phase_end("down", s.ok());
    if (!s) return report_error(s.error());
    if (data == DataRetention::remove) {
      if (auto cleaned = state->remove(); !cleaned) return report_error(cleaned.error());
    }
    std::cout << "cluster " << inv->cluster_name << " removed from its " << machines->size()
              << " hosts, which keep running"
              << (data == DataRetention::keep ? " (data directories kept; --purge removes them)" : "")
              << "\n";
    return 0;
  }
  const bool keep_data = o.data == DataRetention::keep;
  progress->phase_begin("down");
  Status s = (*provider)->destroy(*inv, o.data);
  progress->phase_end("down", s.ok());
  if (!s) return report_error(s.error());
  // The machines are gone; new ones bring new host keys. Secrets stay with kept data.
  Status cleaned = keep_data ? state->forget_hosts() : state->remove();
  if (!cleaned) return report_error(cleaned.error());
  std::cout << "cluster " << inv->cluster_name << " removed" << (keep_data ? " (data volumes kept)" : "")
            << "\n";
  return 0;
}

}  // namespace pgha
