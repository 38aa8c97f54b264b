// Semantic checks over a parsed inventory. Finds every problem at once; never stops at the first.
#pragma once

#include <vector>

#include "core/diagnostics.hpp"
#include "core/inventory.hpp"

namespace pgha {

std::vector<Diagnostic> validate_inventory(const Inventory& inv);

}  // namespace pgha
