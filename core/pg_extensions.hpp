// The PostgreSQL extensions pgha knows how to install (databases[].extensions): the Debian package
// that brings each one, the library it needs in shared_preload_libraries, and the PostgreSQL major
// versions Debian ships it for. validate refuses any other name, so a name reaching a package list
// or SQL is always one of this table's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/inventory.hpp"

namespace pgha {

struct PgExtension {
  std::string name;            // as CREATE EXTENSION takes it
  std::string package_suffix;  // postgresql-<major>-<suffix>; "" when postgresql-<major> ships it
  std::string preload;         // the library it needs in shared_preload_libraries; "" when none
  std::vector<int> versions;   // the PostgreSQL majors Debian (12: 15, 13: 17) packages it for
  bool available_for(int major) const;
  // The Debian package for PostgreSQL `major`: "" when PostgreSQL's own package ships it.
  std::string package(int major) const;
};

const std::vector<PgExtension>& pg_extensions();
// nullptr when the name is not in the table.
const PgExtension* find_pg_extension(std::string_view name);
std::vector<std::string> pg_extension_names();

// Why `ext` cannot be had on PostgreSQL `major` ("" when it can), for validate's message.
std::string pg_extension_refusal(const PgExtension& ext, int major);

// The Debian packages that every PostgreSQL node needs for the inventory's extensions, sorted, each
// once; names not in the table (validate refuses them) are skipped.
std::vector<std::string> extension_packages(const Inventory& inv);

// The libraries the inventory's extensions need preloaded, in the order they are first named.
std::vector<std::string> extension_preloads(const Inventory& inv);

// shared_preload_libraries as pgha writes it: the entries of `given` (comma-separated, as the user
// set it; may be empty) in their order, then each of `needed` not among them, joined by ",".
std::string merge_preload_libraries(const std::string& given, const std::vector<std::string>& needed);

}  // namespace pgha
