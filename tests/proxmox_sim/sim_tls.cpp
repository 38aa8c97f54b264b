#include "sim_tls.hpp"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>

namespace pgha::sim {

namespace {

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

Key new_key() {
  return Key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
}

bool add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return true;
}

Cert make_cert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, long serial, bool ca) {
  Cert cert(X509_new(), &X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("PVE Cluster Manager CA"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509* signer = issuer == nullptr ? cert.get() : issuer;
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  bool ok = ca ? add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE") &&
                     add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign")
               : add_ext(cert.get(), signer, NID_basic_constraints, "CA:FALSE") &&
                     add_ext(cert.get(), signer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost") &&
                     add_ext(cert.get(), signer, NID_ext_key_usage, "serverAuth");
  if (!ok || X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) return Cert(nullptr, &X509_free);
  return cert;
}

bool write_cert(const std::string& path, X509* cert) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  bool ok = PEM_write_X509(f, cert) == 1;
  return std::fclose(f) == 0 && ok;
}

bool write_key(const std::string& path, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  bool ok = PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  return std::fclose(f) == 0 && ok;
}

std::string fingerprint_of(const std::string& cert_path) {
  FILE* f = std::fopen(cert_path.c_str(), "r");
  if (f == nullptr) return "";
  Cert cert(PEM_read_X509(f, nullptr, nullptr, nullptr), &X509_free);
  std::fclose(f);
  if (!cert) return "";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(cert.get(), EVP_sha256(), md, &n);
  std::string out;
  char hex[4];
  for (unsigned i = 0; i < n; ++i) {
    std::snprintf(hex, sizeof hex, i == 0 ? "%02X" : ":%02X", md[i]);
    out += hex;
  }
  return out;
}

}  // namespace

bool ensure_tls_files(const std::string& dir, TlsFiles& out, std::string& error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  out.ca_cert = dir + "/pve-root-ca.pem";
  out.server_cert = dir + "/pve-ssl.pem";
  out.server_key = dir + "/pve-ssl.key";
  if (!(fs::exists(out.ca_cert) && fs::exists(out.server_cert) && fs::exists(out.server_key))) {
    Key ca_key = new_key();
    Key key = new_key();
    if (!ca_key || !key) return error = "cannot generate keys", false;
    Cert ca =
        make_cert(ca_key.get(), "Proxmox Virtual Environment (simulated)", nullptr, ca_key.get(), 1, true);
    if (!ca) return error = "cannot make the CA certificate", false;
    Cert cert = make_cert(key.get(), "localhost", ca.get(), ca_key.get(), 2, false);
    if (!cert) return error = "cannot make the server certificate", false;
    if (!write_cert(out.ca_cert, ca.get()) || !write_cert(out.server_cert, cert.get()) ||
        !write_key(out.server_key, key.get())) {
      return error = "cannot write TLS files in " + dir, false;
    }
  }
  out.fingerprint = fingerprint_of(out.server_cert);
  if (out.fingerprint.empty()) return error = "cannot read " + out.server_cert, false;
  return true;
}

}  // namespace pgha::sim
