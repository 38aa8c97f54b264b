#include "core/value_grammar.hpp"

#include <regex>
#include <vector>

namespace pgha {

namespace {

std::string escape_char(unsigned char c) {
  switch (c) {
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\0': return "\\0";
    default: {
      static const char digits[] = "0123456789abcdef";
      return std::string("\\x") + digits[c >> 4] + digits[c & 15];
    }
  }
}

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

}  // namespace

std::string first_control_char(std::string_view s) {
  for (char c : s) {
    if (is_control(static_cast<unsigned char>(c))) return escape_char(static_cast<unsigned char>(c));
  }
  return "";
}

std::string escape_controls(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (is_control(static_cast<unsigned char>(c))) {
      out += escape_char(static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out;
}

bool valid_interface_name(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == ':' || u <= 0x20 || u == 0x7f) return false;
    // Linux takes these, but keepalived.conf's lexer does not read them back as a name: quotes,
    // comments ('#', '!'), '$' definitions, '{' '}' blocks, the backslash.
    if (std::string_view("\"'#!${}\\`").find(c) != std::string_view::npos) return false;
  }
  return true;
}

bool valid_identifier(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool valid_path_under(std::string_view path, const std::vector<std::string>& prefixes) {
  if (path.size() < 2 || path[0] != '/' || path.back() == '/') return false;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    for (char c : part) {
      bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                c == '_' || c == '+' || c == '-';
      if (!ok) return false;
    }
    start = end + 1;
  }
  for (const auto& prefix : prefixes) {
    if (path == prefix) return true;
    if (path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix && path[prefix.size()] == '/')
      return true;
  }
  return false;
}

bool valid_image_reference(std::string_view ref) {
  // github.com/distribution/reference, regexp.go: domain, then path components, tag and digest.
  static const std::regex grammar(
      R"(^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?/)?)"
      R"([a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*)"
      R"((?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$)");
  if (ref.empty() || ref.size() > 255 + 128 + 80) return false;
  if (!std::regex_match(ref.begin(), ref.end(), grammar)) return false;
  // Docker reads the first component as a registry only when it has a '.' or ':' or is localhost;
  // otherwise it is a path component, lower case like the others.
  size_t slash = ref.find('/');
  if (slash == std::string_view::npos) return true;
  std::string_view first = ref.substr(0, slash);
  if (first == "localhost" || first.find_first_of(".:[") != std::string_view::npos) return true;
  for (char c : first) {
    if (c >= 'A' && c <= 'Z') return false;
  }
  return true;
}

namespace {

bool only_chars(std::string_view s, std::string_view allowed) {
  for (char c : s) {
    const bool digit = c >= '0' && c <= '9';
    if (!digit && allowed.find(c) == std::string_view::npos) return false;
  }
  return true;
}

// Monday is 0, Sunday 6; -1 for anything else.
int day_index(std::string_view s) {
  static const char* const names[] = {"Mon",      "Tue",    "Wed",      "Thu",     "Fri",
                                      "Sat",      "Sun",    "Monday",   "Tuesday", "Wednesday",
                                      "Thursday", "Friday", "Saturday", "Sunday"};
  for (int i = 0; i < 14; ++i) {
    if (s == names[i]) return i % 7;
  }
  return -1;
}

// "Mon", "Mon..Fri", "Sat,Sun", "Mon..Wed,Fri"; not "Fri..Mon".
bool weekdays(std::string_view s) {
  if (s.empty()) return false;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    std::string_view item =
        s.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    size_t dots = item.find("..");
    if (dots == std::string_view::npos) {
      if (day_index(item) < 0) return false;
    } else {
      // systemd refuses a range that wraps past Sunday.
      const int from = day_index(item.substr(0, dots));
      const int to = day_index(item.substr(dots + 2));
      if (from < 0 || to < from) return false;
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return true;
}

// One field of a date or time: a comma list of "*", or N or N..M (N < M) with an optional "/STEP"
// (systemd refuses "*/STEP"), every number within [lo, hi], a step within [1, hi].
bool calendar_field(std::string_view field, int lo, int hi) {
  static const std::regex item(R"(\*|([0-9]{1,4})(?:\.\.([0-9]{1,4}))?(?:/([0-9]{1,4}))?)");
  // "*" stands alone: systemd refuses it inside a list.
  if (field.empty() || (field.size() > 1 && field.find('*') != std::string_view::npos)) return false;
  size_t pos = 0;
  while (true) {
    size_t comma = field.find(',', pos);
    const std::string one(
        field.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    std::smatch m;
    if (!std::regex_match(one, m, item)) return false;
    for (int g : {1, 2}) {
      if (m[g].matched && (std::stoi(m[g].str()) < lo || std::stoi(m[g].str()) > hi)) return false;
    }
    if (m[2].matched && std::stoi(m[2].str()) <= std::stoi(m[1].str())) return false;  // systemd: N < M
    if (m[3].matched && (std::stoi(m[3].str()) < 1 || std::stoi(m[3].str()) > hi)) return false;
    if (comma == std::string_view::npos) return true;
    pos = comma + 1;
  }
}

std::vector<std::string_view> split_on(std::string_view s, std::string_view separators) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (true) {
    size_t at = s.find_first_of(separators, pos);
    out.push_back(s.substr(pos, at == std::string_view::npos ? std::string_view::npos : at - pos));
    if (at == std::string_view::npos) return out;
    pos = at + 1;
  }
}

// [YEAR-]MONTH-DAY, or MONTH~DAY (the DAY-th last day of the month).
bool calendar_date(std::string_view date) {
  const size_t tilde = date.find('~');
  if (tilde != std::string_view::npos && date.find('~', tilde + 1) != std::string_view::npos) return false;
  auto f = split_on(date, "-~");
  if (f.size() == 3 && tilde != std::string_view::npos && tilde < date.rfind('-')) return false;
  // Counted back from the month's end, a day is at most the 28th last.
  const int last_day = tilde == std::string_view::npos ? 31 : 28;
  if (f.size() == 3)
    return calendar_field(f[0], 1970, 2199) && calendar_field(f[1], 1, 12) &&
           calendar_field(f[2], 1, last_day);
  return f.size() == 2 && calendar_field(f[0], 1, 12) && calendar_field(f[1], 1, last_day);
}

// HOUR:MINUTE[:SECOND].
bool calendar_time(std::string_view time) {
  auto f = split_on(time, ":");
  if (f.size() < 2 || f.size() > 3) return false;
  return calendar_field(f[0], 0, 23) && calendar_field(f[1], 0, 59) &&
         (f.size() == 2 || calendar_field(f[2], 0, 59));
}

}  // namespace

std::string calendar_problem(std::string_view expr) {
  static const char* const shorthands[] = {"minutely", "hourly",    "daily",        "weekly",
                                           "monthly",  "quarterly", "semiannually", "yearly"};
  for (const char* s : shorthands) {
    if (expr == s) return "";
  }
  if (expr.empty()) return "it is empty";
  if (expr.size() > 64) return "it is longer than 64 characters";
  if (!only_chars(expr, "FMSTWadehinorstuy *-:,./~"))
    return "it may hold only digits, day names, spaces and '*-:,./~'";
  std::vector<std::string_view> parts;
  for (size_t pos = 0; pos < expr.size();) {
    size_t space = expr.find(' ', pos);
    if (space == pos) return "its parts must be separated by single spaces";
    if (space == std::string_view::npos) space = expr.size();
    parts.push_back(expr.substr(pos, space - pos));
    pos = space + 1;
    if (space + 1 == expr.size()) return "it ends with a space";
  }
  size_t i = 0;
  const bool letter = (expr[0] >= 'A' && expr[0] <= 'Z') || (expr[0] >= 'a' && expr[0] <= 'z');
  if (letter && !weekdays(parts[i++]))
    return "its weekdays must be day names (Mon, ..., Sun) or ranges like Mon..Fri";
  if (i < parts.size() && parts[i].find_first_of("-~") != std::string_view::npos) {
    if (!only_chars(parts[i], "*-,./~") || !calendar_date(parts[i]))
      return "its date must read [YEAR-]MONTH-DAY, each '*', a number, a range N..M or a list, with an "
             "optional /STEP";
    ++i;
  }
  if (i < parts.size() && parts[i].find(':') != std::string_view::npos) {
    if (!only_chars(parts[i], "*:,./") || !calendar_time(parts[i]))
      return "its time must read HOUR:MINUTE[:SECOND] (0-23, 0-59, 0-59), each '*', a number, a range N..M "
             "or a list, with an optional /STEP";
    ++i;
  }
  if (i == 0) return "it needs weekdays, a date (with '-') or a time (with ':')";
  if (i < parts.size()) return "it should read [WEEKDAYS] [DATE] [TIME], like 'Sun *-*-* 01:00:00'";
  return "";
}

}  // namespace pgha
