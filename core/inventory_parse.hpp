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
  // With an instances file: the marks of the nodes read from it are stored in inventory->marks
  // shifted down by this many lines, past the inventory's last line, so that one Mark still names
  // one place. 0 without an instances file. relocate_diagnostics() undoes the shift.
  int instances_line_offset = 0;
  std::string instances_name;  // the instances file's display name, or ""
};

ParseOutcome parse_inventory(std::string_view text, const std::string& display_name, const EnvLookup& env);

// An instances file (`pgha --instances FILE`): a map in the inventory's `instances:` format
// ({"pg1": {"ip_address": ..., "cpu_cores": ..., "ram_mb": ..., "disk_gb": ..., "roles": [...],
// "tags": {...}}}, JSON or YAML), read in place of the inventory's `nodes:` or `instances:` section,
// which is then ignored. Its diagnostics name display_name and point into text.
struct InstancesText {
  std::string_view text;
  std::string display_name;
};

ParseOutcome parse_inventory(std::string_view text, const std::string& display_name, const EnvLookup& env,
                             const InstancesText& instances);

// Diagnostics made later from the inventory's marks (validate_inventory's, under the inventory's
// name) that point into the instances file are made to name it, at its own line. A no-op for an
// outcome without an instances file.
void relocate_diagnostics(const ParseOutcome& parsed, std::vector<Diagnostic>& diagnostics);

}  // namespace pgha
