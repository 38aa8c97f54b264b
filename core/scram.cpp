#include "core/scram.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>

namespace pgha {

namespace {

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

Digest hmac_sha256(const Digest& key, std::string_view message) {
  Digest out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &len);
  return out;
}

std::string_view view(const Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

// Standard base64 with padding, as PostgreSQL writes the verifier's fields.
std::string base64(std::string_view bytes) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16 | static_cast<unsigned char>(bytes[i + 1]) << 8 |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (size_t rest = bytes.size() - i; rest > 0) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += rest == 2 ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace

std::string scram_sha256_verifier(std::string_view password, std::string_view salt, int iterations) {
  Digest salted{};
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                        iterations, EVP_sha256(), static_cast<int>(salted.size()), salted.data()) != 1) {
    return "";
  }
  Digest client_key = hmac_sha256(salted, "Client Key");
  Digest stored_key{};
  SHA256(client_key.data(), client_key.size(), stored_key.data());
  Digest server_key = hmac_sha256(salted, "Server Key");
  return "SCRAM-SHA-256$" + std::to_string(iterations) + ":" + base64(salt) + "$" + base64(view(stored_key)) +
         ":" + base64(view(server_key));
}

std::string scram_sha256_verifier(std::string_view password) {
  std::array<unsigned char, kScramSaltBytes> salt{};
  while (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
  }
  return scram_sha256_verifier(password, {reinterpret_cast<const char*>(salt.data()), salt.size()});
}

}  // namespace pgha
