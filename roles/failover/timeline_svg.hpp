// A failover run as one self-contained SVG 1.1 picture (`--report-svg FILE`): per run, the probe paths'
// acknowledged writes as ticks, each node's role as coloured bars, and the phase boundaries (fault,
// detection, fence, key release, promotion, first write, lift, rejoin) as labelled vertical lines,
// against seconds from the fault. No fonts, scripts or images are referenced. Pure: no I/O.
#pragma once

#include <string>
#include <vector>

#include "roles/failover/report.hpp"

namespace pgha {

enum class TimelineMark { fault, detection, fence, release, promotion, first_write, lift, rejoin };
enum class NodeRole { primary, replica, unreachable };

struct TimelineMarker {
  TimelineMark kind = TimelineMark::fault;
  std::string label;  // plain text; the renderer escapes it
  double t = 0;       // seconds from the fault
};

// One probe path: when its writes were acknowledged, in seconds from the fault.
struct WriteLane {
  std::string label;
  std::vector<double> acks;
};

struct RoleSpan {
  double from = 0, to = 0;  // seconds from the fault
  NodeRole role = NodeRole::unreachable;
};

struct RoleLane {
  std::string node;
  std::vector<RoleSpan> spans;  // in time order, neighbours of the same role merged
};

// One run's panel. start/end bound the x axis (start <= 0 <= end when there was a fault).
struct TimelinePanel {
  std::string title;
  std::string subtitle;          // the RTO's phases and the run's error; may be empty
  std::string origin = "fault";  // what t = 0 is, for the axis caption ("seconds from the ...")
  double start = 0, end = 0;
  std::vector<TimelineMarker> markers;
  std::vector<WriteLane> writes;
  std::vector<RoleLane> nodes;
};

// The panel of one run. A node's role is its postgres's own answer (pg_is_in_recovery(): false =
// primary, true = replica, no answer = unreachable), each sample holding until the next. Phase markers
// come from the RTO breakdown when writes resumed (so they add up to the reported numbers), otherwise
// from the raw observations in r.trace; a phase that was not observed has no marker. A run that never
// reached its fault (fault_at 0) gets a title and its error only, and draws nothing. Data older than 10 s
// before the fault is cut off.
TimelinePanel timeline_panel(const RunResult& r);

// The SVG document: a heading, a legend, then the panels stacked top to bottom. Every text is
// escaped; an empty `panels` gives a document saying there are no runs.
std::string render_timeline_svg(const std::string& heading, const std::vector<TimelinePanel>& panels);

// render_timeline_svg() of every run, under a heading made from h.
std::string timeline_svg(const ReportHeader& h, const std::vector<RunResult>& runs);

// Text for SVG/XML character data and attribute values: & < > " ' escaped, control characters other
// than tab, LF and CR and bytes that are not valid UTF-8 replaced by '?'.
std::string svg_escape(const std::string& s);

}  // namespace pgha
