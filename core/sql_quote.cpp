#include "core/sql_quote.hpp"

namespace pgha {

std::string quote_ident(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

std::string quote_literal(std::string_view text) {
  const bool escapes = text.find('\\') != std::string_view::npos;
  std::string out = escapes ? "E'" : "'";
  for (char c : text) {
    out += c;
    if (c == '\'' || c == '\\') out += c;
  }
  return out + "'";
}

}  // namespace pgha
