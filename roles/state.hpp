// The per-cluster state directory (default .pgha/<cluster>/, mode 0700 when pgha creates it): the
// cluster's SSH key and known hosts, generated secrets, and whatever ids the provider records. Local
// file I/O only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "core/error.hpp"
#include "core/inventory.hpp"
#include "core/render.hpp"

namespace pgha {

// Whether node certificates issued while resolving are kept (`up`, which then deploys them) or only
// shown (`plan`, `status` and the checks: the nodes still hold the old ones). The CA and pgha's own
// client certificate are local and always kept.
enum class NodeCerts { preview, save };

class StateDir {
 public:
  // Creates root/<cluster> (and root) with mode 0700 when missing; a directory that exists keeps its
  // mode. Errors: io.
  static Result<StateDir> open(const std::string& root, const std::string& cluster);

  const std::string& path() const { return path_; }
  std::string private_key_path() const { return path_ + "/id_ed25519"; }
  std::string public_key_path() const { return path_ + "/id_ed25519.pub"; }
  std::string known_hosts_path() const { return path_ + "/known_hosts"; }
  std::string secrets_path() const { return path_ + "/secrets.json"; }

  // The cluster's SSH public key (OpenSSH one-liner); generates the pair on first use.
  Result<std::string> ensure_ssh_key();

  // Every secret resolved: the inventory's value when given, else the one kept in secrets.json, else a
  // newly generated one, saved (0600) before it is returned.
  Result<ResolvedSecrets> resolve_secrets(const Inventory& inv, NodeCerts certs = NodeCerts::preview);

  // With tls.enabled: the cluster CA (the inventory's tls.ca_cert/ca_key, else tls/ca.* here, made on
  // first use), each node's certificate and key under tls/ (issued again when missing, not from this
  // CA, expiring within 30 days of `now_unix`, or naming other addresses), and pgha's client
  // certificate. Keys are written 0600 and never leave this directory but to their node.
  Result<TlsMaterial> resolve_tls(const Inventory& inv, std::int64_t now_unix, NodeCerts certs);
  std::string tls_dir() const { return path_ + "/tls"; }
  // Copies the cluster CA certificate (what clients verify the nodes with) to `path`, mode 0644.
  Status copy_cluster_ca(const std::string& path) const;
  // The inventory's node whose certificate here expires first, and when (Unix time); nullopt without
  // TLS or certificates.
  std::optional<std::pair<std::string, std::int64_t>> first_node_cert_expiry(const Inventory& inv) const;

  // Forgets machine identities (known hosts) — after `down`, new machines bring new host keys.
  Status forget_hosts();
  // Removes the whole directory.
  Status remove();

 private:
  explicit StateDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// A random password of `length` characters from [A-Za-z0-9] (OpenSSL's CSPRNG).
std::string generate_password(size_t length = 24);

// Writes content to path atomically (temp file + rename) with the given mode. Errors: io.
Status write_file_atomic(const std::string& path, const std::string& content, int mode);

}  // namespace pgha
