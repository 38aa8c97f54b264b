#include "roles/teardown.hpp"

#include "roles/remote.hpp"

namespace pgha {

std::string release_host_command(const Inventory& inv, const std::vector<RenderedFile>& files,
                                 DataRetention data) {
  // Units pgha rendered of its own (the backup timers and their service) go with the daemons.
  const std::string unit_dir = "/etc/systemd/system/";
  std::string units = "keepalived patroni etcd haproxy pgbouncer";
  std::string paths;
  for (const auto& f : files) {
    paths += " " + shell_quote(f.path);
    const std::string& p = f.path;
    const bool own_unit = p.starts_with(unit_dir) && p.find('/', unit_dir.size()) == std::string::npos &&
                          (p.ends_with(".timer") || p.ends_with(".service")) &&
                          p.find('@') == std::string::npos;
    if (own_unit) units += " " + shell_quote(p.substr(unit_dir.size()));
  }
  std::string cmd = "systemctl disable -q --now keepalived 2>/dev/null; systemctl disable -q --now " + units +
                    " 2>/dev/null; rm -f --" + paths + "; rm -rf /var/lib/pgha; systemctl daemon-reload";
  if (data == DataRetention::remove) {
    const std::string v = std::to_string(inv.postgres_version);
    cmd += "; rm -rf -- " + shell_quote("/var/lib/postgresql/" + v + "/" + inv.cluster_name) + " " +
           shell_quote("/var/lib/etcd/" + inv.cluster_name) + " " + shell_quote(inv.backup.repo_path);
  }
  return cmd;
}

Status release_hosts(const Inventory& inv, const std::vector<Machine>& machines,
                     const std::function<Result<std::vector<RenderedFile>>(const Node&)>& files_of,
                     const std::function<Result<std::unique_ptr<RemoteShell>>(const Machine&)>& shells,
                     DataRetention data, Progress& progress) {
  for (const auto& m : machines) {
    const Node* node = inv.find_node(m.node);
    if (!node) continue;
    auto files = files_of(*node);
    if (!files) return std::move(files.error()).with("render node " + m.node);
    auto shell = shells(m);
    if (!shell) return std::move(shell.error()).with("step down:release").with("host " + m.node);
    progress.node(m.node, "stopping pgha's services and removing its files");
    auto r = must(**shell, "down:release", release_host_command(inv, *files, data));
    if (!r) return r.error();
    progress.node(m.node, data == DataRetention::remove ? "released, data removed" : "released, data kept");
  }
  return {};
}

}  // namespace pgha
