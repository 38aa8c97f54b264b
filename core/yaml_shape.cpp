#include "core/yaml_shape.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <map>
#include <sstream>
#include <vector>

namespace pgha {

namespace {

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    start = nl + 1;
  }
  return out;
}

bool blank_or_comment(std::string_view line) {
  size_t n = line.find_first_not_of(" \t");
  return n == std::string_view::npos || line[n] == '#';
}

bool document_marker(std::string_view line) {
  for (std::string_view m : {"---", "..."}) {
    if (line.substr(0, 3) == m && (line.size() == 3 || line[3] == ' ' || line[3] == '\t')) return true;
  }
  return false;
}

// Index just past the quoted scalar opening at line[open], or npos when it does not close on the line.
size_t closing_quote(std::string_view line, size_t open) {
  char q = line[open];
  for (size_t i = open + 1; i < line.size(); ++i) {
    if (q == '"' && line[i] == '\\') {
      ++i;
    } else if (line[i] == q) {
      if (q == '\'' && i + 1 < line.size() && line[i + 1] == '\'') {
        ++i;
      } else {
        return i + 1;
      }
    }
  }
  return std::string_view::npos;
}

// Where a block value starts on the line ("key: value", "- value", "- key: value"); npos for none.
size_t block_value_start(std::string_view line) {
  size_t i = line.find_first_not_of(' ');
  while (i != std::string_view::npos && i + 1 < line.size() && line[i] == '-' && line[i + 1] == ' ') {
    i = line.find_first_not_of(' ', i + 1);
  }
  if (i == std::string_view::npos) return i;
  if (line[i] == '"' || line[i] == '\'') {
    // A quoted key ("a b": x) or a quoted value; a key's value follows its colon.
    size_t end = closing_quote(line, i);
    if (end == std::string_view::npos) return i;
    if (end < line.size() && line[end] == ':') return line.find_first_not_of(' ', end + 1);
    return std::string_view::npos;
  }
  size_t colon = line.find(": ", i);
  if (colon == std::string_view::npos) return std::string_view::npos;
  if (line.substr(i, colon - i).find_first_of("\"'#[{") != std::string_view::npos)
    return std::string_view::npos;
  return line.find_first_not_of(' ', colon + 1);
}

// Counts the values of the document as its readers will see them: an alias counts as everything its
// anchor holds. Throws Bomb at the alias that goes past the limit.
class ExpandedSize final : public YAML::EventHandler {
 public:
  struct Bomb {
    Mark at;
  };

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string&) override {
    leaf(mark, anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = sizes_.find(anchor);
    add(it == sizes_.end() ? 1 : it->second, mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Open {
    YAML::anchor_t anchor;
    long size;
  };

  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (anchor) sizes_[anchor] = 1;
    add(1, mark);
  }
  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    add(1, mark);
    stack_.push_back({anchor, 1});
  }
  void close() {
    Open done = stack_.back();
    stack_.pop_back();
    if (done.anchor) sizes_[done.anchor] = done.size;
  }
  void add(long n, const YAML::Mark& mark) {
    total_ += n;
    for (auto& o : stack_) o.size = std::min(o.size + n, kMaxYamlValues + 1);
    if (total_ > kMaxYamlValues) throw Bomb{{mark.line + 1, mark.column + 1}};
  }

  std::map<YAML::anchor_t, long> sizes_;
  std::vector<Open> stack_;
  long total_ = 0;
};

}  // namespace

std::optional<ShapeProblem> check_yaml_aliases(std::string_view text) {
  std::istringstream in{std::string(text)};
  ExpandedSize counter;
  try {
    YAML::Parser parser(in);
    parser.HandleNextDocument(counter);
  } catch (const ExpandedSize::Bomb& bomb) {
    return ShapeProblem{bomb.at, "this alias expands the inventory past " + std::to_string(kMaxYamlValues) +
                                     " values; aliases may not multiply the document"};
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<ShapeProblem> check_yaml_shape(std::string_view text) {
  auto lines = lines_of(text);
  bool content = false;
  int marker = 0;             // the line of a document marker after content
  std::vector<size_t> block;  // indentations of the enclosing block levels
  int depth = 0;
  for (size_t n = 0; n < lines.size(); ++n) {
    std::string_view line = lines[n];
    const int lineno = static_cast<int>(n) + 1;
    if (document_marker(line)) {
      if (content && marker == 0) marker = lineno;
      continue;
    }
    if (blank_or_comment(line) || line[0] == '%') continue;
    // Content after a marker that followed content: a second document ("..." alone at the end is fine).
    if (marker)
      return ShapeProblem{{marker, 1}, "a second YAML document starts here; an inventory is one document"};
    content = true;
    if (size_t v = block_value_start(line); v != std::string_view::npos && v < line.size() &&
                                            (line[v] == '"' || line[v] == '\'') && depth == 0 &&
                                            closing_quote(line, v) == std::string_view::npos) {
      return ShapeProblem{{lineno, static_cast<int>(v) + 1},
                          std::string("this quoted value has no closing ") + line[v] +
                              " on its line (a value cannot span lines)"};
    }
    // Block nesting: the indentations of the lines this one is nested under, plus one level per
    // compact "- " item that opens the line.
    size_t indent = line.find_first_not_of(' ');
    while (!block.empty() && block.back() >= indent) block.pop_back();
    block.push_back(indent);
    for (size_t at = indent; at + 1 < line.size() && line[at] == '-' && line[at + 1] == ' ';
         at = line.find_first_not_of(' ', at + 1)) {
      if (block.size() >= static_cast<size_t>(kMaxYamlNesting)) {
        return ShapeProblem{{lineno, static_cast<int>(at) + 1},
                            "nesting deeper than " + std::to_string(kMaxYamlNesting) + " levels"};
      }
      block.push_back(line.find_first_not_of(' ', at + 1));
      if (block.back() == std::string_view::npos) break;
    }
    if (block.size() > static_cast<size_t>(kMaxYamlNesting)) {
      return ShapeProblem{{lineno, static_cast<int>(indent) + 1},
                          "nesting deeper than " + std::to_string(kMaxYamlNesting) + " levels"};
    }
    // Flow nesting, skipping quoted text and comments.
    for (size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (c == '"' || c == '\'') {
        size_t end = closing_quote(line, i);
        if (end == std::string_view::npos) break;
        i = end - 1;
      } else if (c == '#' && (i == 0 || line[i - 1] == ' ')) {
        break;
      } else if (c == '[' || c == '{') {
        if (++depth > kMaxYamlNesting) {
          return ShapeProblem{{lineno, static_cast<int>(i) + 1},
                              "nesting deeper than " + std::to_string(kMaxYamlNesting) + " levels"};
        }
      } else if ((c == ']' || c == '}') && depth > 0) {
        --depth;
      }
    }
  }
  return std::nullopt;
}

}  // namespace pgha
