// provider.static.ssh_key: the static provider hands it to the SSH factory, which uses it instead of
// the cluster key; without it the cluster key in state is used.
#include <gtest/gtest.h>

#include "cli/ssh_factory.hpp"
#include "providers/provider.hpp"

namespace pgha {
namespace {

Inventory static_inventory(const std::string& key) {
  Inventory inv;
  inv.cluster_name = "c";
  inv.provider.type = ProviderType::static_hosts;
  inv.provider.static_hosts.user = "deploy";
  inv.provider.static_hosts.ssh_port = 2222;
  inv.provider.static_hosts.ssh_key = key;
  Node n;
  n.name = "pg1";
  n.address = "10.0.0.11";
  inv.nodes = {n};
  return inv;
}

std::vector<Machine> machines_of(const Inventory& inv) {
  auto provider = make_provider(inv);
  EXPECT_TRUE(provider.ok());
  auto machines = (*provider)->list(inv);
  EXPECT_TRUE(machines.ok());
  return machines.ok() ? *machines : std::vector<Machine>{};
}

TEST(StaticSshKey, GivenKeyIsUsedForTheStaticHosts) {
  auto machines = machines_of(static_inventory("/home/ops/.ssh/id_ops"));
  ASSERT_EQ(machines.size(), 1u);
  EXPECT_EQ(machines[0].ssh_key, "/home/ops/.ssh/id_ops");
  SshOptions o = ssh_options_for(machines[0], "/state/c/id_ed25519", "/state/c/known_hosts", 1000);
  EXPECT_EQ(o.private_key_path, "/home/ops/.ssh/id_ops");
  EXPECT_EQ(o.known_hosts_path, "/state/c/known_hosts");  // host keys are pinned all the same
  EXPECT_EQ(o.user, "deploy");
  EXPECT_EQ(o.port, 2222);
  EXPECT_EQ(o.address, "10.0.0.11");
}

TEST(StaticSshKey, WithoutOneTheClusterKeyIsUsed) {
  auto machines = machines_of(static_inventory(""));
  ASSERT_EQ(machines.size(), 1u);
  EXPECT_EQ(machines[0].ssh_key, "");
  EXPECT_EQ(
      ssh_options_for(machines[0], "/state/c/id_ed25519", "/state/c/known_hosts", 1000).private_key_path,
      "/state/c/id_ed25519");
}

}  // namespace
}  // namespace pgha
