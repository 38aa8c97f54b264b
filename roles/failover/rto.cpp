#include "roles/failover/rto.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace pgha {

std::optional<double> detected_at(const std::vector<LeaderSample>& samples, const std::string& old_primary,
                                  double fault_at) {
  std::optional<double> best;
  for (const auto& s : samples) {
    if (s.at < fault_at) continue;
    bool still = s.leader == old_primary && s.leader_state == "running";
    if (!still && (!best || s.at < *best)) best = s.at;
  }
  return best;
}

std::optional<double> leader_running_at(const std::vector<LeaderSample>& samples, double after) {
  std::optional<double> best;
  for (const auto& s : samples) {
    if (s.at < after || s.leader.empty() || s.leader_state != "running") continue;
    if (!best || s.at < *best) best = s.at;
  }
  return best;
}

std::optional<double> parse_iso8601(const std::string& s) {
  int y, mo, d, h, mi, sec, n = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
    return std::nullopt;
  size_t i = 19;
  double frac = 0;
  if (i < s.size() && s[i] == '.') {
    double scale = 0.1;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, scale /= 10) frac += (s[i] - '0') * scale;
  }
  int offset = 0;
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om, m = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d%n", &oh, &om, &m) != 2 || m != 5) return std::nullopt;
    offset = (s[i] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    i += 6;
  }
  if (i != s.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<double>(timegm(&tm) - offset) + frac;
}

Result<std::vector<HistoryEntry>> parse_patroni_history(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_array())
    return Error(ErrorKind::bad_input, "Patroni /history is not a JSON array");
  std::vector<HistoryEntry> out;
  for (const auto& line : j) {
    if (!line.is_array() || line.empty() || !line[0].is_number_integer())
      return Error(ErrorKind::bad_input, "Patroni /history line is not [timeline, lsn, ...]");
    HistoryEntry e;
    e.timeline = line[0].get<int>();
    if (line.size() > 3 && line[3].is_string()) e.at = parse_iso8601(line[3].get<std::string>()).value_or(0);
    if (line.size() > 4 && line[4].is_string()) e.new_leader = line[4].get<std::string>();
    out.push_back(std::move(e));
  }
  return out;
}

RtoBreakdown split_rto(double fault_at, std::optional<double> detected, std::optional<double> promoted,
                       std::optional<double> first_ack) {
  RtoBreakdown b;
  if (!first_ack) return b;
  const double end = std::max(fault_at, *first_ack);
  b.total = end - fault_at;
  double d = std::clamp(detected.value_or(fault_at), fault_at, end);
  double p = std::clamp(promoted.value_or(d), d, end);
  b.detection = d - fault_at;
  b.promotion = p - d;
  b.routing = end - p;
  return b;
}

RtoBreakdown split_rto_guarded(double fault_at, const GuardPhases& guard, std::optional<double> detected,
                               std::optional<double> promoted, std::optional<double> first_ack) {
  if (!guard.suspected || !guard.confirmed || !guard.released || !first_ack)
    return split_rto(fault_at, detected, promoted, first_ack);
  RtoBreakdown b;
  const double end = std::max(fault_at, *first_ack);
  b.total = end - fault_at;
  double s = std::clamp(*guard.suspected, fault_at, end);
  double c = std::clamp(*guard.confirmed, s, end);
  double r = std::clamp(*guard.released, c, end);
  double p = std::clamp(promoted.value_or(r), r, end);
  b.detection = s - fault_at;
  b.fence = c - s;
  b.release = r - c;
  b.promotion = p - r;
  b.routing = end - p;
  return b;
}

}  // namespace pgha
