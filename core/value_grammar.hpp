// The grammars of inventory values that reach configs, commands and mount points. Pure predicates:
// the validator (core/inventory_rules_values.cpp) reports where they fail.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgha {

// The first control character (< 0x20, or 0x7f) in s, as an escape ("\n", "\0", "\x1b"); "" if none.
std::string first_control_char(std::string_view s);

// s with each control character written as an escape (\n, \t, \r, \0, \xNN) and every other byte as
// it is, so messages and quoted lines never carry raw control bytes to a terminal.
std::string escape_controls(std::string_view s);

// A Linux network interface name (dev_valid_name): 1-15 bytes, not "." or "..", no '/', ':' or
// whitespace; and none of " ' # ! $ { } \ ` either, which keepalived.conf cannot carry in a name.
bool valid_interface_name(std::string_view name);

// [A-Za-z_][A-Za-z0-9_]*: a key that YAML, INI and shell all read as one plain word.
bool valid_identifier(std::string_view name);

// An absolute path in normal form ("/a/b": no "//", no "." or ".." component, no trailing '/'),
// made of [A-Za-z0-9._+-] and '/', lying strictly under one of the prefixes (each absolute, normal).
bool valid_path_under(std::string_view path, const std::vector<std::string>& prefixes);

// A Docker image reference by the distribution grammar (name[:tag][@digest], lower-case path
// components, an optional registry host[:port] first).
bool valid_image_reference(std::string_view ref);

// Why `expr` is not a systemd OnCalendar expression pgha writes into a timer unit; "" when it is.
// systemd is not asked (validate runs anywhere): the grammar is checked instead, over a strict
// whitelist of characters. Accepted: one of the shorthands (daily, weekly, ...), or
// "[WEEKDAYS] [DATE] [TIME]" with at least one part, single spaces between: WEEKDAYS a comma list of
// day names or forward ranges ("Mon..Fri"), DATE "[YEAR-]MONTH-DAY" or "MONTH~DAY", TIME
// "HOUR:MINUTE[:SECOND]"; each field "*", or numbers, ranges "N..M" and lists, with "/STEP", in
// range. No time zone (the nodes run in UTC) and no fractional seconds. Compared with
// `systemd-analyze calendar` (systemd 252) on 18,000 random expressions: nothing accepted here was
// refused there.
std::string calendar_problem(std::string_view expr);

}  // namespace pgha
