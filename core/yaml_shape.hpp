// Checks of an inventory's raw text that yaml-cpp does not make: run before it parses, each problem
// located at its line and column.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/inventory.hpp"

namespace pgha {

struct ShapeProblem {
  Mark at;
  std::string message;
};

// Deepest nesting pgha reads, counted separately for flow collections ('[' and '{' outside quotes
// and comments) and for block ones (indentation and compact "- " items); yaml-cpp recurses per
// level, and no inventory needs more than a handful.
constexpr int kMaxYamlNesting = 64;

// The first problem with the text's shape, nullopt when none:
//   - nesting deeper than kMaxYamlNesting, at the bracket, dash or line that goes too deep;
//   - a quoted value whose closing quote is not on its line (YAML would fold the following lines
//     into it), at the opening quote;
//   - a second document (content after a "---" or "..." that follows content), at the marker.
std::optional<ShapeProblem> check_yaml_shape(std::string_view text);

// The most values (scalars, sequences, mappings) a document may hold once its aliases are expanded.
// yaml-cpp shares an aliased node instead of copying it, but every reader walks each use of it.
constexpr long kMaxYamlValues = 10000;

// An alias that takes the expanded document past kMaxYamlValues, at the alias; nullopt when none
// does, or when the text does not parse (parsing it reports that).
std::optional<ShapeProblem> check_yaml_aliases(std::string_view text);

}  // namespace pgha
