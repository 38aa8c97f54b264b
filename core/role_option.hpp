// A PostgreSQL role attribute from CREATE ROLE's closed list, parsed from the inventory's
// users[].options. Only these reach SQL; anything else is refused at the parser.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pgha {

enum class RoleAttribute {
  superuser,
  nosuperuser,
  createdb,
  nocreatedb,
  createrole,
  nocreaterole,
  inherit,
  noinherit,
  login,
  nologin,
  replication,
  noreplication,
  bypassrls,
  nobypassrls,
  connection_limit,  // CONNECTION LIMIT n, n >= -1 (-1: no limit)
  valid_until,       // VALID UNTIL 'timestamp'
};

struct RoleOption {
  RoleAttribute attribute = RoleAttribute::login;
  int connection_limit = -1;  // for connection_limit
  std::string valid_until;    // for valid_until: 'infinity' or YYYY-MM-DD[ HH:MM[:SS[.ffffff]]][ zone]
  bool operator==(const RoleOption&) const = default;
};

// Parses one option as written in the inventory, keywords in any case ("login", "CONNECTION LIMIT
// 10", "VALID UNTIL '2030-01-01'"). nullopt when it is none of PostgreSQL's role options or its
// argument is malformed; *why then says what was expected.
std::optional<RoleOption> parse_role_option(const std::string& text, std::string* why);

// The option as SQL, its argument quoted: "LOGIN", "CONNECTION LIMIT 10", "VALID UNTIL '2030-01-01'".
std::string to_sql(const RoleOption& option);

// The names an option can start with, for "did you mean".
const std::vector<std::string>& role_option_keywords();

// Two options that set the same attribute (LOGIN and NOLOGIN, or CONNECTION LIMIT twice).
bool same_attribute(const RoleOption& a, const RoleOption& b);

}  // namespace pgha
