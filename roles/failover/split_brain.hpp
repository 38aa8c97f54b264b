// Split-brain detection over polled samples. Each node is asked, over and over, "are you the
// primary?" in two independent ways: Patroni's GET /primary (200 = yes) and PostgreSQL's
// pg_is_in_recovery() (false = yes). Polling cannot see between answers, so only a proven overlap
// counts: a node claims over the span from its first to its last yes in a row (a "no" ends the row,
// and so does a silence longer than `staleness`); two nodes whose spans share a moment, by the same
// signal, are a split brain. A lone yes just before another node's first yes proves nothing: in a
// clean switchover the old primary demotes between two polls. No answer (timeout, refused) is
// "unknown" and never claims.
#pragma once

#include <string>
#include <vector>

namespace pgha {

enum class PrimarySignal { patroni, postgres };
enum class Claim { yes, no, unknown };

const char* to_string(PrimarySignal s);

struct PrimarySample {
  std::string node;
  PrimarySignal signal = PrimarySignal::patroni;
  double at = 0;  // midpoint of the request, epoch seconds
  Claim claim = Claim::unknown;
};

struct SplitBrainReport {
  bool split_brain = false;
  int max_primaries = 0;            // most nodes claiming at once, by either signal
  double first_at = 0;              // when two first claimed at once (0 when never)
  double duration_s = 0;            // proven time with two or more claiming (a lower bound)
  std::vector<std::string> nodes;   // the nodes of the first overlap
  std::string signal;               // which signal showed it first: "patroni" or "postgres"
  std::vector<double> answered_at;  // per node of `nodes`: when it last said yes at the first overlap
  int samples = 0;
};

// samples need not be sorted. staleness: the longest silence a row of yes answers spans (a few
// poll intervals).
SplitBrainReport find_split_brain(std::vector<PrimarySample> samples, double staleness);

}  // namespace pgha
