// SCRAM-SHA-256 password verifiers in PostgreSQL's stored format (src/common/scram-common.c,
// scram_build_secret): "SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>".
// CREATE ROLE ... PASSWORD '<verifier>' stores it as is, so the server never sees the password.
#pragma once

#include <string>
#include <string_view>

namespace pgha {

constexpr int kScramIterations = 4096;  // PostgreSQL's default scram_iterations
constexpr size_t kScramSaltBytes = 16;  // PostgreSQL's SCRAM_DEFAULT_SALT_LEN

// The verifier for password with this salt (raw bytes):
//   SaltedPassword = PBKDF2-HMAC-SHA256(password, salt, iterations)
//   StoredKey = SHA256(HMAC(SaltedPassword, "Client Key")), ServerKey = HMAC(SaltedPassword, "Server Key").
// The password is used as its bytes: PostgreSQL first applies SASLprep, which leaves printable ASCII
// unchanged; the validator admits only printable ASCII user passwords for that reason.
// "" only when OpenSSL fails (out of memory).
std::string scram_sha256_verifier(std::string_view password, std::string_view salt,
                                  int iterations = kScramIterations);

// The same with a fresh random salt from OpenSSL's CSPRNG.
std::string scram_sha256_verifier(std::string_view password);

}  // namespace pgha
