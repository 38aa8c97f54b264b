// Inventory parsing: YAML text + display name -> Inventory, with ${ENV} interpolation and defaults
// (including the timing profile) applied. Does no I/O: the environment is passed in.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/inventory.hpp"

namespace pgha {

// Returns the variable's value, or nullopt when it is unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

struct ParseOutcome {
  std::optional<Inventory> inventory;  // absent when the text could not be turned into one
  std::vector<Diagnostic>
      diagnostics;  // every problem found while parsing (unknown keys, types, unset ${VAR}, ...)
};

ParseOutcome parse_inventory(std::string_view text, const std::string& display_name, const EnvLookup& env);

}  // namespace pgha
