#include "core/role_option.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <regex>

#include "core/sql_quote.hpp"

namespace pgha {

namespace {

struct Keyword {
  const char* sql;
  RoleAttribute attribute;
};

constexpr std::array<Keyword, 14> kFlags = {{
    {"SUPERUSER", RoleAttribute::superuser},
    {"NOSUPERUSER", RoleAttribute::nosuperuser},
    {"CREATEDB", RoleAttribute::createdb},
    {"NOCREATEDB", RoleAttribute::nocreatedb},
    {"CREATEROLE", RoleAttribute::createrole},
    {"NOCREATEROLE", RoleAttribute::nocreaterole},
    {"INHERIT", RoleAttribute::inherit},
    {"NOINHERIT", RoleAttribute::noinherit},
    {"LOGIN", RoleAttribute::login},
    {"NOLOGIN", RoleAttribute::nologin},
    {"REPLICATION", RoleAttribute::replication},
    {"NOREPLICATION", RoleAttribute::noreplication},
    {"BYPASSRLS", RoleAttribute::bypassrls},
    {"NOBYPASSRLS", RoleAttribute::nobypassrls},
}};

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Words separated by runs of spaces; nothing else counts as a separator.
std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

// PostgreSQL accepts many timestamp spellings; pgha accepts an ISO 8601 subset with its fields in
// range, so the literal can hold nothing but digits, separators and a zone.
bool valid_timestamp(const std::string& ts) {
  if (ts == "infinity") return true;
  static const std::regex shape(
      R"((\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?)?(?: ?(?:Z|UTC|[+-]\d{2}(?::?\d{2})?))?)");
  std::smatch m;
  if (!std::regex_match(ts, m, shape)) return false;
  auto num = [&](int i) { return m[i].matched ? std::stoi(m[i].str()) : 0; };
  if (num(2) < 1 || num(2) > 12 || num(3) < 1 || num(3) > 31) return false;
  return num(4) < 24 && num(5) < 60 && num(6) < 60;
}

}  // namespace

const std::vector<std::string>& role_option_keywords() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& k : kFlags) v.push_back(k.sql);
    v.push_back("CONNECTION LIMIT");
    v.push_back("VALID UNTIL");
    return v;
  }();
  return names;
}

std::optional<RoleOption> parse_role_option(const std::string& text, std::string* why) {
  auto fail = [&](std::string message) -> std::optional<RoleOption> {
    if (why) *why = std::move(message);
    return std::nullopt;
  };
  std::vector<std::string> w = words(text);
  if (w.empty()) return fail("an empty role option");
  std::string first = upper(w[0]);
  if (w.size() == 1) {
    for (const auto& k : kFlags) {
      if (first == k.sql) return RoleOption{k.attribute, -1, ""};
    }
  }
  std::string second = w.size() > 1 ? upper(w[1]) : "";
  if (first == "CONNECTION" && second == "LIMIT") {
    if (w.size() != 3) return fail("CONNECTION LIMIT takes one integer, -1 or more");
    const std::string& n = w[2];
    int limit = 0;
    auto [ptr, ec] = std::from_chars(n.data(), n.data() + n.size(), limit);
    if (ec != std::errc() || ptr != n.data() + n.size() || limit < -1)
      return fail("CONNECTION LIMIT takes one integer, -1 or more");
    return RoleOption{RoleAttribute::connection_limit, limit, ""};
  }
  if (first == "VALID" && second == "UNTIL") {
    // The timestamp is everything after UNTIL, optionally in single quotes.
    size_t at = text.find_first_not_of(' ', text.find(w[1]) + w[1].size());
    std::string ts = at == std::string::npos ? "" : text.substr(at);
    while (!ts.empty() && ts.back() == ' ') ts.pop_back();
    if (ts.size() >= 2 && ts.front() == '\'' && ts.back() == '\'') ts = ts.substr(1, ts.size() - 2);
    if (!valid_timestamp(ts))
      return fail("VALID UNTIL takes 'infinity' or a timestamp YYYY-MM-DD[ HH:MM[:SS]][ zone]");
    return RoleOption{RoleAttribute::valid_until, -1, ts};
  }
  if (first == "PASSWORD" || first == "ENCRYPTED" || first == "UNENCRYPTED")
    return fail("a password goes in users[].password, never in options");
  return fail("not a PostgreSQL role option");
}

std::string to_sql(const RoleOption& option) {
  switch (option.attribute) {
    case RoleAttribute::connection_limit:
      return "CONNECTION LIMIT " + std::to_string(option.connection_limit);
    case RoleAttribute::valid_until: return "VALID UNTIL " + quote_literal(option.valid_until);
    default: break;
  }
  for (const auto& k : kFlags) {
    if (k.attribute == option.attribute) return k.sql;
  }
  return "";
}

bool same_attribute(const RoleOption& a, const RoleOption& b) {
  auto group = [](RoleAttribute r) {
    // Each flag and its negation are adjacent in the enum: superuser/nosuperuser is group 0, ...
    int i = static_cast<int>(r);
    return i <= static_cast<int>(RoleAttribute::nobypassrls) ? i / 2 : i;
  };
  return group(a.attribute) == group(b.attribute);
}

}  // namespace pgha
