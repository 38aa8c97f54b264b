// The pure half of `pgha upgrade`: apt's and dpkg's text read back, and the plan.
#include "roles/upgrade.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "roles/catalog.hpp"
#include "roles/plan.hpp"

namespace pgha {
namespace {

bool valid_package_name(const std::string& n) {
  if (n.size() < 2) return false;
  if (!std::islower(static_cast<unsigned char>(n[0])) && !std::isdigit(static_cast<unsigned char>(n[0])))
    return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
           c == '+' || c == '-' || c == '.';
  });
}

std::string strip(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// dpkg's order of one character in the non-digit parts: '~' before everything, even the end;
// letters before other characters.
int order(int c) {
  if (std::isdigit(c)) return 0;
  if (std::isalpha(c)) return c;
  if (c == '~') return -1;
  if (c) return c + 256;
  return 0;
}

// dpkg's verrevcmp (lib/dpkg/version.c).
int verrevcmp(const char* a, const char* b) {
  while (*a || *b) {
    int first_diff = 0;
    while ((*a && !std::isdigit(static_cast<unsigned char>(*a))) ||
           (*b && !std::isdigit(static_cast<unsigned char>(*b)))) {
      const int ac = order(static_cast<unsigned char>(*a)), bc = order(static_cast<unsigned char>(*b));
      if (ac != bc) return ac - bc;
      ++a;
      ++b;
    }
    while (*a == '0') ++a;
    while (*b == '0') ++b;
    while (std::isdigit(static_cast<unsigned char>(*a)) && std::isdigit(static_cast<unsigned char>(*b))) {
      if (!first_diff) first_diff = *a - *b;
      ++a;
      ++b;
    }
    if (std::isdigit(static_cast<unsigned char>(*a))) return 1;
    if (std::isdigit(static_cast<unsigned char>(*b))) return -1;
    if (first_diff) return first_diff;
  }
  return 0;
}

struct Parts {
  long epoch = 0;
  std::string upstream, revision;
};

Parts split_version(const std::string& v) {
  Parts p;
  std::string rest = v;
  if (auto colon = rest.find(':'); colon != std::string::npos) {
    p.epoch = std::strtol(rest.substr(0, colon).c_str(), nullptr, 10);
    rest = rest.substr(colon + 1);
  }
  if (auto dash = rest.rfind('-'); dash != std::string::npos) {
    p.revision = rest.substr(dash + 1);
    rest = rest.substr(0, dash);
  }
  p.upstream = rest;
  return p;
}

// What a restart means, for the listing.
std::string effect_words(Effect e) {
  switch (e) {
    case Effect::none: return "no restart";
    case Effect::etcd: return "restart etcd, quorum kept";
    case Effect::patroni: return "restart Patroni (and its PostgreSQL)";
    case Effect::postgres: return "restart PostgreSQL through Patroni";
    case Effect::haproxy: return "reload HAProxy";
    case Effect::pgbouncer: return "restart PgBouncer";
    case Effect::keepalived: return "restart keepalived";
  }
  return "";
}

}  // namespace

bool valid_debian_version(const std::string& v) {
  if (v.empty() || !std::isdigit(static_cast<unsigned char>(v[0]))) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '~' || c == ':' ||
           c == '-';
  });
}

int compare_debian_versions(const std::string& a, const std::string& b) {
  const Parts x = split_version(a), y = split_version(b);
  if (x.epoch != y.epoch) return x.epoch < y.epoch ? -1 : 1;
  if (int c = verrevcmp(x.upstream.c_str(), y.upstream.c_str())) return c;
  return verrevcmp(x.revision.c_str(), y.revision.c_str());
}

Result<std::vector<PackageVersion>> parse_apt_policy(const std::string& text) {
  std::vector<PackageVersion> out;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  auto bad = [&](const std::string& why) {
    return Error(ErrorKind::bad_input,
                 "apt-cache policy, line " + std::to_string(lineno) + ": " + why + ": '" + line + "'");
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (strip(line).empty()) continue;
    if (line[0] != ' ') {
      // A heading: "name:" (or "name:arch:" for a foreign architecture).
      if (line.back() != ':') return bad("not a package heading");
      std::string name = line.substr(0, line.size() - 1);
      name = name.substr(0, name.find(':'));
      if (!valid_package_name(name)) return bad("not a Debian package name");
      out.push_back(PackageVersion{name, "", ""});
      continue;
    }
    if (out.empty()) return bad("a version before any package heading");
    const std::string s = strip(line);
    for (const auto& [key, field] : {std::pair{std::string("Installed: "), &PackageVersion::installed},
                                     std::pair{std::string("Candidate: "), &PackageVersion::candidate}}) {
      if (s.rfind(key, 0) != 0) continue;
      std::string v = s.substr(key.size());
      if (v == "(none)") v.clear();
      if (!v.empty() && !valid_debian_version(v)) return bad("not a Debian version");
      out.back().*field = v;
    }
  }
  if (out.empty() && !strip(text).empty())
    return Error(ErrorKind::bad_input, "apt-cache policy listed no package");
  return out;
}

std::map<std::string, std::string> parse_dpkg_query(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto a = line.find('\t'), b = line.rfind('\t');
    if (a == std::string::npos || a == b) continue;
    const std::string name = line.substr(0, a), version = line.substr(a + 1, b - a - 1);
    if (line.substr(b + 1) != "installed" || !valid_package_name(name.substr(0, name.find(':'))) ||
        !valid_debian_version(version))
      continue;
    out[name.substr(0, name.find(':'))] = version;
  }
  return out;
}

const char* to_string(Effect e) {
  switch (e) {
    case Effect::none: return "none";
    case Effect::etcd: return "etcd";
    case Effect::patroni: return "patroni";
    case Effect::postgres: return "postgres";
    case Effect::haproxy: return "haproxy";
    case Effect::pgbouncer: return "pgbouncer";
    case Effect::keepalived: return "keepalived";
  }
  return "none";
}

std::optional<Effect> effect_from_string(const std::string& s) {
  for (Effect e : {Effect::none, Effect::etcd, Effect::patroni, Effect::postgres, Effect::haproxy,
                   Effect::pgbouncer, Effect::keepalived}) {
    if (s == to_string(e)) return e;
  }
  return std::nullopt;
}

Effect package_effect(const std::string& package, int postgres_version) {
  const std::string v = std::to_string(postgres_version);
  // The roles' clients and tools: no daemon runs them.
  if (package == "etcd-client" || package == "postgresql-client-" + v || package == "procps" ||
      package == "curl" || package == "iproute2")
    return Effect::none;
  for (const auto& spec : role_catalog()) {
    const auto pkgs = role_packages(spec.role, postgres_version);
    if (std::find(pkgs.begin(), pkgs.end(), package) == pkgs.end()) continue;
    switch (spec.role) {
      case Role::etcd: return Effect::etcd;
      // Patroni's own code and the Python modules it imports, or the PostgreSQL server it runs.
      case Role::patroni: return package == "postgresql-" + v ? Effect::postgres : Effect::patroni;
      case Role::haproxy: return Effect::haproxy;
      case Role::keepalived: return Effect::keepalived;
      case Role::pgbouncer: return Effect::pgbouncer;
      case Role::pgbackrest: return Effect::none;  // run by archive_command and backups, no daemon
    }
  }
  return Effect::none;
}

bool upgrade_pending(const PackageVersion& p) {
  return !p.installed.empty() && !p.candidate.empty() &&
         compare_debian_versions(p.candidate, p.installed) > 0;
}

bool patroni_upgradable(FixCheck fix) {
  return fix == FixCheck::applies || fix == FixCheck::present || fix == FixCheck::upstream;
}

std::vector<PackageUpgrade> parse_apt_simulation(const std::string& text) {
  std::vector<PackageUpgrade> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Inst ", 0) != 0) continue;
    std::istringstream w(line.substr(5));
    PackageUpgrade u;
    std::string word;
    w >> u.name >> word;
    if (word.size() > 2 && word.front() == '[' && word.back() == ']') {
      u.from = word.substr(1, word.size() - 2);
      w >> word;
    }
    if (word.size() < 2 || word.front() != '(') continue;
    u.to = word.substr(1);
    u.name = u.name.substr(0, u.name.find(':'));
    if (!valid_package_name(u.name) || !valid_debian_version(u.to) ||
        (!u.from.empty() && !valid_debian_version(u.from)))
      continue;
    out.push_back(u);
  }
  return out;
}

std::string upgrade_refusal(const ClusterView& view, size_t etcd_nodes, size_t patroni_nodes) {
  if (etcd_nodes > 0) {
    if (!view.etcd_answered) return "etcd did not list its members";
    for (const auto& m : view.etcd) {
      if (!m.learner && !m.healthy)
        return (m.name.empty() ? "an etcd member" : m.name) + "'s etcd is not healthy";
    }
  }
  if (patroni_nodes == 0) return "";
  if (!view.patroni) return "no Patroni REST API answered";
  if (view.dcs_config && view.dcs_config->is_object() && view.dcs_config->contains("pause") &&
      (*view.dcs_config)["pause"].is_boolean() && (*view.dcs_config)["pause"].get<bool>())
    return "Patroni is paused (maintenance mode); resume it first (patronictl resume)";
  return patroni_unhealthy_reason(*view.patroni, patroni_nodes, LagRule::known);
}

bool UpgradePlan::empty() const {
  return std::all_of(nodes.begin(), nodes.end(), [](const NodeUpgrade& n) { return n.empty(); });
}

UpgradePlan plan_upgrade(const UpgradeInput& in) {
  UpgradePlan plan;
  NodeUpgrade last;
  bool have_leader = false;
  for (const auto& n : in.nodes) {
    NodeUpgrade u;
    u.node = n.node;
    u.leader = n.node == in.leader;
    std::set<Effect> effects = n.owed;
    for (const auto& p : n.packages) {
      if (!upgrade_pending(p)) {
        u.current.push_back(p);
        continue;
      }
      PackageUpgrade up{p.name, p.installed, p.candidate, package_effect(p.name, in.postgres_version)};
      if (p.name == "patroni" && !patroni_upgradable(n.patroni_fix)) {
        u.held.push_back(up);
        plan.warnings.push_back(
            n.node + ": patroni " + p.candidate + " is held back: " +
            (n.patroni_fix == FixCheck::absent
                 ? "pgha's leader-key fix does not apply to its etcd3 module (a Patroni pgha does not "
                   "know), and pgha never starts a Patroni without it"
                 : "pgha could not check that its leader-key fix applies to it") +
            "; upgrade it by hand once its etcd3 module is known to compare-and-set the leader key");
        continue;
      }
      u.upgrades.push_back(up);
      if (up.effect != Effect::none) effects.insert(up.effect);
    }
    effects.erase(Effect::none);
    // Patroni's restart stops and starts its PostgreSQL: one restart covers both.
    if (effects.count(Effect::patroni)) effects.erase(Effect::postgres);
    // Every Patroni restart is preceded by the fix (idempotent: "present" when it is there), also one
    // owed by a run killed between the install and the fix.
    u.patroni_fix = effects.count(Effect::patroni) > 0;
    if (!u.upgrades.empty()) {
      for (const auto& d : n.dependencies) {
        const bool ours = std::any_of(n.packages.begin(), n.packages.end(),
                                      [&](const PackageVersion& p) { return p.name == d.name; });
        if (!ours) u.dependencies.push_back(d);
      }
    }
    for (Effect e : {Effect::etcd, Effect::patroni, Effect::postgres, Effect::haproxy, Effect::pgbouncer,
                     Effect::keepalived}) {
      if (effects.count(e)) u.restarts.push_back(e);
    }
    if (u.leader) {
      last = std::move(u);
      have_leader = true;
    } else {
      plan.nodes.push_back(std::move(u));
    }
  }
  if (have_leader) plan.nodes.push_back(std::move(last));
  if (in.leader.empty()) plan.warnings.push_back("no Patroni leader was seen: the order is the inventory's");
  return plan;
}

std::string format_upgrade_plan(const UpgradePlan& plan) {
  std::ostringstream out;
  if (plan.empty()) {
    out << "no upgrades: every pgha package is at its candidate version on every node\n";
  } else {
    for (const auto& n : plan.nodes) {
      out << n.node << (n.leader ? " (leader, last)" : "") << ":";
      if (n.empty()) {
        out << " no upgrades\n";
        continue;
      }
      out << "\n";
      for (const auto& u : n.upgrades)
        out << "  " << u.name << " " << u.from << " -> " << u.to << " (" << effect_words(u.effect) << ")\n";
      for (const auto& d : n.dependencies)
        out << "  with them: " << d.name << " " << (d.from.empty() ? "(new)" : d.from) << " -> " << d.to
            << "\n";
      std::string restarts;
      for (Effect e : n.restarts) restarts += (restarts.empty() ? "" : ", ") + effect_words(e);
      if (!restarts.empty()) out << "  then: " << restarts << "\n";
      if (n.patroni_fix)
        out << "  the leader-key fix is checked (re-applied if missing) before Patroni restarts\n";
    }
  }
  for (const auto& n : plan.nodes) {
    for (const auto& h : n.held)
      out << n.node << ": held back: " << h.name << " " << h.from << " -> " << h.to << "\n";
  }
  for (const auto& w : plan.warnings) out << "warning: " << w << "\n";
  return out.str();
}

}  // namespace pgha
