#include "roles/failover/report.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>

namespace pgha {
namespace {

std::string secs(double s) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(2) << s;
  return o.str();
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

nlohmann::json opt(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json stats_json(const Stats& s) {
  if (s.n == 0) return nullptr;
  return {{"min", s.min}, {"median", s.median}, {"max", s.max}, {"n", s.n}};
}

// The series the summary reports, by name, with each run's value when it has one.
std::vector<std::pair<std::string, std::vector<double>>> series(const std::vector<RunResult>& runs) {
  std::vector<std::pair<std::string, std::vector<double>>> out = {
      {"rto_s", {}},     {"detection_s", {}},  {"promotion_s", {}}, {"routing_s", {}},
      {"rto_vip_s", {}}, {"rto_direct_s", {}}, {"write_gap_s", {}}, {"rejoin_s", {}}};
  for (const auto& r : runs) {
    if (r.rto.total) {
      out[0].second.push_back(*r.rto.total);
      out[1].second.push_back(r.rto.detection);
      out[2].second.push_back(r.rto.promotion);
      out[3].second.push_back(r.rto.routing);
    }
    if (auto* p = path_of(r, "vip"); p && p->rto_s) out[4].second.push_back(*p->rto_s);
    if (auto* p = path_of(r, "direct"); p && p->rto_s) out[5].second.push_back(*p->rto_s);
    if (auto* p = path_of(r, "haproxy")) out[6].second.push_back(p->write_gap_s);
    if (r.rejoin_s) out[7].second.push_back(*r.rejoin_s);
  }
  return out;
}

int total_lost(const RunResult& r) {
  int n = 0;
  for (const auto& p : r.paths) n += p.lost;
  return n;
}

}  // namespace

const PathResult* path_of(const RunResult& r, const std::string& via) {
  for (const auto& p : r.paths)
    if (p.via == via) return &p;
  return nullptr;
}

std::vector<Verdict> verdicts(const RunResult& r, const Limits& limits) {
  std::vector<Verdict> v;
  if (!r.error.empty()) v.push_back({"cycle", false, r.error});
  if (!r.rto.total) {
    v.push_back({"rto", false, "writes through the load balancer never resumed"});
  } else if (limits.max_rto_s > 0 && *r.rto.total > limits.max_rto_s) {
    v.push_back({"rto", false,
                 "RTO " + secs(*r.rto.total) + " s exceeds --max-rto " + secs(limits.max_rto_s) + " s"});
  } else {
    v.push_back({"rto", true, "RTO " + secs(*r.rto.total) + " s"});
  }
  int lost = total_lost(r);
  std::string lost_msg = std::to_string(lost) + " acknowledged writes missing on the new primary";
  for (const auto& p : r.paths) {
    if (p.lost == 0) continue;
    lost_msg += "; " + p.via + ": seq";
    for (auto s : p.lost_seqs) lost_msg += " " + std::to_string(s);
  }
  v.push_back({"rpo", lost == 0 || !limits.sync_mode,
               lost_msg + (limits.sync_mode || lost == 0 ? "" : " (async mode)")});
  if (r.split.split_brain) {
    std::string nodes;
    for (const auto& n : r.split.nodes) nodes += (nodes.empty() ? "" : " and ") + n;
    v.push_back({"split_brain", false,
                 nodes + " both answered as primary (" + r.split.signal + "), for at least " +
                     secs(r.split.duration_s) + " s"});
  } else {
    v.push_back({"split_brain", true,
                 "at most " + std::to_string(r.split.max_primaries) + " primary at once over " +
                     std::to_string(r.split.samples) + " samples"});
  }
  if (r.rejoined && r.old_primary == r.new_primary) {
    v.push_back(
        {"rejoin", true,
         r.old_primary + " recovered in place and leads timeline " + std::to_string(r.timeline_after)});
  } else if (r.rejoined) {
    v.push_back({"rejoin", true,
                 r.old_primary + " streaming from " + r.new_primary + " on timeline " +
                     std::to_string(r.timeline_after) +
                     (r.rejoin_s ? ", " + secs(*r.rejoin_s) + " s after the lift" : "")});
  } else {
    v.push_back(
        {"rejoin", false, r.rejoin_detail.empty() ? "the old primary did not rejoin" : r.rejoin_detail});
  }
  return v;
}

bool all_pass(const std::vector<RunResult>& runs, const Limits& limits) {
  if (runs.empty()) return false;
  for (const auto& r : runs)
    for (const auto& v : verdicts(r, limits))
      if (!v.pass) return false;
  return true;
}

Stats stats_of(std::vector<double> values) {
  Stats s;
  s.n = static_cast<int>(values.size());
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.min = values.front();
  s.max = values.back();
  size_t mid = values.size() / 2;
  s.median = values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
  return s;
}

std::string format_report_text(const ReportHeader& h, const std::vector<RunResult>& runs,
                               const Limits& limits) {
  std::ostringstream o;
  o << "pgha " << h.command << ": cluster " << h.cluster << ", profile " << h.profile << ", " << h.replication
    << " replication, " << runs.size() << (runs.size() == 1 ? " run" : " runs") << "\n";
  if (!h.fault_note.empty()) o << "note: " << h.fault_note << "\n";
  auto row = [&](const std::string& k, const std::string& v) {
    o << "  " << std::left << std::setw(40) << k << v << "\n";
  };
  for (const auto& r : runs) {
    o << "\nrun " << r.run << ": " << r.fault << " on " << (r.old_primary.empty() ? "?" : r.old_primary)
      << " -> new primary " << (r.new_primary.empty() ? "?" : r.new_primary) << " (timeline "
      << r.timeline_before << " -> " << r.timeline_after << ")\n";
    for (const auto& p : r.paths) {
      std::string label = "RTO through " + p.via + " (" + p.target + ")";
      if (!p.rto_s) {
        row(label, "writes never resumed");
        continue;
      }
      std::string v = secs(*p.rto_s) + " s";
      if (p.via == "haproxy" && r.rto.total) {
        v += " = detection " + secs(r.rto.detection);
        if (r.rto.fence)
          v += " + fence " + secs(*r.rto.fence) + " + release " + secs(r.rto.release.value_or(0));
        v += " + promotion " + secs(r.rto.promotion) + " + routing " + secs(r.rto.routing);
      }
      row(label, v);
    }
    for (const auto& p : r.paths)
      row("write gap / acked / lost (" + p.via + ")",
          secs(p.write_gap_s) + " s / " + std::to_string(p.acked) + " / " + std::to_string(p.lost) +
              (p.unknown ? " (" + std::to_string(p.unknown) + " unanswered, " +
                               std::to_string(p.unknown_committed) + " of them committed)"
                         : ""));
    for (const auto& v : verdicts(r, limits))
      row(std::string(v.pass ? "PASS " : "FAIL ") + v.name, v.message);
  }
  if (runs.size() > 1) {
    o << "\nsummary over " << runs.size() << " runs (seconds):\n";
    o << "  " << std::left << std::setw(16) << "" << std::right << std::setw(9) << "min" << std::setw(9)
      << "median" << std::setw(9) << "max" << std::setw(5) << "n"
      << "\n";
    for (const auto& [name, vals] : series(runs)) {
      Stats s = stats_of(vals);
      if (s.n == 0) continue;
      o << "  " << std::left << std::setw(16) << name << std::right << std::setw(9) << secs(s.min)
        << std::setw(9) << secs(s.median) << std::setw(9) << secs(s.max) << std::setw(5) << s.n << "\n";
    }
  }
  o << "\n" << (all_pass(runs, limits) ? "PASS" : "FAIL") << "\n";
  return o.str();
}

nlohmann::json report_json(const ReportHeader& h, const std::vector<RunResult>& runs, const Limits& limits) {
  nlohmann::json j;
  j["command"] = h.command;
  j["cluster"] = h.cluster;
  j["profile"] = h.profile;
  j["replication"] = h.replication;
  if (!h.fault_note.empty()) j["fault_note"] = h.fault_note;
  j["max_rto_s"] = limits.max_rto_s > 0 ? nlohmann::json(limits.max_rto_s) : nlohmann::json(nullptr);
  j["runs"] = nlohmann::json::array();
  int lost = 0;
  for (const auto& r : runs) {
    nlohmann::json rj = {{"run", r.run},
                         {"fault", r.fault},
                         {"old_primary", r.old_primary},
                         {"new_primary", r.new_primary},
                         {"timeline_before", r.timeline_before},
                         {"timeline_after", r.timeline_after},
                         {"fault_at", r.fault_at},
                         {"fault_in_effect_at", r.fault_in_effect_at},
                         {"lifted_at", r.lifted_at},
                         {"rto_s", opt(r.rto.total)},
                         {"detection_s", r.rto.detection},
                         {"promotion_s", r.rto.promotion},
                         {"routing_s", r.rto.routing},
                         {"fence_s", opt(r.rto.fence)},
                         {"release_s", opt(r.rto.release)},
                         {"guard_fenced", r.guard_fenced},
                         {"lost_writes", total_lost(r)},
                         {"split_brain", r.split.split_brain},
                         {"max_primaries", r.split.max_primaries},
                         {"split_brain_nodes", r.split.nodes},
                         {"split_brain_signal", r.split.signal},
                         {"split_brain_s", r.split.duration_s},
                         {"split_brain_at", r.split.first_at},
                         {"split_brain_answered_at", r.split.answered_at},
                         {"rejoined", r.rejoined},
                         {"rejoin_s", opt(r.rejoin_s)},
                         {"error", r.error}};
    lost += total_lost(r);
    rj["paths"] = nlohmann::json::array();
    for (const auto& p : r.paths)
      rj["paths"].push_back({{"via", p.via},
                             {"target", p.target},
                             {"rto_s", opt(p.rto_s)},
                             {"write_gap_s", p.write_gap_s},
                             {"acked", p.acked},
                             {"refused", p.refused},
                             {"unknown", p.unknown},
                             {"unknown_committed", p.unknown_committed},
                             {"connect_failures", p.connect_failures},
                             {"lost", p.lost},
                             {"lost_seqs", p.lost_seqs}});
    rj["verdicts"] = nlohmann::json::array();
    bool pass = true;
    for (const auto& v : verdicts(r, limits)) {
      rj["verdicts"].push_back({{"name", v.name}, {"pass", v.pass}, {"message", v.message}});
      pass = pass && v.pass;
    }
    rj["pass"] = pass;
    j["runs"].push_back(rj);
  }
  j["summary"] = nlohmann::json::object();
  for (const auto& [name, vals] : series(runs)) j["summary"][name] = stats_json(stats_of(vals));
  j["lost_writes"] = lost;
  j["pass"] = all_pass(runs, limits);
  return j;
}

std::string report_junit(const ReportHeader& h, const std::vector<RunResult>& runs, const Limits& limits) {
  std::ostringstream cases;
  int tests = 0, failures = 0;
  double total_time = 0;
  for (const auto& r : runs) {
    for (const auto& v : verdicts(r, limits)) {
      ++tests;
      double t = (v.name == "rto" && r.rto.total) ? *r.rto.total : 0;
      total_time += t;
      cases << "    <testcase classname=\"pgha." << xml_escape(h.cluster) << "." << xml_escape(r.fault)
            << ".run" << r.run << "\" name=\"" << v.name << "\" time=\"" << secs(t) << "\">";
      if (!v.pass) {
        ++failures;
        cases << "<failure message=\"" << xml_escape(v.message) << "\"/>";
      } else {
        cases << "<system-out>" << xml_escape(v.message) << "</system-out>";
      }
      cases << "</testcase>\n";
    }
  }
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<testsuites tests=\"" << tests << "\" failures=\"" << failures << "\">\n"
    << "  <testsuite name=\"pgha " << xml_escape(h.command) << " (" << xml_escape(h.cluster) << ")\" tests=\""
    << tests << "\" failures=\"" << failures << "\" errors=\"0\" time=\"" << secs(total_time) << "\">\n"
    << cases.str() << "  </testsuite>\n</testsuites>\n";
  return o.str();
}

}  // namespace pgha
