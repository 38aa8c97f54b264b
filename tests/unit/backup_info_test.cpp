// pgBackRest 2.45's `info --output=json`, captured from a real stanza (tests/data/pgbackrest-info-2.45*.json:
// a full and a differential backup; a stanza with none), read into StanzaInfo and the recoverable window.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "roles/backup.hpp"

namespace pgha {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::filesystem::path(PGHA_SOURCE_DIR) / "tests/data" / name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(BackupInfo, ReadsEveryBackupOfTheRealOutput) {
  auto info = parse_pgbackrest_info(fixture("pgbackrest-info-2.45.json"), "pgha-backup");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->status_code, 0);
  EXPECT_EQ(info->status_message, "ok");
  EXPECT_FALSE(info->backup_running);
  EXPECT_EQ(info->system_id, "7714196049827807456");
  EXPECT_EQ(info->wal_min, "000000010000000000000001");
  EXPECT_EQ(info->wal_max, "000000010000000000000008");
  ASSERT_EQ(info->backups.size(), 2u);
  const BackupSet& full = info->backups[0];
  EXPECT_EQ(full.label, "20261201-050154F");
  EXPECT_EQ(full.type, "full");
  EXPECT_EQ(full.start, 1796101314);
  EXPECT_EQ(full.stop, 1796101321);
  EXPECT_EQ(full.size, 30518151);
  EXPECT_EQ(full.repo_size, 4081751);
  EXPECT_EQ(full.wal_start, "000000010000000000000006");
  const BackupSet& diff = info->backups[1];
  EXPECT_EQ(diff.label, "20261201-050154F_20261201-050202D");
  EXPECT_EQ(diff.type, "diff");
  EXPECT_EQ(diff.repo_size, 429);
  EXPECT_EQ(diff.wal_stop, "000000010000000000000008");
}

TEST(BackupInfo, AStanzaWithoutBackupsIsNoError) {
  auto info = parse_pgbackrest_info(fixture("pgbackrest-info-2.45-empty.json"), "pgha-backup");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->status_code, 2);
  EXPECT_EQ(info->status_message, "no valid backups");
  EXPECT_TRUE(info->backups.empty());
  RecoveryWindow w = recovery_window(*info, 1796101400);
  EXPECT_FALSE(w.any);
  EXPECT_EQ(describe_window(w), "no recoverable window: the repository holds no backup");
}

TEST(BackupInfo, UnknownStanzaAndGarbage) {
  auto other = parse_pgbackrest_info(fixture("pgbackrest-info-2.45.json"), "other");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().kind, ErrorKind::not_found);
  EXPECT_EQ(parse_pgbackrest_info("ERROR: [056]: unable to find primary", "x").error().kind,
            ErrorKind::bad_input);
  EXPECT_EQ(parse_pgbackrest_info("{}", "x").error().kind, ErrorKind::bad_input);
  // Wrong types read as absent, never as an exception.
  auto odd = parse_pgbackrest_info(
      R"([{"name":"x","status":"ok","db":[{"id":1}],"backup":[{"label":7,"database":{"id":1}},{"label":"L","timestamp":"no","database":{"id":1}}]}])",
      "x");
  ASSERT_TRUE(odd.ok());
  ASSERT_EQ(odd->backups.size(), 1u);
  EXPECT_EQ(odd->backups[0].label, "L");
  EXPECT_EQ(odd->backups[0].stop, 0);
}

TEST(BackupInfo, WindowRunsFromTheOldestStopToTheArchive) {
  auto info = parse_pgbackrest_info(fixture("pgbackrest-info-2.45.json"), "pgha-backup");
  ASSERT_TRUE(info.ok());
  RecoveryWindow w = recovery_window(*info, 1796101500);
  ASSERT_TRUE(w.any);
  EXPECT_EQ(w.start, 1796101321);
  ASSERT_TRUE(w.end.has_value());
  EXPECT_EQ(*w.end, 1796101500);
  EXPECT_EQ(w.end_wal, "000000010000000000000008");
  EXPECT_EQ(describe_window(w),
            "the recoverable window from 2026-12-01 05:02:01+00 to 2026-12-01 05:05:00+00 (WAL "
            "000000010000000000000008)");
  RecoveryWindow open = recovery_window(*info, std::nullopt);
  EXPECT_FALSE(open.end.has_value());
  EXPECT_EQ(describe_window(open),
            "the recoverable window from 2026-12-01 05:02:01+00 to the newest archived WAL (WAL "
            "000000010000000000000008)");
}

TEST(BackupInfo, ListAsTextAndJson) {
  auto info = parse_pgbackrest_info(fixture("pgbackrest-info-2.45.json"), "pgha-backup");
  ASSERT_TRUE(info.ok());
  RecoveryWindow w = recovery_window(*info, 1796101500);
  const std::string text = format_backup_list(*info, w);
  EXPECT_NE(
      text.find("20261201-050154F_20261201-050202D    diff  2026-12-01 05:02:02    2026-12-01 05:02:06"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("29.1 MiB"), std::string::npos) << text;
  auto j = backup_list_json(*info, w);
  ASSERT_EQ(j["backups"].size(), 2u);
  EXPECT_EQ(j["backups"][0]["label"], "20261201-050154F");
  EXPECT_EQ(j["backups"][0]["type"], "full");
  EXPECT_EQ(j["backups"][0]["start"], "2026-12-01 05:01:54+00");
  EXPECT_EQ(j["backups"][0]["stop"], "2026-12-01 05:02:01+00");
  EXPECT_EQ(j["backups"][0]["size"], 30518151);
  EXPECT_EQ(j["window"]["start"], "2026-12-01 05:02:01+00");
  EXPECT_EQ(j["window"]["end"], "2026-12-01 05:05:00+00");
}

TEST(BackupInfo, Formats) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(4081751), "3.9 MiB");
  EXPECT_EQ(format_bytes(1536LL * 1024 * 1024), "1.5 GiB");
  EXPECT_EQ(format_utc_us(1796101321250000), "2026-12-01 05:02:01.250000+00");
  EXPECT_EQ(backup_type_from_string("diff"), BackupType::diff);
  EXPECT_FALSE(backup_type_from_string("differential").has_value());
}

}  // namespace
}  // namespace pgha
