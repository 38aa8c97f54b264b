// PostgreSQL 15's settings table and the checks a parameter's value passes before any file.
#include <gtest/gtest.h>

#include "core/pg_settings.hpp"

namespace pgha {
namespace {

std::optional<std::string> check(const std::string& name, const std::string& value,
                                 std::string* why = nullptr) {
  std::string w;
  const PgSetting* s = find_pg_setting(name);
  if (!s) return std::nullopt;
  auto v = check_pg_value(*s, value, &w);
  if (why) *why = w;
  return v;
}

TEST(PgSettings, TheTableIsEmbeddedAndTyped) {
  EXPECT_GT(pg_settings().size(), 300u);
  const PgSetting* sb = find_pg_setting("shared_buffers");
  ASSERT_NE(sb, nullptr);
  EXPECT_EQ(sb->type, PgType::integer);
  EXPECT_EQ(sb->unit, "8kB");
  EXPECT_TRUE(sb->needs_restart());
  const PgSetting* wm = find_pg_setting("work_mem");
  ASSERT_NE(wm, nullptr);
  EXPECT_FALSE(wm->needs_restart());
  EXPECT_EQ(find_pg_setting("no_such_setting"), nullptr);
}

TEST(PgSettings, IntegersWithUnits) {
  EXPECT_EQ(check("shared_buffers", "128MB"), "128MB");
  EXPECT_EQ(check("shared_buffers", "1 GB"), "1GB");
  EXPECT_EQ(pg_setting_form(*find_pg_setting("shared_buffers"), "128MB"), "16384");
  EXPECT_EQ(pg_setting_form(*find_pg_setting("work_mem"), "8MB"), "8192");
  EXPECT_EQ(pg_setting_form(*find_pg_setting("statement_timeout"), "2s"), "2000");
  std::string why;
  EXPECT_FALSE(check("shared_buffers", "128ms", &why));
  EXPECT_NE(why.find("not a memory unit"), std::string::npos);
  EXPECT_FALSE(check("max_connections", "0", &why));
  EXPECT_NE(why.find("out of range 1 .. 262143"), std::string::npos) << why;
  EXPECT_FALSE(check("max_connections", "10MB", &why));
  EXPECT_FALSE(check("max_connections", "1.5", &why));
  EXPECT_FALSE(check("max_connections", "lots", &why));
}

TEST(PgSettings, BoolsEnumsRealsStrings) {
  EXPECT_EQ(check("jit", "TRUE"), "on");
  EXPECT_EQ(check("jit", "off"), "off");
  EXPECT_FALSE(check("jit", "maybe"));
  EXPECT_EQ(check("log_min_messages", "Warning"), "warning");
  EXPECT_FALSE(check("log_min_messages", "loud"));
  EXPECT_EQ(check("random_page_cost", "1.1"), "1.1");
  EXPECT_FALSE(check("random_page_cost", "-1"));
  EXPECT_EQ(check("application_name", "billing"), "billing");
  EXPECT_FALSE(check("application_name", "x' ; DROP"));
  EXPECT_FALSE(check("log_line_prefix", "a\nb"));
  EXPECT_FALSE(check("search_path", "a\\b"));
}

TEST(PgSettings, PatroniAndPghaOwnTheirs) {
  EXPECT_NE(pg_setting_refusal(*find_pg_setting("wal_level"), false).find("Patroni owns wal_level"),
            std::string::npos);
  EXPECT_NE(pg_setting_refusal(*find_pg_setting("archive_command"), false).find("pgha owns"),
            std::string::npos);
  EXPECT_EQ(pg_setting_refusal(*find_pg_setting("max_connections"), false), "");
  EXPECT_NE(pg_setting_refusal(*find_pg_setting("max_connections"), true).find("same on every member"),
            std::string::npos);
  EXPECT_EQ(pg_setting_refusal(*find_pg_setting("work_mem"), true), "");
}

TEST(PgSettings, DcsParametersAreCheckedAndOverPghas) {
  Inventory inv;
  inv.pg_parameters = {
      {"max_connections", "300"}, {"work_mem", "8MB"}, {"wal_level", "logical"}, {"bogus", "1"}};
  auto p = dcs_parameters(inv);
  EXPECT_EQ(p["max_connections"], "300");
  EXPECT_EQ(p["work_mem"], "8MB");
  EXPECT_EQ(p["wal_level"], "replica");  // refused at validate, never rendered
  EXPECT_FALSE(p.count("bogus"));
  EXPECT_TRUE(same_pg_value("work_mem", "8MB", "8192kB"));
  EXPECT_TRUE(same_pg_value("hot_standby", "on", "true"));
  EXPECT_FALSE(same_pg_value("work_mem", "8MB", "4MB"));
}

}  // namespace
}  // namespace pgha
