#include "core/value_grammar.hpp"

#include <regex>

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

}  // namespace pgha
