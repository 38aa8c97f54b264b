// libFuzzer target: the quoting the renderer and the SQL step put values through. Each quoted form
// reads back as exactly the value: yaml_quote through yaml-cpp; userlist_quote, haproxy_quote,
// quote_literal and quote_ident by their formats' own unquoting rules (one token, nothing after it).
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/render_context.hpp"
#include "core/sql_quote.hpp"

namespace {

// Reads a token opened by `open`, in which `doubled` doubles to stand for itself (or a backslash
// escapes when `backslash`), and returns it unquoted; aborts when anything follows the closing quote.
std::string unquote(const std::string& q, char quote, bool backslash) {
  if (q.size() < 2 || q.front() != quote) std::abort();
  std::string out;
  size_t i = 1;
  for (; i < q.size(); ++i) {
    char c = q[i];
    if (backslash && c == '\\') {
      if (++i >= q.size()) std::abort();
      out += q[i];
    } else if (c == quote) {
      if (!backslash && i + 1 < q.size() && q[i + 1] == quote) {
        out += quote;
        ++i;
      } else {
        break;
      }
    } else {
      out += c;
    }
  }
  if (i != q.size() - 1) std::abort();  // the closing quote is the last character
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  const std::string y = pgha::yaml_quote(s);
  if (y.find('\n') != std::string::npos) std::abort();
  if (s.find('\0') == std::string::npos) {
    try {
      if (YAML::Load(y).as<std::string>() != s) std::abort();
    } catch (const YAML::Exception&) {
      std::abort();
    }
  }
  if (unquote(pgha::userlist_quote(s), '"', false) != s) std::abort();
  if (unquote(pgha::haproxy_quote(s), '"', true) != s) std::abort();
  if (pgha::haproxy_quote(s).find('$') != std::string::npos) {
    const std::string h = pgha::haproxy_quote(s);
    for (size_t i = 0; i < h.size(); ++i)
      if (h[i] == '$' && (i == 0 || h[i - 1] != '\\')) std::abort();  // an unescaped '$' expands
  }
  if (s.find('\0') == std::string::npos) {
    const std::string lit = pgha::quote_literal(s);
    // E'...' when the value holds a backslash (escapes doubled), '...' otherwise.
    if (lit.rfind("E'", 0) == 0) {
      std::string body = unquote(lit.substr(1), '\'', false);
      std::string undone;
      for (size_t i = 0; i < body.size(); ++i) {
        if (body[i] == '\\') {
          if (++i >= body.size() || body[i] != '\\') std::abort();
        }
        undone += body[i];
      }
      if (undone != s) std::abort();
    } else if (unquote(lit, '\'', false) != s) {
      std::abort();
    }
    const std::string id = pgha::quote_ident(s);
    if (id.front() == '"' && unquote(id, '"', false) != s) std::abort();
    if (id.front() != '"' && id != s) std::abort();
  }
  return 0;
}
