// ${VAR} interpolation of inventory scalars: ${VAR}, ${VAR:-default} (used when VAR is unset or
// empty), and $$ for a literal $. A lone $ not followed by { or $ stays as it is.
#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/inventory_parse.hpp"

namespace pgha {

// The text with every reference replaced. Errors (bad_input): an unset VAR without a default
// ("environment variable VAR is not set"), an unterminated "${", or an invalid variable name.
// Messages name the variable, never a value.
Result<std::string> interpolate(std::string_view text, const EnvLookup& env);

}  // namespace pgha
