// The per-cluster SSH key: an ed25519 pair made in-process with OpenSSL, the private half written in
// OpenSSH's own format (openssh-key-v1, unencrypted, which libssh2 loads), the public half as an
// authorized_keys line.
#pragma once

#include <string>

#include "core/error.hpp"

namespace pgha {

struct SshKeyPair {
  std::string private_pem;  // "-----BEGIN OPENSSH PRIVATE KEY-----\n...": a secret, never log it
  std::string public_line;  // "ssh-ed25519 AAAA... <comment>"
};

// A fresh key pair. Errors: internal (OpenSSL failed).
Result<SshKeyPair> generate_ed25519_key(const std::string& comment);

// Writes private_path (mode 0600, created exclusively through a temp file + rename) and
// private_path + ".pub" (0644). Errors: io, naming the path.
Status write_key_pair(const SshKeyPair& pair, const std::string& private_path);

// The cluster key at private_path: loaded when both files exist, else generated with comment
// "pgha-<cluster>" and written. Returns the public line.
Result<std::string> ensure_cluster_key(const std::string& private_path, const std::string& cluster);

// "SHA256:<base64 without padding>" of a raw public key blob, as OpenSSH prints fingerprints.
std::string ssh_fingerprint(const std::string& key_blob);

// Standard base64 (with padding) and its inverse; decode returns "" on malformed input.
std::string base64_encode(const std::string& bytes);
std::string base64_decode(const std::string& text);

}  // namespace pgha
