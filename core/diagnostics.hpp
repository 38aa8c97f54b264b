// Diagnostics for inventory problems: FILE:LINE:COL: severity: message, then the offending line
// and a caret. Produced by the parser and the validator, printed all at once by the CLI.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/inventory.hpp"

namespace pgha {

enum class Severity { error, warning };

struct Diagnostic {
  Severity severity = Severity::error;
  std::string file;     // the inventory's display name
  Mark at;              // 1-based; {0,0} when the problem has no single place
  std::string message;  // may end with "; did you mean 'x'?"
};

// "inv.yml:4:5: error: unknown key 'nmae' in nodes[0]; did you mean 'name'?\n  - nmae: pg1\n    ^\n"
// source is the inventory text, for quoting the offending line; may be empty.
std::string format_diagnostic(const Diagnostic& d, std::string_view source);
std::string format_diagnostics(const std::vector<Diagnostic>& ds, std::string_view source);

// A file the diagnostics may name, and its text.
struct DiagnosticSource {
  std::string file;
  std::string_view text;
};
// Diagnostics naming several files (an inventory and its --instances file): grouped by file in the
// order of sources, each quoted from its own text; those naming no listed file come last, unquoted.
std::string format_diagnostics(const std::vector<Diagnostic>& ds,
                               const std::vector<DiagnosticSource>& sources);
bool has_errors(const std::vector<Diagnostic>& ds);

// The closest candidate within a small edit distance, or "" when none is close.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace pgha
