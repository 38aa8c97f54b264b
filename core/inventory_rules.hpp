// The validator's rule groups (core/validate.cpp runs them all). Each appends every problem it finds
// to the context and never stops early; each reads only the Inventory, pointing at its marks.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/inventory.hpp"

namespace pgha {

class RuleContext {
 public:
  explicit RuleContext(const Inventory& inv) : inv_(inv) {}

  const Inventory& inv() const { return inv_; }
  // The mark of the first path that has one: the most specific place first, then its fallbacks.
  Mark at(std::initializer_list<std::string> paths) const;
  void error(Mark at, std::string message);
  void warning(Mark at, std::string message);
  std::vector<Diagnostic> take() { return std::move(out_); }

 private:
  bool already_reported(Mark at) const;

  const Inventory& inv_;
  std::vector<Diagnostic> out_;
};

std::string node_path(size_t index);  // "nodes[3]"

void check_cluster(RuleContext& c);
void check_nodes(RuleContext& c);
void check_roles(RuleContext& c);
void check_network(RuleContext& c);
void check_timing(RuleContext& c);
void check_ports(RuleContext& c);
void check_services(RuleContext& c);  // keepalived, pgbackrest
void check_provider(RuleContext& c);
void check_users(RuleContext& c);
void check_values(RuleContext& c);    // grammars of values reaching configs and commands
void check_postgres(RuleContext& c);  // postgresql.parameters (PostgreSQL 15's settings), extensions
void check_guard(RuleContext& c);     // the guard: block (core/inventory_rules_guard.cpp)
void check_backup(RuleContext& c);    // the backup: block (core/inventory_rules_backup.cpp)
void check_tls(RuleContext& c);       // the tls: block (core/inventory_rules_tls.cpp)

}  // namespace pgha
