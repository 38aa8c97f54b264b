// The backup: block: how it is read (defaults, overrides, where cipher_pass goes), the OnCalendar
// grammar pgha accepts, and the rules. The exact diagnostics are in tests/data/bad-inventories/15x.
#include <gtest/gtest.h>

#include "core/inventory_parse.hpp"
#include "core/validate.hpp"
#include "core/value_grammar.hpp"

namespace pgha {
namespace {

const char* kBase = R"(cluster:
  name: t
nodes:
  - name: pg1
    address: 10.42.0.11
  - name: pg2
    address: 10.42.0.12
  - name: pg3
    address: 10.42.0.13
network:
  vip: 10.42.0.100
)";

struct Checked {
  std::optional<Inventory> inv;
  std::string messages;
};

Checked check(const std::string& extra) {
  auto out = parse_inventory(std::string(kBase) + extra, "inv.yml",
                             [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
  Checked c;
  for (const auto& d : out.diagnostics) c.messages += d.message + "\n";
  if (out.inventory) {
    for (const auto& d : validate_inventory(*out.inventory)) c.messages += d.message + "\n";
    c.inv = std::move(out.inventory);
  }
  return c;
}

TEST(BackupBlock, DefaultsWithoutTheBlock) {
  Checked c = check("");
  ASSERT_TRUE(c.inv);
  EXPECT_EQ(c.messages, "");
  const Backup& b = c.inv->backup;
  EXPECT_EQ(b.retention_full, 2);
  EXPECT_EQ(b.retention_diff, 7);
  EXPECT_EQ(b.compression, "gz");
  EXPECT_EQ(b.cipher_type, "none");
  EXPECT_EQ(b.from, "leader");
  EXPECT_EQ(b.schedule_full, "Sun *-*-* 01:00:00");
  EXPECT_EQ(b.schedule_diff, "Mon..Sat *-*-* 01:00:00");
}

TEST(BackupBlock, EveryKeyIsRead) {
  Checked c = check(R"(backup:
  retention_full: 4
  retention_diff: 12
  compression: lz4
  encryption: true
  cipher_pass: "0123456789abcdef-xyz"
  from: leader
  schedule:
    full: "Sat *-*-* 22:00:00"
    diff: daily
)");
  ASSERT_TRUE(c.inv);
  EXPECT_EQ(c.messages, "");
  const Backup& b = c.inv->backup;
  EXPECT_EQ(b.retention_full, 4);
  EXPECT_EQ(b.retention_diff, 12);
  EXPECT_EQ(b.compression, "lz4");
  EXPECT_EQ(b.cipher_type, "aes-256-cbc");
  EXPECT_EQ(c.inv->secrets.backup_cipher_pass, "0123456789abcdef-xyz");
  EXPECT_EQ(b.schedule_full, "Sat *-*-* 22:00:00");
  EXPECT_EQ(b.schedule_diff, "daily");
}

TEST(BackupBlock, EncryptionWithoutPassphraseIsGeneratedLater) {
  Checked c = check("backup:\n  encryption: true\n");
  ASSERT_TRUE(c.inv);
  EXPECT_EQ(c.messages, "");
  EXPECT_EQ(c.inv->backup.cipher_type, "aes-256-cbc");
  EXPECT_EQ(c.inv->secrets.backup_cipher_pass, "");
}

TEST(BackupBlock, TheOlderPgbackrestKeysStillWork) {
  Checked c = check("pgbackrest:\n  retention_full: 5\n  cipher_type: aes-256-cbc\n");
  ASSERT_TRUE(c.inv);
  EXPECT_EQ(c.messages, "");
  EXPECT_EQ(c.inv->backup.retention_full, 5);
  EXPECT_EQ(c.inv->backup.cipher_type, "aes-256-cbc");
}

TEST(BackupBlock, ThePassphraseIsNeverEchoed) {
  Checked c = check("backup:\n  encryption: true\n  cipher_pass: \"short pass\"\n");
  EXPECT_NE(c.messages.find("16 to 1024 printable ASCII"), std::string::npos) << c.messages;
  EXPECT_EQ(c.messages.find("short pass"), std::string::npos) << c.messages;
}

TEST(Calendar, AcceptsSystemdShapes) {
  for (const char* ok : {"daily", "weekly", "hourly", "Sun *-*-* 01:00:00", "Mon..Sat *-*-* 01:00:00",
                         "*-*-* 01:00:00", "Mon,Wed,Fri 02:30", "Sat,Sun *-*-* 00/6:00:00", "*-*-01 03:00:00",
                         "2026-*-* 00:00:00", "Mon..Fri", "04:00", "*:0/15", "Monday..Friday *-*-* 23:59:59",
                         "*-*~01 04:00", "*-*-1..9/2", "Sat..Sun 1..5/2:00", "*-*~28"}) {
    EXPECT_EQ(calendar_problem(ok), "") << ok;
  }
}

TEST(Calendar, RefusesWhatCouldEscapeTheUnitLine) {
  for (const char* bad :
       {"", "Sun *-*-* 01:00:00; rm -rf /", "daily\nExecStart=/bin/sh", "$(id)", "Sun  01:00", "Sun 01:00 ",
        " Sun", "Sonday *-*-* 01:00:00", "Sat,Sum 01:00", "*-*-* 01:00:00 *-*-*", "01:00 Sun",
        "Sun *-*-* 01:00:00 UTC", "daily;", "Mon..", "Sun *-*-* 01:00:00 Europe/Berlin",
        // Shapes systemd-analyze calendar refuses too.
        "*-*-* 25:00:00", "*-13-01", "*-*-*/9", "Fri..Mon", "*:*/5", "*-*~29", "*-*-*,31",
        "*-*-* 01:00:00/60", "9..1:00"}) {
    EXPECT_NE(calendar_problem(bad), "") << bad;
  }
  EXPECT_NE(calendar_problem(std::string(65, '1')), "");
}

}  // namespace
}  // namespace pgha
