#include "net/ssh_keys.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

namespace pgha {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};

// SSH wire encoding (RFC 4251): uint32 big-endian, and length-prefixed strings.
void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}
void put_string(std::string& out, const std::string& s) {
  put_u32(out, static_cast<uint32_t>(s.size()));
  out += s;
}

std::string public_blob(const std::string& pk) {
  std::string blob;
  put_string(blob, "ssh-ed25519");
  put_string(blob, pk);
  return blob;
}

// openssh-key-v1, cipher "none": see OpenSSH's PROTOCOL.key.
std::string openssh_private(const std::string& seed, const std::string& pk, const std::string& comment) {
  uint32_t check = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&check), sizeof(check));
  std::string priv;
  put_u32(priv, check);
  put_u32(priv, check);
  put_string(priv, "ssh-ed25519");
  put_string(priv, pk);
  put_string(priv, seed + pk);  // ed25519 "secret key" is seed || public key
  put_string(priv, comment);
  for (char pad = 1; priv.size() % 8 != 0; ++pad) priv += pad;

  std::string blob("openssh-key-v1", 15);  // includes the terminating NUL
  put_string(blob, "none");
  put_string(blob, "none");
  put_string(blob, "");
  put_u32(blob, 1);
  put_string(blob, public_blob(pk));
  put_string(blob, priv);

  std::string b64 = base64_encode(blob);
  std::string pem = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
  for (size_t i = 0; i < b64.size(); i += 70) pem += b64.substr(i, 70) + "\n";
  pem += "-----END OPENSSH PRIVATE KEY-----\n";
  OPENSSL_cleanse(priv.data(), priv.size());
  OPENSSL_cleanse(blob.data(), blob.size());
  return pem;
}

Status write_file(const std::string& path, const std::string& content, mode_t mode) {
  std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Error(ErrorKind::io, std::string("cannot create: ") + std::strerror(errno)).with(tmp);
  ::fchmod(fd, mode);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Error(ErrorKind::io, std::string("write failed: ") + std::strerror(e)).with(tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return Error(ErrorKind::io, std::string("cannot write: ") + std::strerror(e)).with(path);
  }
  return {};
}

std::optional<std::string> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string base64_encode(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string base64_decode(const std::string& text) {
  if (text.size() % 4 != 0) return "";
  std::string out(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return "";
  // EVP_DecodeBlock keeps the padding's zero bytes.
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string ssh_fingerprint(const std::string& key_blob) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(key_blob.data(), key_blob.size(), md, &len, EVP_sha256(), nullptr);
  std::string b64 = base64_encode(std::string(reinterpret_cast<char*>(md), len));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return "SHA256:" + b64;
}

Result<SshKeyPair> generate_ed25519_key(const std::string& comment) {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    return Error(ErrorKind::internal, "ed25519 key generation failed (OpenSSL)");
  }
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(raw);
  std::string seed(32, '\0'), pk(32, '\0');
  size_t seed_len = seed.size(), pk_len = pk.size();
  if (EVP_PKEY_get_raw_private_key(key.get(), reinterpret_cast<unsigned char*>(seed.data()), &seed_len) !=
          1 ||
      EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(pk.data()), &pk_len) != 1 ||
      seed_len != 32 || pk_len != 32) {
    return Error(ErrorKind::internal, "ed25519 key export failed (OpenSSL)");
  }
  SshKeyPair pair;
  pair.private_pem = openssh_private(seed, pk, comment);
  pair.public_line = "ssh-ed25519 " + base64_encode(public_blob(pk)) + " " + comment;
  OPENSSL_cleanse(seed.data(), seed.size());
  return pair;
}

Status write_key_pair(const SshKeyPair& pair, const std::string& private_path) {
  if (auto st = write_file(private_path, pair.private_pem, 0600); !st) return st;
  return write_file(private_path + ".pub", pair.public_line + "\n", 0644);
}

Result<std::string> ensure_cluster_key(const std::string& private_path, const std::string& cluster) {
  auto pub = slurp(private_path + ".pub");
  struct stat st {};
  if (pub && ::stat(private_path.c_str(), &st) == 0) {
    while (!pub->empty() && (pub->back() == '\n' || pub->back() == '\r')) pub->pop_back();
    return *pub;
  }
  auto pair = generate_ed25519_key("pgha-" + cluster);
  if (!pair) return pair.error();
  if (auto w = write_key_pair(*pair, private_path); !w) return w.error();
  return pair->public_line;
}

}  // namespace pgha
