// ${VAR} interpolation of inventory scalars: ${VAR}, ${VAR:-default} (used when VAR is unset or
// empty), and $$ for a literal $. Shell forms pgha does not expand are refused rather than kept as
// text: $NAME, $(command), ${NAME:-${OTHER}} (a default holding '$', '{' or '}'), ${#NAME}, ${NAME-x},
// ${NAME:=x} (invalid names). Any other lone $ ("$1", "a$", "$ ") stays as it is.
#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/inventory_parse.hpp"

namespace pgha {

// The text with every reference replaced. Errors (bad_input): an unset VAR without a default
// ("environment variable VAR is not set"), an unterminated "${", an invalid variable name, or one of
// the refused shell forms.
// Messages name the variable, never a value.
Result<std::string> interpolate(std::string_view text, const EnvLookup& env);

}  // namespace pgha
