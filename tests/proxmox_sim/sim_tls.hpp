// The simulator's TLS material: a self-signed CA and a server certificate it signs (SAN 127.0.0.1,
// localhost), like a Proxmox node's pve-root-ca.pem + pve-ssl.pem. Test fixture, not product.
#pragma once

#include <string>

namespace pgha::sim {

struct TlsFiles {
  std::string ca_cert;      // <dir>/pve-root-ca.pem
  std::string server_cert;  // <dir>/pve-ssl.pem
  std::string server_key;   // <dir>/pve-ssl.key
  std::string fingerprint;  // SHA-256 of the server certificate's DER, "AA:BB:..."
};

// Reuses the files in `dir` when all exist, else makes them (EC P-256, valid 10 years). Returns
// false with `error` set on failure.
bool ensure_tls_files(const std::string& dir, TlsFiles& out, std::string& error);

}  // namespace pgha::sim
