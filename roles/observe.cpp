// Phase 0: one round trip per node reads what every later phase would otherwise ask for itself.
#include <cstdlib>
#include <sstream>
#include <tuple>

#include "core/pg_extensions.hpp"
#include "roles/catalog.hpp"
#include "roles/engine.hpp"
#include "roles/parallel.hpp"
#include "roles/remote.hpp"

namespace pgha {
namespace {

const char* const kPatroniModule = "/usr/lib/python3/dist-packages/patroni/dcs/etcd3.py";
// The line templates/patroni/etcd3_leader_cas.py puts into the module it fixed.
const char* const kPatroniFixMark = "# pgha: the leader key is compare-and-set";

// The script prints one tab-separated record per fact; parse_observation() reads them back. Paths, package
// and unit names come from the role catalog and the extension table (fixed strings), never from the
// inventory, and are quoted.
std::string observe_script(const NodeHandle& n, const Inventory& inv) {
  std::ostringstream s;
  // Boot first: stock services found before systemd has started them would be missed.
  s << "st=$(timeout 20 systemctl is-system-running --wait 2>/dev/null); printf 'system\\t%s\\n' \"$st\"; "
       "case $st in running|degraded) ;; *) exit 0;; esac; ";
  s << "[ -z \"$(dpkg --audit 2>/dev/null)\" ] || printf 'dpkg\\tdirty\\n'; ";
  std::string pkgs;
  for (const auto& p : node_packages(*n.node, inv.postgres_version)) pkgs += " " + shell_quote(p);
  if (has_role(*n.node, Role::patroni)) {
    for (const auto& p : extension_packages(inv)) pkgs += " " + shell_quote(p);
  }
  if (!pkgs.empty())
    s << "dpkg-query -W -f='pkg\\t${Package}\\t${db:Status-Status}\\n'" << pkgs << " 2>/dev/null; ";
  if (has_role(*n.node, Role::patroni)) {
    // The stock cluster's own databases: their names when it answers, else the count of base/'s
    // directories (a fresh cluster has 3). Names with control characters are printed with '?'.
    const std::string v = std::to_string(inv.postgres_version);
    s << "if [ -d /etc/postgresql/" << v << "/main ]; then printf 'stock\\tpostgres\\n'; "
      << "sc=$(grep -v '^#' /etc/postgresql/" << v << "/main/start.conf 2>/dev/null | tr -d ' \\n'); "
      << "dd=$(pg_conftool -s " << v << " main show data_directory 2>/dev/null || echo /var/lib/postgresql/"
      << v << "/main); nd=$(ls \"$dd/base\" 2>/dev/null | wc -l); "
      << "port=$(pg_conftool -s " << v << " main show port 2>/dev/null || echo 5432); "
      << "dbs=$(runuser -u postgres -- psql -X -Atq -h /var/run/postgresql -p \"$port\" -d postgres -c "
         "\"select string_agg(regexp_replace(datname, '[^[:print:]]|,', '?', 'g'), ',' order by datname) "
         "from "
         "pg_database where datname not in ('postgres', 'template0', 'template1')\" 2>/dev/null); "
         "printf 'stock-pg\\t%s\\t%s\\t%s\\n' \"$sc\" \"$nd\" \"$dbs\"; fi; ";
    s << "grep -qsF " << shell_quote(kPatroniFixMark) << " " << kPatroniModule
      << " && printf 'patroni-fix\\tpresent\\n'; ";
    s << "sed -n \"s/^__version__ = ['\\\"]\\(.*\\)['\\\"]$/patroni-version\\t\\1/p\" "
         "/usr/lib/python3/dist-packages/patroni/version.py 2>/dev/null; ";
    // A Patroni that started before its module last changed runs the old code (Python reads a module
    // once): its start (now minus its elapsed seconds) against the file's modification time.
    s << "pid=$(systemctl show -p MainPID --value patroni.service 2>/dev/null); "
         "if [ \"${pid:-0}\" != 0 ]; then el=$(ps -o etimes= -p \"$pid\" 2>/dev/null); "
         "[ -n \"$el\" ] && [ $(stat -c %Y "
      << kPatroniModule
      << " 2>/dev/null || echo 0) -gt $(( $(date +%s) - el )) ] && printf 'patroni-stale\\n'; fi; ";
  }
  if (has_role(*n.node, Role::etcd)) {
    s << "[ -n \"$(find /var/lib/etcd -mindepth 1 -maxdepth 1 ! -name " << shell_quote(inv.cluster_name)
      << " 2>/dev/null)\" ] && printf 'stock\\tetcd\\n'; ";
    s << "[ -d /var/lib/etcd/" << shell_quote(inv.cluster_name) << "/member ] && printf 'etcd-data\\n'; ";
    // The scheme pgha's etcd configuration on the node serves clients with (http, https).
    s << "sed -n 's/^ETCD_ADVERTISE_CLIENT_URLS=\"\\([a-z]*\\):.*/etcd-scheme\\t\\1/p' /etc/default/etcd "
         "2>/dev/null; ";
  }
  if (has_role(*n.node, Role::pgbackrest)) {
    // An unencrypted archive.info is an INI file; an encrypted one starts with OpenSSL's salt header.
    s << "if IFS= read -r l 2>/dev/null < "
      << shell_quote(inv.backup.repo_path + "/archive/" + inv.cluster_name + "/archive.info")
      << " || [ -n \"$l\" ]; then case \"$l\" in '[backrest]'*) printf 'repo-cipher\\tnone\\n' ;; "
         "*) printf 'repo-cipher\\taes-256-cbc\\n' ;; esac; fi; ";
  }
  for (const auto& [role, unit, config] : stock_services()) {
    if (!has_role(*n.node, role)) continue;
    s << "if ! grep -qs 'Managed by pgha' " << config << " && systemctl is-active -q " << unit
      << "; then printf 'stock-running\\t%s\\n' " << unit << "; fi; ";
  }
  // Few processes: on a loaded machine every fork counts. Absent files are simply not listed.
  if (!n.files.empty()) {
    std::string paths;
    for (const auto& f : n.files) paths += " " + shell_quote(f.path);
    s << "sha256sum --" << paths << " 2>/dev/null | sed 's/^/sum\t/'; stat -c 'stat\t%n\t%U:%G:%a' --"
      << paths << " 2>/dev/null; ";
  }
  s << "for p in " << kPendingDir << "/*; do [ -e \"$p\" ] && printf 'pending\\t%s\\n' \"${p##*/}\"; done; ";
  std::string units;
  for (const auto& spec : role_catalog()) {
    if (!has_role(*n.node, spec.role)) continue;
    for (const auto& unit : spec.units) units += " " + shell_quote(unit);
  }
  if (!units.empty()) s << "systemctl show -p Id,UnitFileState,ActiveState" << units << " 2>/dev/null; ";
  s << "true";
  return s.str();
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t t = line.find('\t', start);
    out.push_back(line.substr(start, t == std::string::npos ? std::string::npos : t - start));
    if (t == std::string::npos) return out;
    start = t + 1;
  }
}

}  // namespace

bool patroni_has_leader_cas(const std::string& version) {
  int part[3] = {0, 0, 0};
  std::istringstream in(version);
  std::string piece;
  for (int i = 0; i < 3 && std::getline(in, piece, '.'); ++i) {
    if (piece.empty() || piece.find_first_not_of("0123456789") != std::string::npos) return false;
    part[i] = std::atoi(piece.c_str());
  }
  return std::make_tuple(part[0], part[1], part[2]) >= std::make_tuple(3, 0, 3);
}

NodeObservation parse_observation(const std::string& text) {
  NodeObservation o;
  o.valid = true;
  std::istringstream in(text);
  std::string line, unit;  // `systemctl show` prints Id= first in each unit's block
  while (std::getline(in, line)) {
    auto f = split_tabs(line);
    const std::string& kind = f[0];
    if (kind == "system" && f.size() >= 2) {
      o.system_state = f[1];
    } else if (kind == "dpkg") {
      o.dpkg_clean = false;
    } else if (kind == "pkg" && f.size() >= 3) {
      if (f[2] == "installed") o.installed.insert(f[1]);
    } else if (kind == "stock" && f.size() >= 2) {
      if (f[1] == "postgres") o.stock_postgres = true;
      if (f[1] == "etcd") o.stock_etcd = true;
    } else if (kind == "stock-pg" && f.size() >= 4) {
      o.stock_disabled = f[1] == "disabled";
      std::istringstream names(f[3]);
      for (std::string name; std::getline(names, name, ',');) {
        if (!name.empty()) o.stock_databases.push_back(name);
      }
      // Stopped: only base/'s directories tell; beyond a fresh cluster's 3, each is a database unnamed.
      const int dirs = std::atoi(f[2].c_str());
      for (int i = static_cast<int>(o.stock_databases.size()) + 3; i < dirs; ++i)
        o.stock_databases.push_back("");
    } else if (kind == "stock-running" && f.size() >= 2) {
      o.stock_running.insert(f[1]);
    } else if (kind == "etcd-data") {
      o.etcd_data = true;
    } else if (kind == "etcd-scheme" && f.size() >= 2) {
      o.etcd_scheme = f[1];
    } else if (kind == "patroni-fix") {
      o.patroni_fixed = true;
    } else if (kind == "patroni-version" && f.size() >= 2) {
      o.patroni_version = f[1];
      if (patroni_has_leader_cas(f[1])) o.patroni_fixed = true;
    } else if (kind == "patroni-stale") {
      o.patroni_stale = true;
    } else if (kind == "sum" && f.size() >= 2) {
      // sha256sum: "<hash>  <path>"
      auto sp = f[1].find("  ");
      if (sp != std::string::npos) o.files[f[1].substr(sp + 2)].hash = f[1].substr(0, sp);
    } else if (kind == "stat" && f.size() >= 3) {
      o.files[f[1]].attrs = f[2];
    } else if (kind.rfind("Id=", 0) == 0) {
      unit = kind.substr(3);
    } else if (kind.rfind("UnitFileState=", 0) == 0 && !unit.empty()) {
      o.units[unit].enabled = kind.substr(14) == "enabled";
    } else if (kind.rfind("ActiveState=", 0) == 0 && !unit.empty()) {
      o.units[unit].active = kind.substr(12) == "active";
    } else if (kind == "repo-cipher" && f.size() >= 2) {
      o.repo_cipher = f[1];
    } else if (kind == "pending" && f.size() >= 2) {
      o.pending.insert(f[1]);
    }
  }
  for (auto& [path, file] : o.files) {
    if (file.hash.empty()) file.hash = "-";
    if (file.attrs.empty()) file.attrs = "-";
  }
  return o;
}

Status observe_node(NodeHandle& n, const Inventory& inv, int boot_timeout_s) {
  const std::string script = observe_script(n, inv);
  NodeObservation seen;
  Status s = poll_until("systemd on " + n.node->name, std::chrono::seconds(boot_timeout_s),
                        std::chrono::milliseconds(250), [&](std::string& why) {
                          auto r = n.shell->run(script);
                          if (!r) {
                            why = r.error().describe();
                            return false;
                          }
                          seen = parse_observation(r->out);
                          why = "system state is '" + seen.system_state + "'";
                          return seen.system_state == "running" || seen.system_state == "degraded";
                        });
  if (!s) return std::move(s.error()).with("step observe").with("host " + n.node->name);
  n.seen = std::move(seen);
  return {};
}

Status observe_nodes(std::vector<NodeHandle*>& nodes, const Inventory& inv, Progress& progress,
                     int boot_timeout_s) {
  return for_each_node(nodes, [&](NodeHandle& n) -> Status {
    progress.node(n.node->name, "observing");
    return observe_node(n, inv, boot_timeout_s);
  });
}

}  // namespace pgha
