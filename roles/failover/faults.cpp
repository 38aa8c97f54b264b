#include "roles/failover/faults.hpp"

#include "roles/remote.hpp"

namespace pgha {
namespace {

struct Name {
  FaultKind kind;
  const char* name;
};
constexpr Name kNames[] = {{FaultKind::kill_node, "kill-node"},
                           {FaultKind::stop_postgres, "stop-postgres"},
                           {FaultKind::stop_patroni, "stop-patroni"},
                           {FaultKind::partition, "partition"},
                           {FaultKind::freeze, "freeze"}};

class MachineFaultInjector final : public FaultInjector {
 public:
  MachineFaultInjector(FaultKind kind, MachineFault fault, Provider& p, const Inventory& inv)
      : kind_(kind), fault_(fault), provider_(p), inv_(inv) {}
  Status inject(const std::string& node) override { return ctx(provider_.inject(inv_, node, fault_), node); }
  Status lift(const std::string& node) override { return ctx(provider_.lift(inv_, node, fault_), node); }

 private:
  Status ctx(Status s, const std::string& node) {
    if (!s) return std::move(s.error()).with(std::string("fault ") + to_string(kind_)).with("host " + node);
    return s;
  }
  FaultKind kind_;
  MachineFault fault_;
  Provider& provider_;
  const Inventory& inv_;
};

// Runs a command on the node for inject and another for lift ("" = nothing to do).
class ShellFaultInjector final : public FaultInjector {
 public:
  ShellFaultInjector(FaultKind kind, std::string inject_cmd, std::string lift_cmd, ShellLookup shells,
                     std::string approximation = "")
      : kind_(kind),
        inject_(std::move(inject_cmd)),
        lift_(std::move(lift_cmd)),
        shells_(std::move(shells)),
        approximation_(std::move(approximation)) {}
  Status inject(const std::string& node) override { return run(node, inject_, "inject"); }
  Status lift(const std::string& node) override {
    return lift_.empty() ? Status{} : run(node, lift_, "lift");
  }
  std::string approximation() const override { return approximation_; }

 private:
  Status run(const std::string& node, const std::string& cmd, const char* what) {
    RemoteShell* sh = shells_(node);
    if (!sh) return Error(ErrorKind::not_found, "no shell to the node").with("host " + node);
    auto r = must(*sh, std::string("fault ") + to_string(kind_) + " " + what, cmd);
    if (!r) return r.error();
    return {};
  }
  FaultKind kind_;
  std::string inject_, lift_;
  ShellLookup shells_;
  std::string approximation_;
};

// pgha's services on a node, as one systemctl argument list.
const char* const kServices = "patroni etcd haproxy keepalived pgbouncer";

// The machine-level faults on hosts pgha does not control (static hosts), done over SSH on the host
// itself. partition: an nftables table that drops every packet in and out but SSH (its port) and loopback
// (the session that lifts it stays up; nftables is installed when missing), and an ARP table that keeps the
// host from answering for the VIP: its keepalived, cut off, still holds the address, and a partition on a
// real network would not let its ARP replies through either. kill-node: SIGKILL to every process of
// patroni.service (Patroni and its PostgreSQL), then a stop so that Restart=always does not bring it back
// until the lift. freeze: SIGSTOP to every process of pgha's services.
std::unique_ptr<FaultInjector> host_fault(FaultKind kind, const Inventory& inv, ShellLookup shells) {
  switch (kind) {
    case FaultKind::partition: {
      // The VIP is a checked IPv4 literal (core/inventory_rules); the lines reach nft on stdin of printf.
      const std::string vip = inv.network.vip;
      const std::string ssh = std::to_string(inv.provider.static_hosts.ssh_port);  // a checked port
      const std::string install =
          "command -v nft >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 "
          "install -y -q --no-install-recommends nftables >/dev/null 2>&1 || { apt-get -q update >/dev/null "
          "&& DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -q "
          "--no-install-recommends nftables >/dev/null; }; }; ";
      // nft on every host now, before any run: an install inside the fault would count as its time.
      // A failure here shows again, with its host and command, when the fault is injected.
      for (const auto& n : inv.nodes) {
        if (RemoteShell* sh = shells(n.name)) (void)sh->run(install);
      }
      return std::make_unique<ShellFaultInjector>(
          kind,
          install +
              "printf '%s\\n' 'table inet pgha_partition {' "
              "'chain in { type filter hook input priority -10; policy drop; iifname \"lo\" accept; "
              "tcp dport " +
              ssh + " accept; tcp sport " + ssh +
              " accept; }' "
              "'chain out { type filter hook output priority -10; policy drop; oifname \"lo\" accept; "
              "tcp sport " +
              ssh + " accept; tcp dport " + ssh + " accept; }' '}' " +
              std::string(vip.empty()
                              ? ""
                              : "'table arp pgha_partition_arp {' 'chain out { type filter hook output "
                                "priority -10; arp saddr ip " +
                                    vip + " drop; }' '}' ") +
              "| nft -f -",
          "for t in 'inet pgha_partition' 'arp pgha_partition_arp'; do nft list table $t >/dev/null 2>&1 && "
          "nft delete table $t; done; nft list tables | grep -q pgha_partition && exit 1; true",
          std::move(shells));
    }
    case FaultKind::kill_node:
      return std::make_unique<ShellFaultInjector>(
          kind, "systemctl kill -s KILL patroni && systemctl stop patroni", "systemctl start patroni",
          std::move(shells),
          "kill-node on a static host is approximated: SIGKILL to Patroni and its PostgreSQL; the host, "
          "its etcd, HAProxy and keepalived stay up");
    case FaultKind::freeze:
      return std::make_unique<ShellFaultInjector>(
          kind, std::string("systemctl kill -s STOP ") + kServices,
          std::string("systemctl kill -s CONT ") + kServices, std::move(shells),
          "freeze on a static host is approximated: SIGSTOP to pgha's services (Patroni, PostgreSQL, etcd, "
          "HAProxy, keepalived, PgBouncer); the host's kernel still answers");
    default: return nullptr;
  }
}

}  // namespace

const char* to_string(FaultKind k) {
  for (const auto& n : kNames)
    if (n.kind == k) return n.name;
  return "?";
}

std::optional<FaultKind> fault_from_string(const std::string& s) {
  for (const auto& n : kNames)
    if (s == n.name) return n.kind;
  return std::nullopt;
}

const std::vector<std::string>& fault_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& n : kNames) v.push_back(n.name);
    return v;
  }();
  return names;
}

std::string postgres_data_dir(const Inventory& inv) {
  return "/var/lib/postgresql/" + std::to_string(inv.postgres_version) + "/" + inv.cluster_name;
}

std::unique_ptr<FaultInjector> make_fault_injector(FaultKind kind, Provider& provider, const Inventory& inv,
                                                   ShellLookup shells) {
  if (provider.ownership() == Ownership::borrowed) {
    if (auto f = host_fault(kind, inv, shells)) return f;
  }
  switch (kind) {
    case FaultKind::kill_node:
      return std::make_unique<MachineFaultInjector>(kind, MachineFault::kill, provider, inv);
    case FaultKind::partition:
      return std::make_unique<MachineFaultInjector>(kind, MachineFault::partition, provider, inv);
    case FaultKind::freeze:
      return std::make_unique<MachineFaultInjector>(kind, MachineFault::pause, provider, inv);
    case FaultKind::stop_postgres: {
      // The postmaster's pid is the first line of postmaster.pid; SIGKILL leaves no time to clean up,
      // like a crash. Its backends notice the postmaster's death and exit at once.
      std::string pidfile = shell_quote(postgres_data_dir(inv) + "/postmaster.pid");
      return std::make_unique<ShellFaultInjector>(kind, "pid=$(head -1 " + pidfile + ") && kill -9 \"$pid\"",
                                                  "", std::move(shells));
    }
    case FaultKind::stop_patroni:
      return std::make_unique<ShellFaultInjector>(kind, "systemctl stop patroni", "systemctl start patroni",
                                                  std::move(shells));
  }
  return nullptr;
}

}  // namespace pgha
