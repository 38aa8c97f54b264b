// How PgBouncer authenticates clients without holding their passwords (issue 13): it looks each
// user's SCRAM verifier up through auth_query, logged in as a dedicated low-privilege role whose only
// right is EXECUTE on one SECURITY DEFINER function. That function returns the verifier of login
// roles that are neither superusers nor replication roles, so neither `postgres` nor `replicator` can
// log in through the pooler. PgBouncer 1.18 (Debian 12) must hold the lookup role's own password in
// plain text in auth_file: it logs in to the server as that role with no client SCRAM exchange to
// reuse, and with a verifier it fails ("password is SCRAM secret but client authentication did not
// provide SCRAM keys"). That password is derived from the admin password, so it needs no new secret,
// and it opens nothing but the lookup. The console user `admin` is in auth_file as a SCRAM verifier.
#pragma once

#include <string>

#include "core/render.hpp"

namespace pgha {

// The lookup role, and the schema in every database that holds its function (PgBouncer 1.18 runs
// auth_query in the database the client asked for; auth_dbname came with 1.19).
inline constexpr const char* kPgbouncerLookupRole = "pgha_pgbouncer";
inline constexpr const char* kPgbouncerLookupSchema = "pgha_pgbouncer";

// pgbouncer.ini's auth_query.
std::string pgbouncer_auth_query();

// The lookup role's password: 64 hex digits derived from the admin password (SHA-256 with a fixed
// label), the same on every node and every run.
std::string pgbouncer_lookup_password(const ResolvedSecrets& secrets);

// A SCRAM verifier whose salt is derived from `key` (a cluster secret), the role and the password: the
// same inputs give the same verifier, so a file holding it stays byte-identical across runs and SQL can
// tell whether a role's stored verifier is current by comparing text.
std::string stable_scram_verifier(const std::string& key, const std::string& role,
                                  const std::string& password);

// One statement list, run in one database, that makes the schema and the lookup function or brings
// them up to date (CREATE ... IF NOT EXISTS, CREATE OR REPLACE). Holds no value from the inventory.
std::string pgbouncer_lookup_function_sql();

}  // namespace pgha
