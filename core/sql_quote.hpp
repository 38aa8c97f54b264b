// Quoting of values spliced into SQL text, done client-side the way PostgreSQL's own quote_ident()
// and quote_literal() do it, so no value can end its literal or identifier early.
#pragma once

#include <string>
#include <string_view>

namespace pgha {

// "name" with every '"' doubled. Always quoted, so case and keywords are kept as written.
std::string quote_ident(std::string_view name);

// 'text' with every ' doubled; when the text holds a backslash, E'...' with every \ doubled too, so
// the result means the same whatever standard_conforming_strings says (as PostgreSQL's
// quote_literal()). A NUL cannot be part of SQL text: callers refuse such values before this.
std::string quote_literal(std::string_view text);

}  // namespace pgha
