// The values templates see: one mustache object per node, built from the inventory, the node and the
// resolved secrets. Every value is final text for its target format (YAML scalars come pre-quoted
// as `*_yaml`), so templates never escape anything themselves. Names are listed in templates/README.md.
#pragma once

#include <kainjow/mustache.hpp>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/inventory.hpp"
#include "core/render.hpp"

namespace pgha {

// A YAML double-quoted scalar holding exactly `s`: backslash, quote and control characters escaped.
std::string yaml_quote(std::string_view s);

// A pgbouncer auth_file field: `"s"` with embedded quotes doubled.
std::string userlist_quote(std::string_view s);
// A double-quoted word for haproxy.cfg ('"', '\\' and '$' escaped).
std::string haproxy_quote(std::string_view s);

// The mustache object for `node`. Errors (bad_input): a secret or user name that cannot be written
// safely (line breaks, NUL), a malformed subnet. Messages name the secret, never its value.
Result<kainjow::mustache::data> render_context(const Inventory& inv, const Node& node,
                                               const ResolvedSecrets& secrets);

}  // namespace pgha
