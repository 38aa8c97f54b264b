#include "roles/failover/split_brain.hpp"

#include <algorithm>
#include <map>

namespace pgha {

const char* to_string(PrimarySignal s) {
  return s == PrimarySignal::patroni ? "patroni" : "postgres";
}

namespace {

// A span of time over which one node is proven to have claimed: from its first to its last yes in
// a row of yes answers. A "no" ends the row; so does a silence longer than the staleness bound
// (the node may have changed unseen). An unknown answer between two yes answers does not end it.
struct Run {
  std::string node;
  double from = 0;
  double to = 0;
};

std::vector<Run> runs_of(const std::vector<PrimarySample>& sorted, PrimarySignal sig, double staleness) {
  std::vector<Run> out;
  std::map<std::string, size_t> open;  // node -> index into out of its open run
  for (const auto& s : sorted) {
    if (s.signal != sig) continue;
    auto it = open.find(s.node);
    if (s.claim == Claim::no) {
      if (it != open.end()) open.erase(it);
      continue;
    }
    if (s.claim != Claim::yes) continue;
    if (it != open.end() && s.at - out[it->second].to <= staleness) {
      out[it->second].to = s.at;
      continue;
    }
    open[s.node] = out.size();
    out.push_back({s.node, s.at, s.at});
  }
  return out;
}

std::vector<std::string> claiming_at(const std::vector<Run>& runs, double t) {
  std::vector<std::string> out;
  for (const auto& r : runs)
    if (r.from <= t && t <= r.to) out.push_back(r.node);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

SplitBrainReport find_split_brain(std::vector<PrimarySample> samples, double staleness) {
  SplitBrainReport r;
  r.samples = static_cast<int>(samples.size());
  std::stable_sort(samples.begin(), samples.end(),
                   [](const PrimarySample& a, const PrimarySample& b) { return a.at < b.at; });
  for (PrimarySignal sig : {PrimarySignal::patroni, PrimarySignal::postgres}) {
    const auto runs = runs_of(samples, sig, staleness);
    // The number of claimants only changes at a run's ends, so checking those instants is enough.
    std::vector<double> edges;
    for (const auto& run : runs) {
      edges.push_back(run.from);
      edges.push_back(run.to);
    }
    std::sort(edges.begin(), edges.end());
    edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
    for (size_t i = 0; i < edges.size(); ++i) {
      const double t = edges[i];
      // Between two neighbouring edges the claimants are those at the midpoint.
      if (i + 1 < edges.size() && claiming_at(runs, (t + edges[i + 1]) / 2).size() >= 2)
        r.duration_s += edges[i + 1] - t;
      auto now = claiming_at(runs, t);
      r.max_primaries = std::max(r.max_primaries, static_cast<int>(now.size()));
      if (now.size() < 2 || (r.split_brain && t >= r.first_at)) continue;
      r.split_brain = true;
      r.first_at = t;
      r.nodes = now;
      r.signal = to_string(sig);
      r.answered_at.clear();
      for (const auto& n : now) {
        double last = 0;
        for (const auto& s : samples)
          if (s.node == n && s.signal == sig && s.claim == Claim::yes && s.at <= t) last = s.at;
        r.answered_at.push_back(last);
      }
    }
  }
  return r;
}

}  // namespace pgha
