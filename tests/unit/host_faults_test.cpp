// `check failover`'s machine-level faults on hosts pgha borrows (static): commands over SSH on the
// host, the partition keeping SSH (on the inventory's port) and dropping the VIP's ARP, and the
// approximations said as such.
#include <gtest/gtest.h>

#include "fakes/fake_shell.hpp"
#include "providers/provider.hpp"
#include "roles/failover/faults.hpp"

namespace pgha {
namespace {

struct StaticHosts {
  Inventory inv;
  std::unique_ptr<Provider> provider;
  testing::FakeShell pg1{"pg1"};
  StaticHosts() {
    inv.cluster_name = "c";
    inv.provider.type = ProviderType::static_hosts;
    inv.provider.static_hosts.ssh_port = 2222;
    inv.network.vip = "10.0.0.100";
    Node n;
    n.name = "pg1";
    n.address = "10.0.0.11";
    inv.nodes.push_back(n);
    auto made = make_provider(inv);
    provider = std::move(made.value());
  }
  std::unique_ptr<FaultInjector> fault(FaultKind k) {
    return make_fault_injector(k, *provider, inv, [this](const std::string& node) -> RemoteShell* {
      return node == "pg1" ? &pg1 : nullptr;
    });
  }
};

TEST(HostFaults, APartitionKeepsSshAndDropsTheVipsArp) {
  StaticHosts h;
  auto f = h.fault(FaultKind::partition);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->approximation(), "");
  ASSERT_EQ(h.pg1.commands.size(), 1u);  // nftables made present before any run
  EXPECT_NE(h.pg1.commands[0].find("command -v nft"), std::string::npos);
  ASSERT_TRUE(f->inject("pg1").ok());
  const std::string& cmd = h.pg1.commands.back();
  EXPECT_NE(cmd.find("tcp dport 2222 accept"), std::string::npos) << cmd;
  EXPECT_EQ(cmd.find("dport 22 "), std::string::npos) << cmd;
  EXPECT_NE(cmd.find("arp saddr ip 10.0.0.100 drop"), std::string::npos) << cmd;
  ASSERT_TRUE(f->lift("pg1").ok());
  EXPECT_NE(h.pg1.commands.back().find("nft delete table"), std::string::npos);
}

TEST(HostFaults, KillNodeAndFreezeSayTheyAreApproximated) {
  StaticHosts h;
  auto kill = h.fault(FaultKind::kill_node);
  ASSERT_TRUE(kill);
  EXPECT_NE(kill->approximation().find("approximated"), std::string::npos);
  ASSERT_TRUE(kill->inject("pg1").ok());
  EXPECT_EQ(h.pg1.commands.back(), "systemctl kill -s KILL patroni && systemctl stop patroni");
  auto freeze = h.fault(FaultKind::freeze);
  ASSERT_TRUE(freeze);
  EXPECT_NE(freeze->approximation().find("SIGSTOP"), std::string::npos);
}

TEST(HostFaults, AFailingInjectNamesTheHostAndTheStep) {
  StaticHosts h;
  h.pg1.on("systemctl kill", CommandResult{1, "", "Failed to kill unit patroni.service"});
  auto kill = h.fault(FaultKind::kill_node);
  Status s = kill->inject("pg1");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().describe().find("pg1"), std::string::npos) << s.error().describe();
  EXPECT_NE(s.error().describe().find("fault kill-node inject"), std::string::npos) << s.error().describe();
}

}  // namespace
}  // namespace pgha
