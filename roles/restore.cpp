#include "roles/restore.hpp"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include "roles/remote.hpp"
#include "roles/state.hpp"

namespace pgha {
namespace {

constexpr const char* kTimeForm = "YYYY-MM-DD HH:MM:SS[.ffffff][Z|+HH:MM] (UTC when no zone is given)";

bool digits(const std::string& s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

Error bad_time(const std::string& text, const std::string& why) {
  return Error(ErrorKind::bad_input, "--to '" + text + "': " + why + "; expected " + kTimeForm);
}

}  // namespace

Result<int64_t> parse_target_time(const std::string& text) {
  const std::string& s = text;
  int y, mo, d, h, mi, se;
  if (!digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != ' ' && s[10] != 'T') || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
    return bad_time(text, "not a date and time");
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59)
    return bad_time(text, "a field is out of range");
  size_t pos = 19;
  int64_t us = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    int n = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (n >= 6) return bad_time(text, "more than 6 fractional digits");
      us = us * 10 + (s[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) return bad_time(text, "no digit after the decimal point");
    for (; n < 6; ++n) us *= 10;
  }
  int64_t offset_s = 0;
  if (pos < s.size()) {
    if (s[pos] == 'Z' && pos + 1 == s.size()) {
      pos = s.size();
    } else if (s[pos] == '+' || s[pos] == '-') {
      const int sign = s[pos] == '-' ? -1 : 1;
      int oh = 0, om = 0;
      if (!digits(s, pos + 1, 2, oh)) return bad_time(text, "a zone offset needs two digits of hours");
      size_t p = pos + 3;
      if (p < s.size() && s[p] == ':') ++p;
      if (p < s.size()) {
        if (!digits(s, p, 2, om) || p + 2 != s.size()) return bad_time(text, "unreadable zone offset");
      }
      if (oh > 14 || om > 59) return bad_time(text, "zone offset out of range");
      offset_s = sign * (oh * 3600 + om * 60);
      pos = s.size();
    } else {
      return bad_time(text, "unexpected text after the time");
    }
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  const std::time_t epoch = timegm(&tm);
  std::tm back{};
  gmtime_r(&epoch, &back);
  if (back.tm_mday != d || back.tm_mon != mo - 1) return bad_time(text, "no such day");
  return (static_cast<int64_t>(epoch) - offset_s) * 1000000 + us;
}

std::string describe_target(const RestoreTarget& t) {
  switch (t.kind) {
    case RestoreKind::time: return "to " + format_utc_us(t.time_us);
    case RestoreKind::latest: return "to the end of the archived WAL";
    case RestoreKind::backup: return "to backup " + t.label;
  }
  return "";
}

std::string restore_options(const RestoreTarget& t) {
  switch (t.kind) {
    case RestoreKind::time:
      return "--type=time --target=" + shell_quote(format_utc_us(t.time_us)) + " --target-action=promote";
    case RestoreKind::latest: return "--type=default";
    case RestoreKind::backup:
      return "--set=" + shell_quote(t.label) + " --type=immediate --target-action=promote";
  }
  return "";
}

Status check_target(const RestoreTarget& t, const StanzaInfo& info, const RecoveryWindow& w) {
  if (!w.any)
    return Error(ErrorKind::bad_input, "nothing to restore: stanza " + info.name + " holds no backup (" +
                                           info.status_message + ")");
  switch (t.kind) {
    case RestoreKind::latest: return {};
    case RestoreKind::backup: {
      std::string labels;
      for (const auto& b : info.backups) {
        if (b.label == t.label) return {};
        labels += (labels.empty() ? "" : ", ") + b.label;
      }
      return Error(ErrorKind::bad_input,
                   "--backup " + t.label + ": no such backup; the repository holds " + labels);
    }
    case RestoreKind::time: {
      // pgBackRest picks a backup whose stop is strictly before the target (whole seconds).
      const int64_t seconds = t.time_us / 1000000;
      if (seconds <= w.start)
        return Error(ErrorKind::bad_input, "the target " + format_utc_us(t.time_us) + " is outside " +
                                               describe_window(w) +
                                               ": it is not after the oldest backup's end");
      if (w.end && t.time_us > *w.end * 1000000)
        return Error(ErrorKind::bad_input, "the target " + format_utc_us(t.time_us) + " is outside " +
                                               describe_window(w) + ": no archived WAL reaches it yet");
      return {};
    }
  }
  return {};
}

const char* stage_name(RestoreStage s) {
  switch (s) {
    case RestoreStage::planned: return "planned";
    case RestoreStage::stopped: return "stopped";
    case RestoreStage::dcs_cleared: return "dcs_cleared";
    case RestoreStage::restored: return "restored";
    case RestoreStage::leader_started: return "leader_started";
    case RestoreStage::replicas_rebuilt: return "replicas_rebuilt";
    case RestoreStage::archived: return "archived";
    case RestoreStage::backed_up: return "backed_up";
    case RestoreStage::verified: return "verified";
    case RestoreStage::done: return "done";
  }
  return "planned";
}

std::optional<RestoreStage> stage_from_name(const std::string& s) {
  for (int i = 0; i <= static_cast<int>(RestoreStage::done); ++i) {
    auto st = static_cast<RestoreStage>(i);
    if (s == stage_name(st)) return st;
  }
  return std::nullopt;
}

nlohmann::json record_json(const RestoreRecord& r) {
  nlohmann::json j;
  j["id"] = r.id;
  j["kind"] = r.target.kind == RestoreKind::time     ? "time"
              : r.target.kind == RestoreKind::backup ? "backup"
                                                     : "latest";
  if (r.target.kind == RestoreKind::time) {
    j["time_us"] = r.target.time_us;
    j["time"] = format_utc_us(r.target.time_us);
  }
  if (r.target.kind == RestoreKind::backup) j["label"] = r.target.label;
  j["node"] = r.node;
  j["stage"] = stage_name(r.stage);
  return j;
}

Result<RestoreRecord> record_from_json(const nlohmann::json& j) {
  auto bad = [](const std::string& field) {
    return Error(ErrorKind::bad_input, "restore.json: missing or unreadable field '" + field + "'");
  };
  if (!j.is_object()) return bad("(the whole file)");
  RestoreRecord r;
  if (!j.contains("id") || !j["id"].is_string()) return bad("id");
  r.id = j["id"].get<std::string>();
  if (!j.contains("node") || !j["node"].is_string()) return bad("node");
  r.node = j["node"].get<std::string>();
  if (!j.contains("stage") || !j["stage"].is_string() || !stage_from_name(j["stage"].get<std::string>()))
    return bad("stage");
  r.stage = *stage_from_name(j["stage"].get<std::string>());
  const std::string kind = j.value("kind", "");
  if (kind == "time") {
    if (!j.contains("time_us") || !j["time_us"].is_number_integer()) return bad("time_us");
    r.target.kind = RestoreKind::time;
    r.target.time_us = j["time_us"].get<int64_t>();
  } else if (kind == "backup") {
    if (!j.contains("label") || !j["label"].is_string()) return bad("label");
    r.target.kind = RestoreKind::backup;
    r.target.label = j["label"].get<std::string>();
  } else if (kind == "latest") {
    r.target.kind = RestoreKind::latest;
  } else {
    return bad("kind");
  }
  if (r.id.empty() || r.node.empty()) return bad(r.id.empty() ? "id" : "node");
  for (char c : r.id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return bad("id");
  }
  return r;
}

namespace {

class FileRestoreRecords : public RestoreRecordStore {
 public:
  explicit FileRestoreRecords(std::string path) : path_(std::move(path)) {}
  Result<std::optional<RestoreRecord>> load() override {
    std::ifstream in(path_, std::ios::binary);
    if (!in) return std::optional<RestoreRecord>{};
    std::stringstream ss;
    ss << in.rdbuf();
    auto j = nlohmann::json::parse(ss.str(), nullptr, false);
    auto r = record_from_json(j);
    if (!r) return std::move(r.error()).with(path_);
    return std::optional<RestoreRecord>(std::move(r.value()));
  }
  Status save(const RestoreRecord& r) override {
    return write_file_atomic(path_, record_json(r).dump(2) + "\n", 0600);
  }
  Status clear() override {
    if (std::remove(path_.c_str()) != 0 && errno != ENOENT)
      return Error(ErrorKind::io, "cannot remove " + path_);
    return {};
  }

 private:
  std::string path_;
};

}  // namespace

std::unique_ptr<RestoreRecordStore> file_restore_records(const std::string& state_dir) {
  return std::make_unique<FileRestoreRecords>(state_dir + "/restore.json");
}

Result<std::optional<RestoreRecord>> resume_or_refuse(const std::optional<RestoreRecord>& recorded,
                                                      const RestoreTarget& asked) {
  if (!recorded) return std::optional<RestoreRecord>{};
  if (recorded->target == asked) return recorded;
  return Error(ErrorKind::bad_input, "a restore " + describe_target(recorded->target) +
                                         " is in progress (stage " + stage_name(recorded->stage) +
                                         " reached); run that restore again to finish it before another");
}

Status run_restore_stages(RestoreRecord& rec, RestoreSteps& steps, RestoreRecordStore& store,
                          Progress& progress, OldData old_data) {
  struct Stage {
    RestoreStage reached;
    const char* phase;
    Status (RestoreSteps::*run)(const RestoreRecord&);
  };
  const Stage stages[] = {
      {RestoreStage::stopped, "stop", &RestoreSteps::stop_cluster},
      {RestoreStage::dcs_cleared, "dcs", &RestoreSteps::clear_dcs},
      {RestoreStage::restored, "restore", &RestoreSteps::restore_data},
      {RestoreStage::leader_started, "leader", &RestoreSteps::start_leader},
      {RestoreStage::replicas_rebuilt, "replicas", &RestoreSteps::rebuild_replicas},
      {RestoreStage::archived, "archive", &RestoreSteps::check_archive},
      {RestoreStage::backed_up, "backup", &RestoreSteps::full_backup},
      {RestoreStage::verified, "verify", &RestoreSteps::verify},
  };
  if (auto s = store.save(rec); !s) return s;
  for (const auto& st : stages) {
    if (rec.stage >= st.reached) continue;
    progress.phase_begin(st.phase);
    Status s = (steps.*st.run)(rec);
    progress.phase_end(st.phase, s.ok());
    if (!s) return std::move(s.error()).with(std::string("restore stage ") + st.phase);
    rec.stage = st.reached;
    if (auto saved = store.save(rec); !saved) return saved;
  }
  if (old_data == OldData::remove) {
    if (auto s = steps.drop_old_data(rec); !s) return s;
  }
  rec.stage = RestoreStage::done;
  return store.clear();
}

}  // namespace pgha
