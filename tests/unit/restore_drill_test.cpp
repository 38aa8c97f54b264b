// The restore drill (`pgha check restore`): LSNs and segment names, the server log's "redo done at",
// the judgement of a replay against the archive's newest segment, and the run against fake shells
// (tests/data/pgbackrest-info-2.45.json: newest segment 000000010000000000000008).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fakes/fake_shell.hpp"
#include "roles/restore_drill.hpp"

namespace pgha {
namespace {

using testing::FakeShell;

std::string fixture(const std::string& name) {
  std::ifstream in(std::filesystem::path(PGHA_SOURCE_DIR) / "tests/data" / name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(RestoreDrill, LsnsAndSegmentNames) {
  EXPECT_EQ(parse_lsn("16/B374D848"), 0x16B374D848ull);
  EXPECT_EQ(parse_lsn("0/F0000A0"), 0xF0000A0ull);
  EXPECT_FALSE(parse_lsn("0F0000A0"));
  EXPECT_FALSE(parse_lsn("0/"));
  EXPECT_FALSE(parse_lsn("g/1"));
  EXPECT_FALSE(parse_lsn("123456789/0"));
  EXPECT_EQ(format_lsn(0x16B374D848ull), "16/B374D848");
  // PostgreSQL's own: pg_walfile_name('16/B374D848') on timeline 1 is 0000000100000016000000B3.
  EXPECT_EQ(wal_segment_name(1, 0x16B374D848ull), "0000000100000016000000B3");
  EXPECT_EQ(wal_segment_name(3, 0xF0000A0ull), "00000003000000000000000F");
  auto w = parse_wal_segment("0000000300000001000000FF");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->timeline, 3u);
  EXPECT_EQ(w->number, 0x1FFu);
  EXPECT_FALSE(parse_wal_segment("000000030000000100000100"));  // no such segment with 16 MiB
  EXPECT_FALSE(parse_wal_segment("00000003000000010000000"));
}

TEST(RestoreDrill, RedoDoneIsTheLastOneLogged) {
  const std::string log =
      "2026-12-01 18:11:48.768 UTC [624] LOG:  redo done at 0/F000028 system usage: CPU: user: 0.02 s\n"
      "2026-12-01 18:12:48.768 UTC [624] LOG:  redo done at 0/11000028 system usage: CPU: user: 0.01 s\n";
  EXPECT_EQ(redo_done_lsn(log), 0x11000028ull);
  EXPECT_FALSE(redo_done_lsn("LOG:  redo is not required\n"));
}

TEST(RestoreDrill, AReplayShortOfTheArchiveNamesTheMissingSegment) {
  EXPECT_EQ(replay_shortfall("000000030000000000000011", 0x11000028ull), "");
  EXPECT_EQ(replay_shortfall("000000030000000000000011", 0x12000000ull), "");
  const std::string why = replay_shortfall("000000030000000000000014", 0x11000028ull);
  EXPECT_NE(why.find("stopped at 0/11000028"), std::string::npos) << why;
  EXPECT_NE(why.find("WAL segment 000000030000000000000012 is missing"), std::string::npos) << why;
  EXPECT_NE(replay_shortfall("not-a-segment", 0), "");
}

// A healthy archive: the copy replays into the newest segment, both databases answer, the copy is
// removed, and nothing runs on the leader but pgBackRest's check.
TEST(RestoreDrill, PassesAndRemovesItsCopy) {
  FakeShell leader("pg1"), drill("pg2");
  drill.on("--output=json info", CommandResult{0, fixture("pgbackrest-info-2.45.json"), ""});
  drill.on("SELECT pg_is_in_recovery()", CommandResult{0, "f\n", ""});
  drill.on("cat /var/lib/pgha/drill-run/postgresql.log",
           CommandResult{0, "LOG:  redo done at 0/8000110 system usage\n", ""});
  drill.on("SELECT datname FROM pg_database", CommandResult{0, "ok app\nok postgres\n", ""});
  auto rep = run_restore_drill(leader, drill, "pg2", "pgha-backup", "/usr/lib/postgresql/15/bin", 5);
  ASSERT_TRUE(rep) << rep.error().describe();
  EXPECT_EQ(rep->backup, "20261201-050154F_20261201-050202D");
  EXPECT_EQ(rep->wal_max, "000000010000000000000008");
  EXPECT_EQ(rep->databases, (std::vector<std::string>{"app", "postgres"}));
  ASSERT_EQ(leader.commands.size(), 1u);
  EXPECT_NE(leader.commands[0].find(" check"), std::string::npos);
  const std::string restore = drill.commands[1];
  EXPECT_NE(restore.find("--pg1-path=/var/lib/pgha/drill --set='20261201-050154F_20261201-050202D' "
                         "--type=default --archive-mode=off restore"),
            std::string::npos)
      << restore;
  EXPECT_NE(drill.commands.back().find("rm -rf /var/lib/pgha/drill /var/lib/pgha/drill-run"),
            std::string::npos);
  // The copy never listens on TCP and never archives into the repository.
  const auto start = std::find_if(drill.commands.begin(), drill.commands.end(), [](const std::string& c) {
    return c.find(" -W start") != std::string::npos;
  });
  ASSERT_NE(start, drill.commands.end());
  EXPECT_NE(start->find("-c listen_addresses=''"), std::string::npos);
  EXPECT_NE(start->find("-c archive_mode=off"), std::string::npos);
}

// A segment deleted from the repository: recovery ends at the gap, and the drill fails naming it,
// with its copy removed all the same.
TEST(RestoreDrill, AMissingSegmentFailsTheDrill) {
  FakeShell leader("pg1"), drill("pg2");
  drill.on("--output=json info", CommandResult{0, fixture("pgbackrest-info-2.45.json"), ""});
  drill.on("SELECT pg_is_in_recovery()", CommandResult{0, "f\n", ""});
  drill.on("cat /var/lib/pgha/drill-run/postgresql.log",
           CommandResult{0, "LOG:  redo done at 0/6000060 system usage\n", ""});
  auto rep = run_restore_drill(leader, drill, "pg2", "pgha-backup", "/usr/lib/postgresql/15/bin", 5);
  ASSERT_FALSE(rep);
  EXPECT_EQ(rep.error().kind, ErrorKind::conflict);
  EXPECT_NE(rep.error().message.find("WAL segment 000000010000000000000007 is missing"), std::string::npos)
      << rep.error().message;
  EXPECT_NE(drill.commands.back().find("rm -rf /var/lib/pgha/drill"), std::string::npos);
}

// PostgreSQL gives up during recovery (a segment the backup itself needs is gone): the drill fails
// with the log's last lines.
TEST(RestoreDrill, ARecoveryThatStopsFailsTheDrillWithItsLog) {
  FakeShell leader("pg1"), drill("pg2");
  drill.on("--output=json info", CommandResult{0, fixture("pgbackrest-info-2.45.json"), ""});
  drill.on("SELECT pg_is_in_recovery()",
           CommandResult{0, "@@not-running@@\nFATAL:  WAL ends before end of online backup\n", ""});
  auto rep = run_restore_drill(leader, drill, "pg2", "pgha-backup", "/usr/lib/postgresql/15/bin", 5);
  ASSERT_FALSE(rep);
  EXPECT_EQ(rep.error().kind, ErrorKind::conflict);
  EXPECT_NE(rep.error().message.find("WAL ends before end of online backup"), std::string::npos);
  EXPECT_NE(drill.commands.back().find("rm -rf /var/lib/pgha/drill"), std::string::npos);
}

TEST(RestoreDrill, NoBackupIsSaidBeforeAnythingIsRestored) {
  FakeShell leader("pg1"), drill("pg2");
  drill.on("--output=json info", CommandResult{0, fixture("pgbackrest-info-2.45-empty.json"), ""});
  auto rep = run_restore_drill(leader, drill, "pgha-backup", "pgha-backup", "/usr/lib/postgresql/15/bin", 5);
  ASSERT_FALSE(rep);
  EXPECT_NE(rep.error().message.find("no backup"), std::string::npos);
  for (const auto& c : drill.commands) EXPECT_EQ(c.find(" restore"), std::string::npos) << c;
}

}  // namespace
}  // namespace pgha
