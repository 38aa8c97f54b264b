#include "core/validate.hpp"

#include "core/inventory_rules.hpp"

namespace pgha {

Mark RuleContext::at(std::initializer_list<std::string> paths) const {
  for (const auto& p : paths) {
    Mark m = inv_.where(p);
    if (m.line > 0) return m;
  }
  return {};
}

// A problem at the mark of a value the parser could not read is a consequence of that: the parser
// already reported it there.
bool RuleContext::already_reported(Mark at) const {
  if (at.line == 0) return false;
  for (const auto& path : inv_.unreadable) {
    Mark m = inv_.where(path);
    if (m.line == at.line && m.col == at.col) return true;
  }
  return false;
}

// A problem with no place of its own (a required section that is absent) is reported at 1:1, so
// every diagnostic has a FILE:LINE:COL.
void RuleContext::error(Mark at, std::string message) {
  if (already_reported(at)) return;
  out_.push_back({Severity::error, inv_.source_name, at.line > 0 ? at : Mark{1, 1}, std::move(message)});
}

void RuleContext::warning(Mark at, std::string message) {
  if (already_reported(at)) return;
  out_.push_back({Severity::warning, inv_.source_name, at, std::move(message)});
}

std::string node_path(size_t index) {
  return "nodes[" + std::to_string(index) + "]";
}

std::vector<Diagnostic> validate_inventory(const Inventory& inv) {
  RuleContext c(inv);
  check_cluster(c);
  check_nodes(c);
  check_roles(c);
  check_network(c);
  check_timing(c);
  check_ports(c);
  check_services(c);
  check_guard(c);
  check_backup(c);
  check_tls(c);
  check_provider(c);
  check_users(c);
  check_values(c);
  check_postgres(c);
  return c.take();
}

}  // namespace pgha
