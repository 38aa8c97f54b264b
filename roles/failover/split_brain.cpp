#include "roles/failover/split_brain.hpp"

#include <algorithm>
#include <map>

namespace pgha {

const char* to_string(PrimarySignal s) {
  return s == PrimarySignal::patroni ? "patroni" : "postgres";
}

namespace {

struct Latest {
  Claim claim = Claim::unknown;
  double at = 0;
};

// Nodes whose latest fresh answer at time t is yes.
std::vector<std::string> claiming(const std::map<std::string, Latest>& latest, double t, double staleness) {
  std::vector<std::string> out;
  for (const auto& [node, l] : latest)
    if (l.claim == Claim::yes && t - l.at <= staleness) out.push_back(node);
  return out;
}

}  // namespace

SplitBrainReport find_split_brain(std::vector<PrimarySample> samples, double staleness) {
  SplitBrainReport r;
  r.samples = static_cast<int>(samples.size());
  std::stable_sort(samples.begin(), samples.end(),
                   [](const PrimarySample& a, const PrimarySample& b) { return a.at < b.at; });
  for (PrimarySignal sig : {PrimarySignal::patroni, PrimarySignal::postgres}) {
    std::map<std::string, Latest> latest;
    double overlap_since = -1;
    auto account = [&](double t) {
      // Evaluated just before the state changes at t: was the interval since the last event split?
      if (overlap_since >= 0) {
        r.duration_s += t - overlap_since;
        overlap_since = -1;
      }
    };
    for (const auto& s : samples) {
      if (s.signal != sig) continue;
      account(s.at);
      latest[s.node] = {s.claim, s.at};
      auto now = claiming(latest, s.at, staleness);
      r.max_primaries = std::max(r.max_primaries, static_cast<int>(now.size()));
      if (now.size() >= 2) {
        overlap_since = s.at;
        if (!r.split_brain || s.at < r.first_at) {
          r.split_brain = true;
          r.first_at = s.at;
          r.nodes = now;
          r.signal = to_string(sig);
          r.answered_at.clear();
          for (const auto& n : now) r.answered_at.push_back(latest[n].at);
        }
      }
    }
    // An overlap still open at the last sample lasted at least until then: nothing more to add.
  }
  return r;
}

}  // namespace pgha
