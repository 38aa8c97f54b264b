#include "providers/proxmox/proxmox_placement.hpp"

#include <gtest/gtest.h>

namespace pgha::pve {
namespace {

TEST(ProxmoxPlacement, DatabaseNodesNeverShareAHostWhenThereAreEnough) {
  auto p = place_nodes({{"pg1", true, ""}, {"pg2", true, ""}, {"pg3", true, ""}}, {"pve1", "pve2", "pve3"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->host_of.at("pg1"), "pve1");
  EXPECT_EQ(p->host_of.at("pg2"), "pve2");
  EXPECT_EQ(p->host_of.at("pg3"), "pve3");
  EXPECT_FALSE(p->shares_hosts);
}

TEST(ProxmoxPlacement, ExistingVmsStayAndCount) {
  auto p =
      place_nodes({{"pg1", true, ""}, {"pg2", true, "pve1"}, {"pg3", true, ""}}, {"pve1", "pve2", "pve3"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->host_of.at("pg2"), "pve1");
  EXPECT_EQ(p->host_of.at("pg1"), "pve2");
  EXPECT_EQ(p->host_of.at("pg3"), "pve3");
}

TEST(ProxmoxPlacement, DatabaseNodesFirstThenTheRestByTotalLoad) {
  // The proxy node is listed first but must not take a host a database node needs.
  auto p = place_nodes({{"lb1", false, ""}, {"pg1", true, ""}, {"pg2", true, ""}}, {"pve1", "pve2"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->host_of.at("pg1"), "pve1");
  EXPECT_EQ(p->host_of.at("pg2"), "pve2");
  EXPECT_EQ(p->host_of.at("lb1"), "pve1");
  EXPECT_FALSE(p->shares_hosts);
}

TEST(ProxmoxPlacement, TooFewHostsSpreadsEvenlyAndSaysSo) {
  auto p = place_nodes({{"pg1", true, ""}, {"pg2", true, ""}, {"pg3", true, ""}}, {"pve1", "pve2"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->host_of.at("pg1"), "pve1");
  EXPECT_EQ(p->host_of.at("pg2"), "pve2");
  EXPECT_EQ(p->host_of.at("pg3"), "pve1");
  EXPECT_TRUE(p->shares_hosts);
}

TEST(ProxmoxPlacement, NoHostIsAnErrorOnlyWhenSomethingNeedsOne) {
  EXPECT_FALSE(place_nodes({{"pg1", true, ""}}, {}).ok());
  auto p = place_nodes({{"pg1", true, "pve9"}}, {});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->host_of.at("pg1"), "pve9");
}

}  // namespace
}  // namespace pgha::pve
