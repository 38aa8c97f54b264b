// `pgha status`'s backup lines: the probe's parts folded into a BackupStatus (pgBackRest 2.45's real
// `info` JSON, systemctl show's blocks), and the text and JSON made of it.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "roles/status.hpp"

namespace pgha {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream f(std::string(PGHA_SOURCE_DIR) + "/tests/data/" + name);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const char* kUnitsOk =
    "Result=success\nExecMainExitTimestamp=Wed 2026-12-02 01:00:04 UTC\nId=pgha-backup@full.service\n\n"
    "Result=success\nExecMainExitTimestamp=\nId=pgha-backup@diff.service\n";
const char* kUnitsDiffFailed =
    "Result=success\nExecMainExitTimestamp=\nId=pgha-backup@full.service\n\n"
    "Result=exit-code\nExecMainExitTimestamp=Wed 2026-12-02 01:00:09 UTC\nId=pgha-backup@diff.service\n";

TEST(StatusBackup, TheLeadersInfoGivesTheNewestBackupAndWal) {
  BackupStatus b;
  b.expected = true;
  const std::string info = "1796101326\n" + fixture("pgbackrest-info-2.45.json");
  const std::string units = kUnitsOk;
  absorb_backup("pg2", &units, nullptr, "pgha-backup", b);
  absorb_backup("pg1", &units, &info, "pgha-backup", b);
  ASSERT_TRUE(b.answered);
  ASSERT_TRUE(b.last);
  EXPECT_EQ(b.last->label, "20261201-050154F_20261201-050202D");
  EXPECT_EQ(b.last->type, "diff");
  EXPECT_EQ(b.wal_max, "000000010000000000000008");
  EXPECT_TRUE(b.failed.empty());
  EXPECT_EQ(
      format_backup_status(b),
      "\nbackup: last diff 20261201-050154F_20261201-050202D, finished 2026-12-01 05:02:06+00 (0 s ago); "
      "WAL archived up to 000000010000000000000008\n");
  const auto j = backup_status_json(b);
  EXPECT_EQ(j["last"]["label"], "20261201-050154F_20261201-050202D");
  EXPECT_EQ(j["last"]["age_seconds"], 0);
  EXPECT_EQ(j["wal_max"], "000000010000000000000008");
  EXPECT_TRUE(j["failed_scheduled"].empty());
}

TEST(StatusBackup, AFailedScheduledRunIsFlagged) {
  BackupStatus b;
  b.expected = true;
  const std::string info = "1796108526\n" + fixture("pgbackrest-info-2.45.json");
  const std::string failed = kUnitsDiffFailed;
  absorb_backup("pg1", &failed, &info, "pgha-backup", b);
  ASSERT_EQ(b.failed.size(), 1u);
  EXPECT_EQ(b.failed[0].node, "pg1");
  EXPECT_EQ(b.failed[0].type, "diff");
  EXPECT_EQ(b.failed[0].result, "exit-code");
  const std::string text = format_backup_status(b);
  EXPECT_NE(text.find("(2 h 0 min ago)"), std::string::npos) << text;
  EXPECT_NE(text.find("  ! the scheduled diff backup failed on pg1 (exit-code, Wed 2026-12-02 01:00:09 UTC): "
                      "journalctl -u pgha-backup@diff.service\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(backup_status_json(b)["failed_scheduled"][0]["result"], "exit-code");
}

TEST(StatusBackup, AnEmptyRepositoryAndASilentLeader) {
  BackupStatus empty;
  empty.expected = true;
  const std::string info = "1796101326\n" + fixture("pgbackrest-info-2.45-empty.json");
  absorb_backup("pg1", nullptr, &info, "pgha-backup", empty);
  EXPECT_TRUE(empty.answered);
  EXPECT_EQ(format_backup_status(empty).rfind("\nbackup: no backup in the repository yet", 0), 0u);
  EXPECT_TRUE(backup_status_json(empty)["last"].is_null());

  BackupStatus refused;
  refused.expected = true;
  const std::string error = "1796101326\nERROR: [103]: unable to find a valid repository\n";
  absorb_backup("pg1", nullptr, &error, "pgha-backup", refused);
  EXPECT_FALSE(refused.answered);
  EXPECT_EQ(format_backup_status(refused),
            "\nbackup: (pgbackrest info on pg1: ERROR: [103]: unable to find a valid repository)\n");

  BackupStatus none;
  EXPECT_EQ(format_backup_status(none), "");
}

TEST(StatusBackup, Ages) {
  EXPECT_EQ(format_age(42), "42 s");
  EXPECT_EQ(format_age(300), "5 min");
  EXPECT_EQ(format_age(3 * 3600 + 12 * 60), "3 h 12 min");
  EXPECT_EQ(format_age(52 * 3600), "2 d 4 h");
  EXPECT_EQ(format_age(-5), "0 s");
}

TEST(StatusBackup, OnlyPgbackrestNodesProbeAndOnlyTheLeaderReads) {
  Inventory inv;
  inv.cluster_name = "demo";
  Node n;
  n.name = "pg1";
  n.address = "10.0.0.1";
  n.roles = {Role::etcd, Role::patroni, Role::pgbackrest};
  const std::string part = backup_probe_part(inv, n);
  EXPECT_NE(part.find("systemctl show -p Id,Result,ExecMainExitTimestamp pgha-backup@full.service "
                      "pgha-backup@diff.service"),
            std::string::npos);
  EXPECT_NE(part.find("http://10.0.0.1:8008/leader)\" = 200 ]; then echo @@backup"), std::string::npos)
      << part;
  n.roles = {Role::etcd, Role::patroni};
  EXPECT_EQ(backup_probe_part(inv, n), "");
}

}  // namespace
}  // namespace pgha
