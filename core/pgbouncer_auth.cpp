#include "core/pgbouncer_auth.hpp"

#include "core/scram.hpp"
#include "core/sha256.hpp"
#include "core/sql_quote.hpp"

namespace pgha {
namespace {

std::string unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

}  // namespace

std::string pgbouncer_auth_query() {
  return std::string("SELECT username, password FROM ") + kPgbouncerLookupSchema + ".lookup($1)";
}

std::string pgbouncer_lookup_password(const ResolvedSecrets& secrets) {
  return sha256_hex(std::string("pgha pgbouncer lookup role") + '\0' + secrets.admin_password);
}

std::string stable_scram_verifier(const std::string& key, const std::string& role,
                                  const std::string& password) {
  const std::string salt =
      unhex(sha256_hex(std::string("pgha scram salt") + '\0' + key + '\0' + role + '\0' + password))
          .substr(0, kScramSaltBytes);
  return scram_sha256_verifier(password, salt);
}

std::string pgbouncer_lookup_function_sql() {
  const std::string schema = quote_ident(kPgbouncerLookupSchema);
  const std::string role = quote_ident(kPgbouncerLookupRole);
  const std::string function = schema + ".lookup(text)";
  // Owned by the superuser that runs it, so SECURITY DEFINER may read pg_authid; search_path pinned so
  // no object the caller creates is found first.
  const std::string body =
      "SELECT rolname::text, rolpassword FROM pg_catalog.pg_authid WHERE rolname = $1 AND rolcanlogin "
      "AND NOT rolsuper AND NOT rolreplication AND NOT rolbypassrls";
  return "SET client_min_messages = warning; CREATE SCHEMA IF NOT EXISTS " + schema +
         "; REVOKE ALL ON SCHEMA " + schema + " FROM PUBLIC; GRANT USAGE ON SCHEMA " + schema + " TO " +
         role + "; CREATE OR REPLACE FUNCTION " + schema +
         ".lookup(i_username text) RETURNS TABLE (username text, password text) LANGUAGE sql STABLE "
         "SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS " +
         quote_literal(body) + "; REVOKE ALL ON FUNCTION " + function +
         " FROM PUBLIC; GRANT EXECUTE ON FUNCTION " + function + " TO " + role + ";";
}

}  // namespace pgha
