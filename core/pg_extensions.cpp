#include "core/pg_extensions.hpp"

#include <algorithm>
#include <set>

namespace pgha {
namespace {

// A C++ table rather than a data file like pg15_settings.tsv: it is curated by hand (a few dozen
// rows, each checked against Debian's archive), not generated, so there is no tool output to keep
// beside its command, and the compiler checks every row's shape.
//
// Contrib modules come with postgresql-<major> itself; the rest each have their own package.
// Debian 12 (bookworm) ships PostgreSQL 15, Debian 13 (trixie) PostgreSQL 17. pgvector is packaged
// for trixie only (postgresql-17-pgvector): bookworm has no postgresql-15-pgvector. Left out on
// purpose: pg_cron (CREATE EXTENSION works only in cron.database_name, one database per cluster)
// and modules that need another extension first (earthdistance needs cube).
const std::vector<int> kDebian = {15, 17};

std::vector<PgExtension> make_table() {
  auto contrib = [](const char* name, const char* preload = "") {
    return PgExtension{name, "", preload, kDebian};
  };
  return {
      contrib("amcheck"),
      contrib("bloom"),
      contrib("btree_gin"),
      contrib("btree_gist"),
      contrib("citext"),
      contrib("cube"),
      contrib("dblink"),
      contrib("fuzzystrmatch"),
      contrib("hstore"),
      contrib("intarray"),
      contrib("isn"),
      contrib("ltree"),
      contrib("pg_buffercache"),
      contrib("pg_prewarm"),
      contrib("pg_stat_statements", "pg_stat_statements"),
      contrib("pg_trgm"),
      contrib("pg_visibility"),
      contrib("pg_walinspect"),
      contrib("pgcrypto"),
      contrib("pgrowlocks"),
      contrib("pgstattuple"),
      contrib("postgres_fdw"),
      contrib("seg"),
      contrib("tablefunc"),
      contrib("tsm_system_rows"),
      contrib("unaccent"),
      contrib("uuid-ossp"),
      PgExtension{"hypopg", "hypopg", "", kDebian},
      PgExtension{"pg_partman", "partman", "", kDebian},
      PgExtension{"pg_repack", "repack", "", kDebian},
      PgExtension{"pgaudit", "pgaudit", "pgaudit", kDebian},
      PgExtension{"postgis", "postgis-3", "", kDebian},
      PgExtension{"vector", "pgvector", "", {17}},
  };
}

}  // namespace

bool PgExtension::available_for(int major) const {
  return std::find(versions.begin(), versions.end(), major) != versions.end();
}

std::string PgExtension::package(int major) const {
  return package_suffix.empty() ? "" : "postgresql-" + std::to_string(major) + "-" + package_suffix;
}

const std::vector<PgExtension>& pg_extensions() {
  static const std::vector<PgExtension> table = make_table();
  return table;
}

const PgExtension* find_pg_extension(std::string_view name) {
  for (const auto& e : pg_extensions()) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::vector<std::string> pg_extension_names() {
  std::vector<std::string> out;
  for (const auto& e : pg_extensions()) out.push_back(e.name);
  return out;
}

std::string pg_extension_refusal(const PgExtension& ext, int major) {
  if (ext.available_for(major)) return "";
  // The Debian release that ships each PostgreSQL major pgha knows.
  auto debian = [](int m) -> std::string {
    return m == 15 ? "Debian 12" : m == 17 ? "Debian 13" : "PostgreSQL " + std::to_string(m);
  };
  const std::string v = std::to_string(major);
  std::string comes;
  for (int m : ext.versions) {
    comes += (comes.empty() ? "" : ", ") + std::to_string(m) + " (" +
             (ext.package_suffix.empty() ? "" : ext.package(m) + ", ") + debian(m) + ")";
  }
  return "extension '" + ext.name + "' is not available for PostgreSQL " + v + ": " + debian(major) +
         (ext.package_suffix.empty() ? "'s postgresql-" + v + " does not ship it"
                                     : " has no " + ext.package(major) + " package") +
         "; it is packaged for PostgreSQL " + comes;
}

std::vector<std::string> extension_packages(const Inventory& inv) {
  std::set<std::string> out;
  for (const auto& d : inv.databases) {
    for (const auto& name : d.extensions) {
      const PgExtension* e = find_pg_extension(name);
      if (!e || !e->available_for(inv.postgres_version)) continue;
      if (auto p = e->package(inv.postgres_version); !p.empty()) out.insert(p);
    }
  }
  return {out.begin(), out.end()};
}

std::vector<std::string> extension_preloads(const Inventory& inv) {
  std::vector<std::string> out;
  for (const auto& d : inv.databases) {
    for (const auto& name : d.extensions) {
      const PgExtension* e = find_pg_extension(name);
      if (!e || e->preload.empty()) continue;
      if (std::find(out.begin(), out.end(), e->preload) == out.end()) out.push_back(e->preload);
    }
  }
  return out;
}

std::string merge_preload_libraries(const std::string& given, const std::vector<std::string>& needed) {
  std::vector<std::string> libs;
  size_t start = 0;
  while (start <= given.size()) {
    size_t comma = given.find(',', start);
    std::string item = given.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const size_t b = item.find_first_not_of(' ');
    const size_t e = item.find_last_not_of(' ');
    item = b == std::string::npos ? "" : item.substr(b, e - b + 1);
    if (!item.empty() && std::find(libs.begin(), libs.end(), item) == libs.end()) libs.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  for (const auto& n : needed) {
    if (std::find(libs.begin(), libs.end(), n) == libs.end()) libs.push_back(n);
  }
  std::string out;
  for (const auto& l : libs) out += (out.empty() ? "" : ",") + l;
  return out;
}

}  // namespace pgha
