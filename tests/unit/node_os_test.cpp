// Which OS a node runs (declared, else the Docker base image's suite, else Debian 12), and the
// capability pgha reads on the node instead of deriving it from the OS: Patroni's own leader-key rule.
#include "core/node_os.hpp"

#include <gtest/gtest.h>

#include "roles/engine.hpp"

namespace pgha {
namespace {

Inventory with_nodes(ProviderType type, const std::string& base_image = "debian:bookworm") {
  Inventory inv;
  inv.provider.type = type;
  inv.provider.docker.base_image = base_image;
  for (int i = 1; i <= 2; ++i) {
    Node n;
    n.name = "pg" + std::to_string(i);
    inv.nodes.push_back(n);
  }
  return inv;
}

TEST(NodeOs, TheBaseImageSuiteNamesTheOs) {
  EXPECT_EQ(os_of_base_image("debian:trixie"), "debian13");
  EXPECT_EQ(os_of_base_image("localhost/ci/debian:bookworm"), "debian12");
  EXPECT_EQ(os_of_base_image("ubuntu:noble"), "");
  EXPECT_EQ(os_of_base_image("debian"), "");
  const Inventory trixie = with_nodes(ProviderType::docker, "debian:trixie");
  EXPECT_EQ(node_os(trixie, trixie.nodes[0]).postgres_version, 17);
  // Not Docker: the image says nothing; undeclared means Debian 12.
  const Inventory statics = with_nodes(ProviderType::static_hosts, "debian:trixie");
  EXPECT_EQ(node_os(statics, statics.nodes[0]).id, "debian12");
}

TEST(NodeOs, ADeclaredOsWins) {
  Inventory inv = with_nodes(ProviderType::proxmox);
  inv.nodes[1].os = "debian13";
  EXPECT_EQ(node_os(inv, inv.nodes[0]).suite, "bookworm");
  EXPECT_EQ(node_os(inv, inv.nodes[1]).suite, "trixie");
  ASSERT_NE(find_node_os_shipping(17), nullptr);
  EXPECT_EQ(find_node_os_shipping(17)->id, "debian13");
  EXPECT_EQ(find_node_os_shipping(16), nullptr);
}

TEST(NodeOs, PatroniHasTheLeaderKeyRuleFrom303) {
  EXPECT_FALSE(patroni_has_leader_cas("3.0.2"));
  EXPECT_TRUE(patroni_has_leader_cas("3.0.3"));
  EXPECT_TRUE(patroni_has_leader_cas("4.0.7"));
  EXPECT_FALSE(patroni_has_leader_cas(""));
  EXPECT_FALSE(patroni_has_leader_cas("4.0.0rc1"));  // unknown: pgha still checks the module itself
  NodeObservation o = parse_observation("system\trunning\npatroni-version\t4.0.7\n");
  EXPECT_TRUE(o.patroni_fixed);
  EXPECT_EQ(o.patroni_version, "4.0.7");
  EXPECT_FALSE(parse_observation("system\trunning\npatroni-version\t3.0.2\n").patroni_fixed);
}

}  // namespace
}  // namespace pgha
