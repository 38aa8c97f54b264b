// The restore's pure parts: the --to grammar, the preflight against the window, pgBackRest's options,
// the record in the state directory, and the stage machine (against fake steps that fail where told,
// then a second run that must finish without repeating a finished stage).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "roles/restore.hpp"

namespace pgha {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::filesystem::path(PGHA_SOURCE_DIR) / "tests/data" / name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(RestoreTarget, ParsesTheAcceptedForms) {
  EXPECT_EQ(*parse_target_time("2026-12-01 05:02:01"), 1796101321LL * 1000000);
  EXPECT_EQ(*parse_target_time("2026-12-01T05:02:01Z"), 1796101321LL * 1000000);
  EXPECT_EQ(*parse_target_time("2026-12-01 05:02:01.25"), 1796101321LL * 1000000 + 250000);
  EXPECT_EQ(*parse_target_time("2026-12-01 05:02:01.123456+00"), 1796101321LL * 1000000 + 123456);
  EXPECT_EQ(*parse_target_time("2026-12-01 06:02:01+01:00"), 1796101321LL * 1000000);
  EXPECT_EQ(*parse_target_time("2026-12-01 00:02:01-0500"), 1796101321LL * 1000000);
}

TEST(RestoreTarget, RefusesOtherText) {
  for (const char* bad : {"", "yesterday", "2026-12-01", "2026-13-01 00:00:00", "2026-02-30 00:00:00",
                          "2026-12-01 24:00:00", "2026-12-01 05:02:01.", "2026-12-01 05:02:01.1234567",
                          "2026-12-01 05:02:01 UTC", "2026-12-01 05:02:01+1"}) {
    auto t = parse_target_time(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.error().kind, ErrorKind::bad_input);
    EXPECT_NE(t.error().message.find("expected YYYY-MM-DD HH:MM:SS"), std::string::npos) << t.error().message;
  }
}

TEST(RestoreTarget, PgBackRestOptions) {
  RestoreTarget t{RestoreKind::time, 1796101321LL * 1000000 + 5, ""};
  EXPECT_EQ(restore_options(t),
            "--type=time --target='2026-12-01 05:02:01.000005+00' --target-action=promote");
  EXPECT_EQ(restore_options(RestoreTarget{RestoreKind::latest, 0, ""}), "--type=default");
  EXPECT_EQ(restore_options(RestoreTarget{RestoreKind::backup, 0, "20261201-050154F"}),
            "--set='20261201-050154F' --type=immediate --target-action=promote");
}

class Preflight : public ::testing::Test {
 protected:
  void SetUp() override {
    auto parsed = parse_pgbackrest_info(fixture("pgbackrest-info-2.45.json"), "pgha-backup");
    ASSERT_TRUE(parsed.ok());
    info = *parsed;
    window = recovery_window(info, 1796101500);  // 05:05:00
  }
  StanzaInfo info;
  RecoveryWindow window;
};

TEST_F(Preflight, InsideTheWindowPasses) {
  EXPECT_TRUE(check_target(RestoreTarget{RestoreKind::time, *parse_target_time("2026-12-01 05:03:00"), ""},
                           info, window)
                  .ok());
  EXPECT_TRUE(check_target(RestoreTarget{RestoreKind::latest, 0, ""}, info, window).ok());
  EXPECT_TRUE(check_target(RestoreTarget{RestoreKind::backup, 0, "20261201-050154F"}, info, window).ok());
}

TEST_F(Preflight, BeforeTheOldestBackupIsRefusedWithTheWindow) {
  auto s = check_target(RestoreTarget{RestoreKind::time, *parse_target_time("2026-12-01 05:02:01"), ""}, info,
                        window);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::bad_input);
  EXPECT_EQ(
      s.error().message,
      "the target 2026-12-01 05:02:01.000000+00 is outside the recoverable window from 2026-12-01 "
      "05:02:01+00 "
      "to 2026-12-01 05:05:00+00 (WAL 000000010000000000000008): it is not after the oldest backup's end");
}

TEST_F(Preflight, AfterTheArchiveIsRefused) {
  auto s = check_target(RestoreTarget{RestoreKind::time, *parse_target_time("2026-12-01 05:05:00.5"), ""},
                        info, window);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("no archived WAL reaches it yet"), std::string::npos);
}

TEST_F(Preflight, UnknownLabelNamesTheKnownOnes) {
  auto s = check_target(RestoreTarget{RestoreKind::backup, 0, "20261201-000000F"}, info, window);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "--backup 20261201-000000F: no such backup; the repository holds 20261201-050154F, "
            "20261201-050154F_20261201-050202D");
}

TEST_F(Preflight, NoBackupNothingToRestore) {
  StanzaInfo empty = info;
  empty.backups.clear();
  empty.status_message = "no valid backups";
  auto s =
      check_target(RestoreTarget{RestoreKind::latest, 0, ""}, empty, recovery_window(empty, std::nullopt));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "nothing to restore: stanza pgha-backup holds no backup (no valid backups)");
}

TEST(RestoreRecord, RoundTripsAndRefusesDamage) {
  RestoreRecord r{"20261201-050312", RestoreTarget{RestoreKind::time, 1796101321000005, ""}, "pg3",
                  RestoreStage::restored};
  auto back = record_from_json(record_json(r));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->id, r.id);
  EXPECT_TRUE(back->target == r.target);
  EXPECT_EQ(back->node, "pg3");
  EXPECT_EQ(back->stage, RestoreStage::restored);
  auto j = record_json(r);
  j["stage"] = "halfway";
  EXPECT_EQ(record_from_json(j).error().message, "restore.json: missing or unreadable field 'stage'");
  j = record_json(r);
  j["id"] = "../../etc";
  EXPECT_FALSE(record_from_json(j).ok());
}

TEST(RestoreRecord, FileStoreKeepsItUntilCleared) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("pgha-restore-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto store = file_restore_records(dir.string());
  auto none = store->load();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  RestoreRecord r{"id1", RestoreTarget{RestoreKind::backup, 0, "L"}, "pg1", RestoreStage::stopped};
  ASSERT_TRUE(store->save(r).ok());
  auto loaded = store->load();
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  EXPECT_EQ((*loaded)->stage, RestoreStage::stopped);
  EXPECT_EQ(std::filesystem::status(dir / "restore.json").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  ASSERT_TRUE(store->clear().ok());
  EXPECT_FALSE(store->load()->has_value());
  std::filesystem::remove_all(dir);
}

TEST(RestoreRecord, ResumeOnlyTheSameTarget) {
  RestoreTarget t{RestoreKind::time, 5000000, ""};
  auto fresh = resume_or_refuse(std::nullopt, t);
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(fresh->has_value());
  RestoreRecord r{"id", t, "pg2", RestoreStage::dcs_cleared};
  auto same = resume_or_refuse(r, t);
  ASSERT_TRUE(same.ok() && same->has_value());
  EXPECT_EQ((*same)->node, "pg2");
  auto other = resume_or_refuse(r, RestoreTarget{RestoreKind::latest, 0, ""});
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().kind, ErrorKind::bad_input);
  EXPECT_EQ(other.error().message,
            "a restore to 1970-01-01 00:00:05.000000+00 is in progress (stage dcs_cleared reached); run that "
            "restore "
            "again to finish it before another");
}

// Steps that log their calls and fail once at a named one.
class FakeSteps : public RestoreSteps {
 public:
  std::vector<std::string> calls;
  std::string fail_at;
  Status step(const std::string& name) {
    calls.push_back(name);
    if (name == fail_at) {
      fail_at.clear();
      return Error(ErrorKind::remote_failure, name + " failed").with("host pg1");
    }
    return {};
  }
  Status stop_cluster(const RestoreRecord&) override { return step("stop"); }
  Status clear_dcs(const RestoreRecord&) override { return step("dcs"); }
  Status restore_data(const RestoreRecord&) override { return step("restore"); }
  Status start_leader(const RestoreRecord&) override { return step("leader"); }
  Status rebuild_replicas(const RestoreRecord&) override { return step("replicas"); }
  Status check_archive(const RestoreRecord&) override { return step("archive"); }
  Status full_backup(const RestoreRecord&) override { return step("backup"); }
  Status verify(const RestoreRecord&) override { return step("verify"); }
  Status drop_old_data(const RestoreRecord&) override { return step("drop-old"); }
};

class MemoryStore : public RestoreRecordStore {
 public:
  std::optional<RestoreRecord> kept;
  std::vector<std::string> saved_stages;
  Result<std::optional<RestoreRecord>> load() override { return kept; }
  Status save(const RestoreRecord& r) override {
    kept = r;
    saved_stages.push_back(stage_name(r.stage));
    return {};
  }
  Status clear() override {
    kept.reset();
    return {};
  }
};

class NullProgress : public Progress {
 public:
  std::vector<std::string> phases;
  void phase_begin(const std::string& p) override { phases.push_back(p); }
  void phase_end(const std::string&, bool) override {}
  void node(const std::string&, const std::string&) override {}
  void info(const std::string&) override {}
  void warn(const std::string&) override {}
  std::vector<std::pair<std::string, double>> timings() const override { return {}; }
};

TEST(RestoreStages, AllInOrderThenTheRecordIsCleared) {
  FakeSteps steps;
  MemoryStore store;
  NullProgress progress;
  RestoreRecord rec{"id", RestoreTarget{}, "pg1", RestoreStage::planned};
  ASSERT_TRUE(run_restore_stages(rec, steps, store, progress, OldData::remove).ok());
  EXPECT_EQ(steps.calls, (std::vector<std::string>{"stop", "dcs", "restore", "leader", "replicas", "archive",
                                                   "backup", "verify", "drop-old"}));
  EXPECT_FALSE(store.kept.has_value());
  EXPECT_EQ(store.saved_stages.front(), "planned");
  EXPECT_EQ(store.saved_stages.back(), "verified");
  EXPECT_EQ(rec.stage, RestoreStage::done);
}

TEST(RestoreStages, KeepOldSkipsTheRemoval) {
  FakeSteps steps;
  MemoryStore store;
  NullProgress progress;
  RestoreRecord rec{"id", RestoreTarget{}, "pg1", RestoreStage::planned};
  ASSERT_TRUE(run_restore_stages(rec, steps, store, progress, OldData::keep).ok());
  EXPECT_EQ(steps.calls.back(), "verify");
}

// Every stage failing in turn: the record stays at the last finished stage, and running again from
// what was recorded finishes the restore, each stage done exactly once across both runs.
TEST(RestoreStages, AFailureAnywhereResumesFromTheRecordedStage) {
  const std::vector<std::string> all = {"stop",     "dcs",     "restore", "leader",
                                        "replicas", "archive", "backup",  "verify"};
  for (size_t k = 0; k < all.size(); ++k) {
    FakeSteps steps;
    steps.fail_at = all[k];
    MemoryStore store;
    NullProgress progress;
    RestoreRecord rec{"id", RestoreTarget{}, "pg1", RestoreStage::planned};
    Status first = run_restore_stages(rec, steps, store, progress, OldData::remove);
    ASSERT_FALSE(first.ok());
    EXPECT_NE(first.error().describe().find("restore stage"), std::string::npos) << first.error().describe();
    ASSERT_TRUE(store.kept.has_value());
    EXPECT_EQ(store.kept->stage, static_cast<RestoreStage>(k)) << all[k];
    RestoreRecord again = *store.kept;
    ASSERT_TRUE(run_restore_stages(again, steps, store, progress, OldData::remove).ok()) << all[k];
    std::vector<std::string> expected = all;
    expected.insert(expected.begin() + static_cast<long>(k), all[k]);  // the failed stage, tried twice
    expected.push_back("drop-old");
    EXPECT_EQ(steps.calls, expected) << all[k];
    EXPECT_FALSE(store.kept.has_value());
  }
}

}  // namespace
}  // namespace pgha
