// Provider settings, users and databases.
#include <algorithm>
#include <map>
#include <set>

#include "core/inventory_rules.hpp"

namespace pgha {

namespace {

// provider.proxmox.templates: host -> a template on that host. Each key one of `nodes`, each value a
// VM id as Proxmox takes them (100 to 999999999, pve-common's pve-vmid), no id given to two hosts
// (a VM id names one VM in the whole cluster).
void check_proxmox_templates(RuleContext& c) {
  const ProxmoxSettings& x = c.inv().provider.proxmox;
  std::map<int, std::string> host_of_id;
  for (const auto& [host, vmid] : x.templates) {
    const std::string path = "provider.proxmox.templates." + host;
    const Mark where = c.at({path, "provider.proxmox.templates", "provider.proxmox", "provider"});
    if (std::find(x.nodes.begin(), x.nodes.end(), host) == x.nodes.end()) {
      std::string hint = did_you_mean(host, x.nodes);
      c.error(where, "provider.proxmox.templates names host '" + host +
                         "', which is not one of provider.proxmox.nodes" +
                         (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
    } else if (vmid < 100 || vmid > 999999999) {
      c.error(where, path + " must be a template's VM id (100 to 999999999), not " + std::to_string(vmid));
    } else if (auto [it, fresh] = host_of_id.emplace(vmid, host); !fresh) {
      c.error(where, path + ": VM " + std::to_string(vmid) + " is already " + it->second +
                         "'s template, and a VM sits on one host");
    }
  }
}

void check_proxmox(RuleContext& c) {
  const ProxmoxSettings& x = c.inv().provider.proxmox;
  auto at = [&](const char* key) {
    return c.at({std::string("provider.proxmox.") + key, "provider.proxmox", "provider.type", "provider"});
  };
  if (x.endpoint.empty()) {
    c.error(at("endpoint"), "provider.proxmox.endpoint is required (https://HOST:8006)");
  } else if (x.endpoint.rfind("https://", 0) != 0) {
    c.error(at("endpoint"), "provider.proxmox.endpoint must start with https://");
  }
  if (x.nodes.empty()) c.error(at("nodes"), "provider.proxmox.nodes must list at least one Proxmox host");
  // A template of its own for every host makes `template` unnecessary.
  const bool every_host_own =
      !x.nodes.empty() && std::all_of(x.nodes.begin(), x.nodes.end(),
                                      [&](const std::string& h) { return x.templates.count(h) != 0; });
  if (x.template_vmid <= 0 && !every_host_own)
    c.error(at("template"), "provider.proxmox.template (the template's VM id) is required");
  check_proxmox_templates(c);
  if (x.token_id.empty()) c.error(at("token_id"), "provider.proxmox.token_id is required");
  if (x.token_secret.empty()) c.error(at("token_secret"), "provider.proxmox.token_secret is required");
  int trust = int{!x.ca_file.empty()} + int{!x.fingerprint.empty()} + int{x.insecure};
  if (trust != 1) {
    c.error(at(x.insecure               ? "insecure"
               : !x.fingerprint.empty() ? "fingerprint"
                                        : "ca_file"),
            "set exactly one of provider.proxmox.ca_file, provider.proxmox.fingerprint or "
            "provider.proxmox.insecure: true");
  } else if (x.insecure) {
    c.warning(at("insecure"),
              "provider.proxmox.insecure: TLS certificates of the Proxmox API are not verified");
  }
  if (x.vlan_tag < 0 || x.vlan_tag > 4094)
    c.error(at("vlan"), "provider.proxmox.vlan must be between 0 and 4094");
}

}  // namespace

void check_provider(RuleContext& c) {
  const ProviderSettings& p = c.inv().provider;
  switch (p.type) {
    case ProviderType::docker:
      if (p.docker.image.empty())
        c.error(c.at({"provider.docker.image", "provider"}), "provider.docker.image is empty");
      break;
    case ProviderType::proxmox: check_proxmox(c); break;
    case ProviderType::static_hosts:
      if (p.static_hosts.user.empty())
        c.error(c.at({"provider.static.user", "provider"}), "provider.static.user is empty");
      if (p.static_hosts.ssh_port < 1 || p.static_hosts.ssh_port > 65535) {
        c.error(c.at({"provider.static.ssh_port", "provider"}),
                "provider.static.ssh_port must be between 1 and 65535");
      }
      break;
  }
}

namespace {

// PostgreSQL keeps the first NAMEDATALEN - 1 bytes of a name and drops the rest.
constexpr size_t kMaxSqlName = 63;

// Problems with a role or database name ("" when none): PostgreSQL's length limit, and for roles the
// names pgha's own roles use (postgres, admin, replicator, pgha_pgbouncer: PgBouncer's lookup role) or
// PostgreSQL reserves (pg_*).
std::string sql_name_problem(const std::string& name, const char* what, bool is_role) {
  if (name.size() > kMaxSqlName) {
    return std::string(what) + " name is " + std::to_string(name.size()) +
           " bytes; PostgreSQL truncates names to 63 bytes";
  }
  if (!is_role) return "";
  if (name == "postgres" || name == "admin" || name == "replicator" || name == "pgha_pgbouncer") {
    return "user name '" + name + "' is reserved: pgha's own roles use it";
  }
  if (name.rfind("pg_", 0) == 0) return "user name '" + name + "' is reserved: PostgreSQL reserves pg_*";
  return "";
}

// pgha hashes user passwords into SCRAM verifiers itself, without SASLprep's Unicode
// normalisation; for printable ASCII that normalisation is the identity.
bool printable_ascii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char ch) { return ch >= 0x20 && ch <= 0x7e; });
}

}  // namespace

void check_users(RuleContext& c) {
  const Inventory& inv = c.inv();
  std::set<std::string> users = {"postgres"};
  for (size_t i = 0; i < inv.users.size(); ++i) {
    std::string p = "users[" + std::to_string(i) + "]";
    const std::string& name = inv.users[i].name;
    if (name.empty()) {
      c.error(c.at({p + ".name", p}), p + " has no name");
    } else if (auto problem = sql_name_problem(name, "user", true); !problem.empty()) {
      c.error(c.at({p + ".name", p}), problem);
    } else if (!users.insert(name).second) {
      c.error(c.at({p + ".name", p}), "duplicate user '" + name + "'");
    }
    if (!printable_ascii(inv.users[i].password)) {
      c.error(c.at({p + ".password", p}),
              "the password of " + p + " must be printable ASCII (pgha computes its SCRAM verifier)");
    }
  }
  std::set<std::string> databases;
  for (size_t i = 0; i < inv.databases.size(); ++i) {
    std::string p = "databases[" + std::to_string(i) + "]";
    const Database& d = inv.databases[i];
    if (d.name.empty()) {
      c.error(c.at({p + ".name", p}), p + " has no name");
    } else if (auto problem = sql_name_problem(d.name, "database", false); !problem.empty()) {
      c.error(c.at({p + ".name", p}), problem);
    } else if (!databases.insert(d.name).second) {
      c.error(c.at({p + ".name", p}), "duplicate database '" + d.name + "'");
    }
    if (!d.owner.empty() && !users.count(d.owner)) {
      std::vector<std::string> known(users.begin(), users.end());
      std::string hint = did_you_mean(d.owner, known);
      c.error(c.at({p + ".owner", p}), "owner '" + d.owner + "' of database " + d.name +
                                           " is not a declared user" +
                                           (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
    }
  }
}

}  // namespace pgha
