#include "roles/failover/timeline_svg.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iomanip>
#include <locale>
#include <map>
#include <sstream>

namespace pgha {
namespace {

constexpr double kLookBack = 10;  // seconds before the fault still drawn

std::string secs(double s) {
  std::ostringstream o;
  o.imbue(std::locale::classic());
  o << std::fixed << std::setprecision(2) << s;
  return o.str();
}

// ---- the data ----

std::vector<TimelineMarker> phase_markers(const RunResult& r) {
  std::vector<TimelineMarker> m;
  auto add = [&](TimelineMark k, const std::string& name, double t) {
    m.push_back({k, name + " " + secs(t) + " s", t});
  };
  auto add_at = [&](TimelineMark k, const std::string& name, std::optional<double> at) {
    if (at) add(k, name, *at - r.fault_at);
  };
  const bool switchover = r.fault == "switchover";
  m.push_back({TimelineMark::fault, switchover ? "switchover requested" : "fault: " + r.fault, 0});
  const RunTrace& tr = r.trace;
  if (const RtoBreakdown& b = r.rto; b.total) {
    double t = b.detection;
    add(TimelineMark::detection, "detection", t);
    if (b.fence) {
      add(TimelineMark::fence, "fence", t += *b.fence);
      add(TimelineMark::release, "key release", t += b.release.value_or(0));
    } else {  // the guard got part of the way: not in the breakdown, still worth a line
      add_at(TimelineMark::fence, "fence", tr.guard.confirmed);
      add_at(TimelineMark::release, "key release", tr.guard.released);
    }
    add(TimelineMark::promotion, "promotion", t + b.promotion);
    add(TimelineMark::first_write, "first write", *b.total);
  } else {
    add_at(TimelineMark::detection, "detection", tr.guard.suspected ? tr.guard.suspected : tr.detected);
    add_at(TimelineMark::fence, "fence", tr.guard.confirmed);
    add_at(TimelineMark::release, "key release", tr.guard.released);
    add_at(TimelineMark::promotion, "promotion", tr.promoted);
  }
  if (!switchover && r.lifted_at > 0)
    add(TimelineMark::lift, r.guard_fenced ? "restart (fenced)" : "lift", r.lifted_at - r.fault_at);
  if (r.rejoin_s && r.lifted_at > 0)
    add(TimelineMark::rejoin, "rejoin", r.lifted_at + *r.rejoin_s - r.fault_at);
  return m;
}

NodeRole role_of(Claim c) {
  switch (c) {
    case Claim::yes: return NodeRole::primary;
    case Claim::no: return NodeRole::replica;
    case Claim::unknown: break;
  }
  return NodeRole::unreachable;
}

std::vector<RoleLane> role_lanes(const RunResult& r) {
  std::map<std::string, std::vector<const PrimarySample*>> by_node;
  for (const auto& s : r.trace.roles)
    if (s.signal == PrimarySignal::postgres) by_node[s.node].push_back(&s);
  std::vector<RoleLane> lanes;
  for (auto& [node, samples] : by_node) {
    std::sort(samples.begin(), samples.end(),
              [](const PrimarySample* a, const PrimarySample* b) { return a->at < b->at; });
    RoleLane lane{node, {}};
    for (size_t i = 0; i < samples.size(); ++i) {
      double from = samples[i]->at - r.fault_at;
      // The last answer holds for as long as the one before it did (a poll interval).
      double to = i + 1 < samples.size() ? samples[i + 1]->at - r.fault_at
                  : i > 0                ? from + (samples[i]->at - samples[i - 1]->at)
                                         : from + 0.2;
      NodeRole role = role_of(samples[i]->claim);
      if (to < -kLookBack) continue;
      from = std::max(from, -kLookBack);
      if (!lane.spans.empty() && lane.spans.back().role == role && lane.spans.back().to >= from)
        lane.spans.back().to = to;
      else
        lane.spans.push_back({from, to, role});
    }
    lanes.push_back(std::move(lane));
  }
  return lanes;
}

std::string run_title(const RunResult& r) {
  std::string old_p = r.old_primary.empty() ? "?" : r.old_primary;
  std::string new_p = r.new_primary.empty() ? "?" : r.new_primary;
  std::string t = "run " + std::to_string(r.run) + ": " + r.fault + (r.fault == "switchover" ? " " : " on ") +
                  old_p + " \u2192 " + new_p;
  int lost = 0;
  for (const auto& p : r.paths) lost += p.lost;
  t += r.rto.total ? "  \u00b7  RTO " + secs(*r.rto.total) + " s" : "  \u00b7  writes never resumed";
  return t + "  \u00b7  lost writes " + std::to_string(lost);
}

std::string run_subtitle(const RunResult& r) {
  std::string s;
  if (const RtoBreakdown& b = r.rto; b.total) {
    s = "detection " + secs(b.detection);
    if (b.fence) s += " + fence " + secs(*b.fence) + " + release " + secs(b.release.value_or(0));
    s += " + promotion " + secs(b.promotion) + " + routing " + secs(b.routing) + " s";
  }
  if (!r.error.empty()) s += (s.empty() ? "" : "  \u00b7  ") + std::string("error: ") + r.error;
  return s;
}

// ---- the drawing ----

constexpr double kWidth = 1000;
constexpr double kLeft = 200;  // lane labels to the left of this
constexpr double kRight = 24;
constexpr double kPlotWidth = kWidth - kLeft - kRight;
constexpr double kCharWidth = 6.2;  // an 11 px sans-serif character, roughly: for label placement
constexpr double kLanePitch = 20, kLaneHeight = 14, kLabelRow = 14;

const char* role_colour(NodeRole r) {
  switch (r) {
    case NodeRole::primary: return "#1565c0";
    case NodeRole::replica: return "#90caf9";
    case NodeRole::unreachable: break;
  }
  return "#ef9a9a";
}

const char* mark_colour(TimelineMark m) {
  switch (m) {
    case TimelineMark::fault: return "#c62828";
    case TimelineMark::detection: return "#ef6c00";
    case TimelineMark::fence: return "#6a1b9a";
    case TimelineMark::release: return "#8d6e63";
    case TimelineMark::promotion: return "#2e7d32";
    case TimelineMark::first_write: return "#0277bd";
    case TimelineMark::lift: return "#616161";
    case TimelineMark::rejoin: break;
  }
  return "#00838f";
}

// The length of the valid UTF-8 sequence at s[i] (a character XML allows), 0 when there is none.
size_t utf8_at(const std::string& s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') ? 1 : 0;
  size_t n = (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  unsigned char c1 = b(i + 1);
  if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) || (c == 0xF0 && c1 < 0x90) ||
      (c == 0xF4 && c1 >= 0x90))
    return 0;  // overlong, a surrogate, or beyond U+10FFFF
  return n;
}

size_t chars_in(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// At most max_chars characters (counting bytes that are not UTF-8 continuations), an ellipsis when cut.
std::string clip(const std::string& s, size_t max_chars) {
  if (chars_in(s) <= max_chars) return s;
  size_t n = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && ++n == max_chars) break;
  }
  return s.substr(0, i) + "\u2026";
}

class Svg {
 public:
  Svg() { o_.imbue(std::locale::classic()); }
  std::ostringstream& out() { return o_; }
  // A coordinate or length, one decimal.
  static std::string n(double v) {
    std::ostringstream o;
    o.imbue(std::locale::classic());
    double r = std::round(v * 10) / 10;
    o << std::fixed << std::setprecision(r == std::floor(r) ? 0 : 1) << (r == 0 ? 0.0 : r);
    return o.str();
  }
  void text(double x, double y, const std::string& s, const std::string& attrs = "") {
    o_ << "<text x=\"" << n(x) << "\" y=\"" << n(y) << "\"" << (attrs.empty() ? "" : " " + attrs) << ">"
       << svg_escape(s) << "</text>\n";
  }
  void rect(double x, double y, double w, double h, const std::string& fill, const std::string& extra = "") {
    o_ << "<rect x=\"" << n(x) << "\" y=\"" << n(y) << "\" width=\"" << n(w) << "\" height=\"" << n(h)
       << "\" fill=\"" << fill << "\"" << (extra.empty() ? "" : " " + extra) << "/>\n";
  }
  void line(double x1, double y1, double x2, double y2, const std::string& stroke,
            const std::string& extra = "") {
    o_ << "<line x1=\"" << n(x1) << "\" y1=\"" << n(y1) << "\" x2=\"" << n(x2) << "\" y2=\"" << n(y2)
       << "\" stroke=\"" << stroke << "\"" << (extra.empty() ? "" : " " + extra) << "/>\n";
  }

 private:
  std::ostringstream o_;
};

// A step of 1, 2 or 5 times a power of ten giving at most about 12 ticks.
double tick_step(double span) {
  double raw = span / 12;
  double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= raw) return m * p;
  return 10 * p;
}

std::string tick_label(double t, double step) {
  std::ostringstream o;
  o.imbue(std::locale::classic());
  if (std::fabs(t) < step / 1000) t = 0;
  o << std::fixed << std::setprecision(step < 1 ? 1 : 0) << t;
  return o.str();
}

struct PlacedLabel {
  const TimelineMarker* m;
  double x;     // the marker's line
  double left;  // the label's box
  double width;
  bool to_left;  // drawn ending at the line (near the right edge)
  int row;
};

// Label rows from the top, in time order, each label in the first row where it clears the one before
// it. A label starts at its line (ends there near the right edge) and sits on a white box drawn over
// the lines, so a line from a row above never hides it.
std::vector<PlacedLabel> place_labels(const std::vector<TimelineMarker>& markers,
                                      const std::function<double(double)>& x_of) {
  std::vector<const TimelineMarker*> sorted;
  for (const auto& m : markers) sorted.push_back(&m);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const TimelineMarker* a, const TimelineMarker* b) { return a->t < b->t; });
  std::vector<PlacedLabel> out;
  std::vector<double> row_end;
  for (const TimelineMarker* m : sorted) {
    double x = x_of(m->t);
    double w = kCharWidth * static_cast<double>(chars_in(m->label)) + 6;
    bool to_left = x + w > kWidth - 2;
    double left = to_left ? x - w : x;
    size_t row = 0;
    while (row < row_end.size() && row_end[row] + 4 > left) ++row;
    if (row == row_end.size()) row_end.push_back(0);
    row_end[row] = left + w;
    out.push_back({m, x, left, w, to_left, static_cast<int>(row)});
  }
  return out;
}

// Draws one panel with its top at y; returns its height.
double draw_panel(Svg& svg, const TimelinePanel& p, double y, bool first) {
  auto& o = svg.out();
  if (!first) svg.line(8, y, kWidth - 8, y, "#bdbdbd");
  svg.text(kLeft - 190, y + 20, p.title, "font-size=\"13\" font-weight=\"bold\"");
  if (!p.subtitle.empty()) svg.text(kLeft - 190, y + 36, clip(p.subtitle, 150), "fill=\"#555555\"");
  if (p.markers.empty() && p.writes.empty() && p.nodes.empty()) return 48;

  const double start = p.start, end = p.end > p.start ? p.end : p.start + 1;
  auto x_of = [&](double t) {
    return kLeft + (std::clamp(t, start, end) - start) / (end - start) * kPlotWidth;
  };
  std::vector<PlacedLabel> labels = place_labels(p.markers, x_of);
  int rows = 1;
  for (const auto& l : labels) rows = std::max(rows, l.row + 1);
  const double labels_top = y + 44;
  const double plot_top = labels_top + rows * kLabelRow + 6;

  double lane_y = plot_top;
  auto lane_label = [&](const std::string& s, double top) {
    svg.text(kLeft - 8, top + 11, clip(s, 30), "text-anchor=\"end\"");
    svg.rect(kLeft, top, kPlotWidth, kLaneHeight, "#f5f5f5");
  };
  std::vector<double> write_tops, node_tops;
  for (const auto& w : p.writes) {
    write_tops.push_back(lane_y);
    lane_label(w.label, lane_y);
    lane_y += kLanePitch;
  }
  if (!p.writes.empty() && !p.nodes.empty()) lane_y += 8;
  for (const auto& n : p.nodes) {
    node_tops.push_back(lane_y);
    lane_label(n.node, lane_y);
    lane_y += kLanePitch;
  }
  const double plot_bottom = std::max(lane_y, plot_top + kLanePitch);

  // Grid and axis.
  const double step = tick_step(end - start);
  svg.line(kLeft, plot_bottom, kLeft + kPlotWidth, plot_bottom, "#424242");
  for (double t = std::ceil(start / step - 1e-9) * step; t <= end + step * 1e-6; t += step) {
    double x = x_of(t);
    svg.line(x, plot_top - 2, x, plot_bottom, "#e0e0e0");
    svg.line(x, plot_bottom, x, plot_bottom + 4, "#424242");
    svg.text(x, plot_bottom + 15, tick_label(t, step), "text-anchor=\"middle\" fill=\"#424242\"");
  }
  svg.text(kLeft + kPlotWidth / 2, plot_bottom + 29, "seconds from the " + p.origin,
           "text-anchor=\"middle\" fill=\"#616161\"");

  // Acknowledged writes: one short stroke per distinct half pixel.
  for (size_t i = 0; i < p.writes.size(); ++i) {
    std::vector<double> xs;
    for (double t : p.writes[i].acks)
      if (t >= start && t <= end) xs.push_back(std::round(x_of(t) * 2) / 2);
    std::sort(xs.begin(), xs.end());
    xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
    if (xs.empty()) continue;
    o << "<path fill=\"none\" stroke=\"#263238\" stroke-width=\"1\" d=\"";
    for (double x : xs) o << "M" << Svg::n(x) << " " << Svg::n(write_tops[i] + 2) << "v10";
    o << "\"/>\n";
  }
  // Roles.
  for (size_t i = 0; i < p.nodes.size(); ++i) {
    for (const auto& s : p.nodes[i].spans) {
      if (s.to < start || s.from > end) continue;
      double x0 = x_of(s.from), x1 = x_of(s.to);
      svg.rect(x0, node_tops[i] + 1, std::max(x1 - x0, 0.5), kLaneHeight - 2, role_colour(s.role));
    }
  }
  // Markers: the lines, then each label on a white box so a line crossing it does not hide it.
  for (const auto& l : labels) {
    double top = labels_top + l.row * kLabelRow + 3;
    svg.line(l.x, top, l.x, plot_bottom, mark_colour(l.m->kind),
             "stroke-width=\"1.5\" stroke-dasharray=\"4 3\"");
  }
  for (const auto& l : labels) {
    double base = labels_top + (l.row + 1) * kLabelRow - 3;
    svg.rect(l.left, base - 10, l.width, 13, "#ffffff", "fill-opacity=\"0.85\"");
    svg.text(
        l.to_left ? l.x - 3 : l.x + 3, base, l.m->label,
        std::string("fill=\"") + mark_colour(l.m->kind) + "\"" + (l.to_left ? " text-anchor=\"end\"" : ""));
  }
  return plot_bottom + 40 - y;
}

}  // namespace

std::string svg_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_at(s, i);
    if (n == 0) {
      out += '?';
      ++i;
      continue;
    }
    if (n == 1) {
      switch (s[i]) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += s[i];
      }
    } else {
      out.append(s, i, n);
    }
    i += n;
  }
  return out;
}

TimelinePanel timeline_panel(const RunResult& r) {
  TimelinePanel p;
  p.subtitle = run_subtitle(r);
  if (r.fault == "switchover") p.origin = "switchover request";
  if (r.fault_at <= 0) {
    p.title = "run " + std::to_string(r.run) + ": " + r.fault + ": the run did not reach its " +
              (r.fault == "switchover" ? "switchover" : "fault");
    return p;
  }
  p.title = run_title(r);
  p.markers = phase_markers(r);
  for (const auto& a : r.trace.acks) {
    WriteLane lane{a.via + (a.target.empty() ? "" : " " + a.target), {}};
    for (double at : a.at)
      if (at - r.fault_at >= -kLookBack) lane.acks.push_back(at - r.fault_at);
    p.writes.push_back(std::move(lane));
  }
  p.nodes = role_lanes(r);

  double lo = -1, hi = 1;
  for (const auto& m : p.markers) hi = std::max(hi, m.t);
  for (const auto& w : p.writes) {
    for (double t : w.acks) {
      lo = std::min(lo, t);
      hi = std::max(hi, t);
    }
  }
  for (const auto& n : p.nodes) {
    for (const auto& s : n.spans) {
      lo = std::min(lo, s.from);
      hi = std::max(hi, s.to);
    }
  }
  p.start = std::max(lo, -kLookBack);
  p.end = hi + (hi - p.start) * 0.02;
  return p;
}

std::string render_timeline_svg(const std::string& heading, const std::vector<TimelinePanel>& panels) {
  Svg body;
  double y = 64;
  for (size_t i = 0; i < panels.size(); ++i) y += draw_panel(body, panels[i], y, i == 0);
  if (panels.empty()) {
    body.text(10, y + 20, "no runs");
    y += 32;
  }
  const double height = y + 8;

  Svg svg;
  auto& o = svg.out();
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << Svg::n(kWidth)
    << "\" height=\"" << Svg::n(height) << "\" viewBox=\"0 0 " << Svg::n(kWidth) << " " << Svg::n(height)
    << "\" font-family=\"sans-serif\" font-size=\"11\">\n"
    << "<title>" << svg_escape(heading) << "</title>\n";
  svg.rect(0, 0, kWidth, height, "#ffffff");
  svg.text(10, 24, heading, "font-size=\"15\" font-weight=\"bold\"");
  // The legend.
  double x = 10;
  auto swatch = [&](const char* colour, const std::string& what) {
    svg.rect(x, 36, 14, 10, colour);
    svg.text(x + 19, 45, what);
    x += 19 + kCharWidth * static_cast<double>(what.size()) + 16;
  };
  swatch(role_colour(NodeRole::primary), "primary");
  swatch(role_colour(NodeRole::replica), "replica");
  swatch(role_colour(NodeRole::unreachable), "no answer from postgres");
  svg.line(x + 6, 36, x + 6, 46, "#263238");
  svg.text(x + 14, 45, "acknowledged write");
  x += 14 + kCharWidth * 18 + 16;
  svg.line(x, 36, x, 46, mark_colour(TimelineMark::fault), "stroke-width=\"1.5\" stroke-dasharray=\"4 3\"");
  svg.text(x + 6, 45, "phase boundary");
  o << body.out().str() << "</svg>\n";
  return o.str();
}

std::string timeline_svg(const ReportHeader& h, const std::vector<RunResult>& runs) {
  std::vector<TimelinePanel> panels;
  for (const auto& r : runs) panels.push_back(timeline_panel(r));
  std::string heading = "pgha " + h.command + ": cluster " + h.cluster + ", profile " + h.profile + ", " +
                        h.replication + " replication, " + std::to_string(runs.size()) +
                        (runs.size() == 1 ? " run" : " runs");
  return render_timeline_svg(heading, panels);
}

}  // namespace pgha
