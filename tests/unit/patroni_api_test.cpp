// parse_patroni_cluster on answers that are JSON but not quite Patroni's: found by
// fuzz/patroni_api_fuzzer (the input is kept in fuzz/regressions/patroni_api/). A member field of the
// wrong type made nlohmann's value() throw, which ended pgha with std::terminate.
#include <gtest/gtest.h>

#include "roles/patroni_api.hpp"

namespace pgha {
namespace {

TEST(PatroniApi, FieldsOfTheWrongTypeReadAsAbsent) {
  auto c = parse_patroni_cluster(
      R"({"members": [{"name": "pg1", "role": "leader", "state": 2, "host": ["x"], "timeline": "3"},)"
      R"( {"name": 7, "role": null, "state": "streaming", "lag": 0}]})");
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->members.size(), 2u);
  EXPECT_EQ(c->members[0].name, "pg1");
  EXPECT_EQ(c->members[0].state, "");
  EXPECT_EQ(c->members[0].host, "");
  EXPECT_EQ(c->members[1].name, "");
  EXPECT_EQ(c->members[1].role, "");
  EXPECT_EQ(c->leader(), &c->members[0]);
}

TEST(PatroniApi, MembersThatAreNotObjectsAreSkipped) {
  auto c = parse_patroni_cluster(R"({"members": [1, "pg2", null, [], {"name": "pg3", "role": "replica"}]})");
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->members.size(), 1u);
  EXPECT_EQ(c->members[0].name, "pg3");
}

}  // namespace
}  // namespace pgha
