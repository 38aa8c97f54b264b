// SQL quoting, role options and SCRAM verifiers: what pgha sends to PostgreSQL for users.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "core/role_option.hpp"
#include "core/scram.hpp"
#include "core/sql_quote.hpp"
#include "net/ssh_keys.hpp"

namespace pgha {
namespace {

TEST(SqlQuote, IdentifiersDoubleQuotes) {
  EXPECT_EQ(quote_ident("app"), "\"app\"");
  EXPECT_EQ(quote_ident("App User"), "\"App User\"");
  EXPECT_EQ(quote_ident("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(quote_ident("$pgha$"), "\"$pgha$\"");
}

TEST(SqlQuote, LiteralsDoubleQuotesAndBackslashes) {
  EXPECT_EQ(quote_literal("x"), "'x'");
  EXPECT_EQ(quote_literal(""), "''");
  EXPECT_EQ(quote_literal("it's"), "'it''s'");
  EXPECT_EQ(quote_literal("$pgha$; \\! id"), "E'$pgha$; \\\\! id'");
  EXPECT_EQ(quote_literal("a\\'b"), "E'a\\\\''b'");
}

// Reads a literal back the way PostgreSQL's lexer does, for both spellings quote_literal emits.
std::string unquote_literal(const std::string& lit) {
  bool e = lit[0] == 'E';
  std::string body = lit.substr(e ? 2 : 1, lit.size() - (e ? 3 : 2));
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    if ((body[i] == '\'' || (e && body[i] == '\\')) && i + 1 < body.size() && body[i + 1] == body[i])
      ++i;
    else if (body[i] == '\'')
      ADD_FAILURE() << "lone quote in " << lit;
    out += body[i];
  }
  return out;
}

TEST(SqlQuote, HostileValuesRoundTrip) {
  for (const char* v : {"'", "''", "\\", "\\'", "'\\", "$pgha$", "$$", "'; DROP ROLE x; --", "\\! id", "`id`",
                        "$(id)", "\"", "a\"; \\gexec"}) {
    EXPECT_EQ(unquote_literal(quote_literal(v)), v) << v;
  }
}

TEST(RoleOption, ParsesPostgresClosedList) {
  std::string why;
  EXPECT_EQ(to_sql(*parse_role_option("LOGIN", &why)), "LOGIN");
  EXPECT_EQ(to_sql(*parse_role_option("nologin", &why)), "NOLOGIN");
  EXPECT_EQ(to_sql(*parse_role_option("CreateDB", &why)), "CREATEDB");
  for (const char* flag :
       {"SUPERUSER", "NOSUPERUSER", "CREATEDB", "NOCREATEDB", "CREATEROLE", "NOCREATEROLE", "INHERIT",
        "NOINHERIT", "LOGIN", "NOLOGIN", "REPLICATION", "NOREPLICATION", "BYPASSRLS", "NOBYPASSRLS"}) {
    auto o = parse_role_option(flag, &why);
    ASSERT_TRUE(o) << flag;
    EXPECT_EQ(to_sql(*o), flag);
  }
  auto limit = parse_role_option("connection  limit 10", &why);
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->attribute, RoleAttribute::connection_limit);
  EXPECT_EQ(to_sql(*limit), "CONNECTION LIMIT 10");
  EXPECT_EQ(to_sql(*parse_role_option("CONNECTION LIMIT -1", &why)), "CONNECTION LIMIT -1");
  EXPECT_EQ(to_sql(*parse_role_option("VALID UNTIL '2030-01-31 12:00:00+02'", &why)),
            "VALID UNTIL '2030-01-31 12:00:00+02'");
  EXPECT_EQ(to_sql(*parse_role_option("valid until 2030-01-31", &why)), "VALID UNTIL '2030-01-31'");
  EXPECT_EQ(to_sql(*parse_role_option("VALID UNTIL 'infinity'", &why)), "VALID UNTIL 'infinity'");
}

TEST(RoleOption, RefusesEverythingElse) {
  for (const char* bad : {"",
                          "LOGIN;",
                          "LOGIN PASSWORD 'x'",
                          "PASSWORD 'x'",
                          "ENCRYPTED PASSWORD 'x'",
                          "IN ROLE pg_read_server_files",
                          "ADMIN x",
                          "SYSID 1",
                          "LOGIN\n\\! id",
                          "login $pgha$",
                          "CONNECTION LIMIT",
                          "CONNECTION LIMIT -2",
                          "CONNECTION LIMIT 1x",
                          "CONNECTION LIMIT 99999999999",
                          "VALID UNTIL",
                          "VALID UNTIL 'tomorrow'",
                          "VALID UNTIL '2030-13-01'",
                          "VALID UNTIL '2030-01-01'; DROP ROLE x",
                          "VALID UNTIL 2030-01-01 25:00",
                          "SUPERUSER NOLOGIN"}) {
    std::string why;
    EXPECT_FALSE(parse_role_option(bad, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

TEST(RoleOption, SameAttribute) {
  std::string why;
  auto o = [&](const char* t) { return *parse_role_option(t, &why); };
  EXPECT_TRUE(same_attribute(o("LOGIN"), o("NOLOGIN")));
  EXPECT_TRUE(same_attribute(o("CREATEDB"), o("CREATEDB")));
  EXPECT_FALSE(same_attribute(o("LOGIN"), o("CREATEDB")));
  EXPECT_FALSE(same_attribute(o("NOLOGIN"), o("CREATEDB")));
  EXPECT_TRUE(same_attribute(o("CONNECTION LIMIT 1"), o("CONNECTION LIMIT 2")));
  EXPECT_FALSE(same_attribute(o("CONNECTION LIMIT 1"), o("VALID UNTIL infinity")));
}

// Verifiers computed by PostgreSQL 15 itself (SET password_encryption = 'scram-sha-256'; CREATE ROLE
// t PASSWORD '...'; SELECT rolpassword FROM pg_authid), recomputed here from their salts.
TEST(Scram, MatchesPostgresVerifiers) {
  struct Case {
    const char* password;
    const char* verifier;
  };
  for (const Case& c : {
           Case{"pencil",
                "SCRAM-SHA-256$4096:+lxV7SV8D397R7tTHjP2yA==$U3Ed5ajUNpjB+51Trel4qwzop1pLzhW4TIOQ6IsIr/"
                "s=:frVBoM7VDqD0Ruyu6KWltt7HEkpKbi5L5HOzOpdmIhM="},
           Case{"$pgha$ x'\"\\;`$(id)",
                "SCRAM-SHA-256$4096:UivhWpT99qCRkL8YwBM7Ng==$ZXAO1cVR0DB8Yah1Pr+J5XHoap3ueYqHRODMGDlwX5E=:"
                "XhkSJxOS/0o0e6wwVqQlv8uySemUfUK1U97cXbcAX1s="},
       }) {
    std::string v = c.verifier;
    size_t colon = v.find(':'), dollar = v.find('$', colon);
    std::string salt = base64_decode(v.substr(colon + 1, dollar - colon - 1));
    ASSERT_EQ(salt.size(), kScramSaltBytes);
    EXPECT_EQ(scram_sha256_verifier(c.password, salt), v) << c.password;
  }
}

std::string hmac(const std::string& key, const std::string& msg) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out, &len);
  return {reinterpret_cast<char*>(out), len};
}

// RFC 7677 section 3: user "user", password "pencil". The client proof and the server signature of
// that exchange must check out against the StoredKey and ServerKey of our verifier for its salt.
TEST(Scram, Rfc7677Exchange) {
  const std::string salt = base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==");
  std::string v = scram_sha256_verifier("pencil", salt, 4096);
  ASSERT_EQ(v.rfind("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$", 0), 0u) << v;
  size_t keys = v.rfind('$') + 1;
  size_t colon = v.find(':', keys);
  std::string stored_key = base64_decode(v.substr(keys, colon - keys));
  std::string server_key = base64_decode(v.substr(colon + 1));
  const std::string auth_message =
      "n=user,r=rOprNGfwEbeRWgbNEkqO,"
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  EXPECT_EQ(base64_encode(hmac(server_key, auth_message)), "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  // ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); StoredKey = SHA256(ClientKey).
  std::string proof = base64_decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  std::string signature = hmac(stored_key, auth_message);
  std::string client_key(proof.size(), '\0');
  for (size_t i = 0; i < proof.size(); ++i) client_key[i] = static_cast<char>(proof[i] ^ signature[i]);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(client_key.data()), client_key.size(), digest);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(digest), sizeof digest), stored_key);
}

TEST(Scram, FreshSaltEachTime) {
  std::string a = scram_sha256_verifier("same"), b = scram_sha256_verifier("same");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("SCRAM-SHA-256$4096:", 0), 0u);
  EXPECT_EQ(a.find("same"), std::string::npos);
}

}  // namespace
}  // namespace pgha
