// A cluster's certificate authority and the certificates it issues, in-process with OpenSSL.
// Pure functions over PEM text: no files, no global state; safe to call from several threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace pgha {

struct TlsPair {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8 PEM ("BEGIN PRIVATE KEY"), unencrypted
};

struct CertRequest {
  std::string common_name;             // e.g. "pg1"; at most 64 characters (X.520 upper bound)
  std::vector<std::string> dns_names;  // SAN DNS entries, e.g. {"pg1", "localhost"}
  std::vector<std::string>
      ip_addresses;  // SAN IP entries, IPv4 or IPv6 text, e.g. {"10.42.0.11", "127.0.0.1"}
  int days = 365;
};

// A new self-signed CA: EC P-256 key, CN "pgha <cluster> CA", basicConstraints critical CA:TRUE pathlen 0,
// keyUsage critical keyCertSign|cRLSign, subjectKeyIdentifier. Valid from now-1h (clock skew between
// hosts) until now + `days`. Errors: bad_input for days <= 0, internal for OpenSSL failures.
Result<TlsPair> make_ca(const std::string& cluster, std::int64_t now_unix, int days = 3650);

// A leaf certificate signed by `ca`: fresh EC P-256 key, CN from the request, SANs (DNS and IP),
// basicConstraints critical CA:FALSE, keyUsage critical digitalSignature|keyEncipherment,
// extendedKeyUsage serverAuth+clientAuth, subject and authority key identifiers, random 128-bit positive
// serial. Valid from now-1h until now + req.days. Errors: bad_input for an unparsable IP, an empty DNS
// name, a CN over 64 characters, days <= 0, or a CA pair that does not parse or match; internal for
// OpenSSL failures (the message includes ERR_error_string of the first queued error).
Result<TlsPair> issue_cert(const TlsPair& ca, const CertRequest& req, std::int64_t now_unix);

struct CertFacts {
  std::string common_name;                // "" when the subject has no CN
  std::vector<std::string> dns_names;     // in certificate order
  std::vector<std::string> ip_addresses;  // normalised text (inet_ntop)
  std::int64_t not_after_unix = 0;
  std::string fingerprint_sha256;  // lowercase hex, no colons, of the DER
};
// The first certificate in cert_pem. bad_input when it is not a PEM certificate.
Result<CertFacts> read_cert(const std::string& cert_pem);

// True when cert_pem verifies against ca_cert_pem (issuer name matches the CA's subject and X509_verify
// with the CA's public key succeeds). False for anything unparsable.
bool cert_signed_by(const std::string& cert_pem, const std::string& ca_cert_pem);
// True when key_pem is the private key of cert_pem. False for anything unparsable or encrypted.
bool key_matches_cert(const std::string& key_pem, const std::string& cert_pem);

// Why a node certificate must be issued again, or "" when it can stay. The first that applies of:
// "missing" (empty cert_pem or key_pem), "unreadable" (cert or key does not parse),
// "not signed by the cluster CA", "key does not match",
// "expires <YYYY-MM-DD> (within <renew_before_days> days)" when not_after - now < renew_before_days days,
// "names changed" when the CN or the SAN sets (DNS or IP, order-insensitive, IPs normalised) differ.
std::string reissue_reason(const TlsPair& current, const TlsPair& ca, const CertRequest& want,
                           std::int64_t now_unix, int renew_before_days = 30);

// Checks a PEM CA pair given by the user (tls.ca_cert/tls.ca_key): the cert parses and is a CA
// (basicConstraints CA:TRUE, and keyCertSign when keyUsage is present), the key parses and matches.
// Errors: bad_input naming the check that failed.
Status check_ca_pair(const TlsPair& ca);

}  // namespace pgha
