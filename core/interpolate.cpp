#include "core/interpolate.hpp"

namespace pgha {

namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// What follows a '$' in the shell forms pgha does not expand: $NAME and $(command).
bool shell_form_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '(';
}

}  // namespace

Result<std::string> interpolate(std::string_view text, const EnvLookup& env) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c != '$' || i + 1 >= text.size() || (text[i + 1] != '$' && text[i + 1] != '{')) {
      if (c == '$' && i + 1 < text.size() && shell_form_start(text[i + 1])) {
        return make_error(ErrorKind::bad_input,
                          "'$NAME' and '$(...)' are not expanded: write ${NAME}, or $$ for a literal $");
      }
      out += c;
      ++i;
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      i += 2;
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) return make_error(ErrorKind::bad_input, "unterminated '${'");
    std::string_view body = text.substr(i + 2, close - i - 2);
    size_t sep = body.find(":-");
    std::string_view name = body.substr(0, sep);
    if (sep != std::string_view::npos && body.find_first_of("${}", sep) != std::string_view::npos) {
      return make_error(ErrorKind::bad_input, "a default in '${NAME:-default}' cannot hold '$', '{' or '}'");
    }
    if (!valid_name(name)) return make_error(ErrorKind::bad_input, "invalid variable name in '${...}'");
    std::optional<std::string> value = env ? env(std::string(name)) : std::nullopt;
    if (sep != std::string_view::npos) {
      if (!value || value->empty()) value = std::string(body.substr(sep + 2));
    } else if (!value) {
      return make_error(ErrorKind::bad_input, "environment variable " + std::string(name) + " is not set");
    }
    out += *value;
    i = close + 1;
  }
  return out;
}

}  // namespace pgha
