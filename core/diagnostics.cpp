#include "core/diagnostics.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include "core/value_grammar.hpp"

namespace pgha {

namespace {

// The most characters of a line a diagnostic quotes.
constexpr size_t kMaxQuoted = 160;

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = nl + 1;
  }
  return lines;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

size_t edit_distance(std::string_view a, std::string_view b);

// The key of a "key: value" or "- key: value" line, lower case and unquoted; "" when there is none.
std::string key_of(std::string_view line) {
  size_t start = line.find_first_not_of(" -");
  size_t colon = line.find(':');
  if (start == std::string_view::npos || colon == std::string_view::npos || colon < start) return "";
  std::string key = lower(line.substr(start, colon - start));
  key.erase(std::remove_if(key.begin(), key.end(), [](char c) { return c == '"' || c == '\''; }), key.end());
  return key;
}

// Whether a key names a secret: secrets.*, any password, token or passphrase, proxmox token_secret,
// cipher_pass, also misspelled (a word of the key within edit distance 2 of one of those).
bool secret_key(const std::string& key) {
  for (const char* part : {"password", "secret", "cipher_pass", "token", "passphrase", "passwd"}) {
    if (key.find(part) != std::string::npos) return true;
  }
  size_t start = 0;
  while (start < key.size()) {
    size_t end = key.find_first_of("_-. ", start);
    if (end == std::string::npos) end = key.size();
    std::string_view word = std::string_view(key).substr(start, end - start);
    if (word == "pw" || word == "pwd" || word == "pass") return true;
    if (word.size() >= 4) {
      for (const char* near : {"password", "secret", "token"}) {
        if (edit_distance(word, near) <= 2) return true;
      }
    }
    start = end + 1;
  }
  return false;
}

bool mentions_secret(std::string_view line) {
  std::string l = lower(line);
  return l.find("password") != std::string::npos || l.find("secret") != std::string::npos ||
         l.find("cipher_pass") != std::string::npos || secret_key(key_of(line));
}

int indent_of(std::string_view line) {
  size_t n = line.find_first_not_of(' ');
  return n == std::string_view::npos ? -1 : static_cast<int>(n);
}

bool blank_or_comment(std::string_view line) {
  size_t n = line.find_first_not_of(" \t");
  return n == std::string_view::npos || line[n] == '#';
}

// Whether the line's value is exactly one environment reference, "${NAME}", quoted or not: then the
// line shows a variable's name and nothing else.
bool only_references_environment(std::string_view line) {
  size_t colon = line.find(": ");
  if (colon == std::string_view::npos) return false;
  std::string_view v = line.substr(colon + 2);
  size_t first = v.find_first_not_of(' ');
  if (first == std::string_view::npos) return false;
  v = v.substr(first);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    v = v.substr(1, v.size() - 2);
  if (v.size() < 4 || v.substr(0, 2) != "${" || v.back() != '}') return false;
  for (char c : v.substr(2, v.size() - 3)) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

// A line may carry a secret when it, or a line it is nested under (by indentation), names a secret
// key. It is still shown when its value is only a reference to the environment ("${VAR}").
bool may_hold_secret(const std::vector<std::string_view>& lines, size_t index) {
  std::string_view line = lines[index];
  if (only_references_environment(line)) return false;
  if (mentions_secret(line)) return true;
  int depth = blank_or_comment(line) ? 1 << 30 : indent_of(line);
  for (size_t i = index; i-- > 0 && depth > 0;) {
    if (blank_or_comment(lines[i])) continue;
    int ind = indent_of(lines[i]);
    if (ind >= depth) continue;
    if (mentions_secret(lines[i])) return true;
    depth = ind;
  }
  return false;
}

// The names after each `mark` ('&' or '*') on the line: YAML anchors or aliases.
std::vector<std::string> names_after(std::string_view line, char mark) {
  std::vector<std::string> out;
  for (size_t at = line.find(mark); at != std::string_view::npos; at = line.find(mark, at + 1)) {
    size_t end = line.find_first_of(" ,]}", at + 1);
    if (end == std::string_view::npos) end = line.size();
    if (end > at + 1) out.emplace_back(line.substr(at + 1, end - at - 1));
  }
  return out;
}

// The lines a secret occupies, decided by the parsed document rather than by the text: every node
// reached from a secret position — anything under the top-level `secrets:`, the value of a key that
// names a secret (secret_key(), misspellings included), and all a node there contains. yaml-cpp hands
// an alias over as its anchor's node, so a secret reached through an alias marks the anchor's lines,
// wherever they are. A scalar's line is marked with the lines after it that are indented deeper
// (its continuation). Empty when the text does not load (a syntax error); the text rules decide then.
class SecretLines {
 public:
  SecretLines(std::string_view source, const std::vector<std::string_view>& lines) : lines_(lines) {
    try {
      walk(YAML::Load(std::string(source)), false, 0);
    } catch (...) {  // not loadable: the text rules alone decide; nothing here may throw further
      marked_.clear();
    }
  }
  bool contains(size_t line) const { return marked_.count(line) > 0; }

 private:
  static constexpr int kMaxDepth = 128;  // the parser refuses deeper nesting before this is reached

  void mark(const YAML::Mark& m) {
    if (m.line < 0 || static_cast<size_t>(m.line) >= lines_.size()) return;
    const size_t first = static_cast<size_t>(m.line);
    marked_.insert(first);
    const int indent = indent_of(lines_[first]);
    for (size_t i = first + 1; i < lines_.size(); ++i) {
      if (blank_or_comment(lines_[i])) continue;
      if (indent_of(lines_[i]) <= indent) break;
      marked_.insert(i);
    }
  }

  void walk(const YAML::Node& node, bool secret, int depth) {
    if (!node.IsDefined() || depth > kMaxDepth) return;
    // An alias bomb reaches one node along many paths: each node is walked once per role.
    if (!seen_.insert({node.Mark().pos, secret}).second) return;
    if (secret) mark(node.Mark());
    if (node.IsMap()) {
      for (const auto& kv : node) {
        bool child = secret;
        if (kv.first.IsScalar()) {
          const std::string key = lower(kv.first.Scalar());
          child = child || (depth == 0 && key == "secrets") || secret_key(key);
        }
        if (child) mark(kv.first.Mark());
        walk(kv.second, child, depth + 1);
      }
    } else if (node.IsSequence()) {
      for (const auto& item : node) walk(item, secret, depth + 1);
    }
  }

  const std::vector<std::string_view>& lines_;
  std::set<size_t> marked_;
  std::set<std::pair<int, bool>> seen_;
};

// A line is hidden when the parsed document puts a secret on it (SecretLines), when the text rules
// say it may hold one, or when it defines an anchor that a line which may hold a secret uses: the
// secret's value is then on the anchor's line. A line whose value is only "${VAR}" shows a name.
bool hidden(const std::vector<std::string_view>& lines, size_t index, const SecretLines& secrets) {
  if (secrets.contains(index) && !only_references_environment(lines[index])) return true;
  if (may_hold_secret(lines, index)) return true;
  auto anchors = names_after(lines[index], '&');
  if (anchors.empty()) return false;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find('*') == std::string_view::npos || !may_hold_secret(lines, i)) continue;
    for (const auto& alias : names_after(lines[i], '*')) {
      if (std::find(anchors.begin(), anchors.end(), alias) != anchors.end()) return true;
    }
  }
  return false;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + cost});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

namespace {

std::string format_one(const Diagnostic& d, const std::vector<std::string_view>& lines,
                       const SecretLines& secrets) {
  std::string out = d.file;
  if (d.at.line > 0) out += ":" + std::to_string(d.at.line) + ":" + std::to_string(std::max(d.at.col, 1));
  out += d.severity == Severity::error ? ": error: " : ": warning: ";
  out += escape_controls(d.message);
  out += '\n';
  if (d.at.line <= 0 || lines.empty()) return out;
  auto index = static_cast<size_t>(d.at.line - 1);
  if (index >= lines.size()) return out;
  // Control bytes in the quoted line are shown escaped; the caret moves with the escapes before it.
  size_t col = static_cast<size_t>(std::max(d.at.col, 1) - 1);
  std::string_view line = lines[index];
  if (hidden(lines, index, secrets)) {
    out += "<line hidden: may contain a secret>\n";
  } else {
    // A very long line is quoted as a window around the column.
    std::string_view shown = line;
    size_t c = col;
    std::string before, after;
    if (line.size() > kMaxQuoted) {
      size_t start = col > kMaxQuoted / 2 ? std::min(col - kMaxQuoted / 2, line.size() - kMaxQuoted) : 0;
      shown = line.substr(start, kMaxQuoted);
      c = col - start;
      if (start > 0) before = "...";
      if (start + kMaxQuoted < line.size()) after = "...";
    }
    out += before + escape_controls(shown) + after + '\n';
    col = before.size() + escape_controls(shown.substr(0, std::min(c, shown.size()))).size() +
          (c > shown.size() ? c - shown.size() : 0);
  }
  out += std::string(col, ' ');
  out += "^\n";
  return out;
}

}  // namespace

std::string format_diagnostic(const Diagnostic& d, std::string_view source) {
  if (source.empty()) return format_one(d, {}, SecretLines({}, {}));
  const auto lines = split_lines(source);
  return format_one(d, lines, SecretLines(source, lines));
}

std::string format_diagnostics(const std::vector<Diagnostic>& ds, std::string_view source) {
  std::vector<const Diagnostic*> sorted;
  for (const auto& d : ds) sorted.push_back(&d);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic* a, const Diagnostic* b) {
    return a->at.line != b->at.line ? a->at.line < b->at.line : a->at.col < b->at.col;
  });
  std::string out;
  if (sorted.empty()) return out;
  // The text is split and loaded once for all of its diagnostics.
  std::vector<std::string_view> lines;
  if (!source.empty()) lines = split_lines(source);
  const SecretLines secrets(source.empty() ? std::string_view() : source, lines);
  for (const Diagnostic* d : sorted) out += format_one(*d, lines, secrets);
  return out;
}

std::string format_diagnostics(const std::vector<Diagnostic>& ds,
                               const std::vector<DiagnosticSource>& sources) {
  std::vector<bool> done(ds.size(), false);
  std::string out;
  auto group = [&](const std::string* file, std::string_view text) {
    std::vector<Diagnostic> of_file;
    for (size_t i = 0; i < ds.size(); ++i) {
      if (done[i] || (file && ds[i].file != *file)) continue;
      done[i] = true;
      of_file.push_back(ds[i]);
    }
    out += format_diagnostics(of_file, text);
  };
  for (const auto& s : sources) group(&s.file, s.text);
  group(nullptr, {});
  return out;
}

bool has_errors(const std::vector<Diagnostic>& ds) {
  return std::any_of(ds.begin(), ds.end(), [](const Diagnostic& d) { return d.severity == Severity::error; });
}

// Close means an edit distance of at most 2, or of at most a third of the word for longer words,
// and less than the word's length (so a short word is not "close" to everything).
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  if (word.size() > 64) return "";  // no key is that long; also bounds the quadratic distance
  std::string w = lower(word);
  size_t limit = std::max<size_t>(2, w.size() / 3);
  std::string best;
  size_t best_distance = limit + 1;
  for (const auto& c : candidates) {
    if (c == word) continue;
    size_t dist = edit_distance(w, lower(c));
    if (dist < best_distance && dist < std::max<size_t>(w.size(), 1)) {
      best = c;
      best_distance = dist;
    }
  }
  return best;
}

}  // namespace pgha
