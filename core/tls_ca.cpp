#include "core/tls_ca.hpp"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <memory>
#include <optional>

namespace pgha {

namespace {

template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;
using NamePtr = std::unique_ptr<GENERAL_NAME, Deleter<GENERAL_NAME_free>>;
using OctetsPtr = std::unique_ptr<ASN1_OCTET_STRING, Deleter<ASN1_OCTET_STRING_free>>;
using Ia5Ptr = std::unique_ptr<ASN1_IA5STRING, Deleter<ASN1_IA5STRING_free>>;

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kBackdate = 3600;  // notBefore = now - 1h, for clocks that lag ours

// OpenSSL's error queue is per thread. Each public entry point starts and ends with it empty, so the
// "first queued error" in a message is ours and nothing stale is left for the next TLS call on this thread.
struct ErrorQueueScope {
  ErrorQueueScope() { ERR_clear_error(); }
  ~ErrorQueueScope() { ERR_clear_error(); }
  ErrorQueueScope(const ErrorQueueScope&) = delete;
  ErrorQueueScope& operator=(const ErrorQueueScope&) = delete;
};

Error openssl_error(const std::string& what) {
  unsigned long code = ERR_get_error();
  std::array<char, 256> text{};
  ERR_error_string_n(code, text.data(), text.size());
  return make_error(ErrorKind::internal, what + ": " + (code != 0 ? text.data() : "no OpenSSL error queued"));
}

// Without a callback, PEM_read_* on an encrypted key would prompt on the terminal; refuse instead.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

X509Ptr parse_cert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
}

KeyPtr parse_key(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return KeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
}

std::optional<std::string> bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len < 0 || (len > 0 && data == nullptr)) return std::nullopt;
  return std::string(data, static_cast<size_t>(len));
}

Result<std::string> cert_to_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return openssl_error("writing the certificate PEM");
  auto text = bio_text(bio.get());
  if (!text) return openssl_error("reading the certificate PEM");
  return *text;
}

Result<std::string> key_to_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  // PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY"), which PostgreSQL, etcd and Go all read.
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return openssl_error("writing the private key PEM");
  }
  auto text = bio_text(bio.get());
  if (!text) return openssl_error("reading the private key PEM");
  return *text;
}

// The 4 or 16 bytes of an IPv4/IPv6 address; nullopt for anything inet_pton refuses (stricter than
// OpenSSL's a2i_IPADDRESS, which accepts trailing garbage after a dotted quad).
std::optional<std::string> ip_bytes(const std::string& text) {
  std::array<unsigned char, 16> buf{};
  if (inet_pton(AF_INET, text.c_str(), buf.data()) == 1) return std::string(buf.begin(), buf.begin() + 4);
  if (inet_pton(AF_INET6, text.c_str(), buf.data()) == 1) return std::string(buf.begin(), buf.end());
  return std::nullopt;
}

std::optional<std::string> ip_text(const unsigned char* bytes, int len) {
  std::array<char, INET6_ADDRSTRLEN> buf{};
  int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : -1;
  if (family < 0 || inet_ntop(family, bytes, buf.data(), buf.size()) == nullptr) return std::nullopt;
  return std::string(buf.data());
}

KeyPtr new_p256_key() {
  return KeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
}

// A fresh certificate with version, random serial, validity, subject CN and public key set.
Result<X509Ptr> new_cert(const std::string& common_name, EVP_PKEY* key, std::int64_t now_unix, int days) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1)
    return openssl_error("creating a certificate");
  // 128 random bits with the top bit set: positive, a fixed 17-byte DER length, well under RFC 5280's 20.
  BnPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 128, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return openssl_error("choosing a serial number");
  }
  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()), static_cast<time_t>(now_unix - kBackdate)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), static_cast<time_t>(now_unix + days * kDay)) == nullptr) {
    return openssl_error("setting the validity");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1) {
    return openssl_error("setting the common name");
  }
  if (X509_set_pubkey(cert.get(), key) != 1) return openssl_error("setting the public key");
  return cert;
}

// Adds one extension written in openssl.cnf syntax ("critical,CA:TRUE"); ctx names issuer and subject.
Status add_ext(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return openssl_error(std::string("adding extension ") + OBJ_nid2sn(nid) + " " + value);
  }
  return {};
}

// The subjectAltName built name by name rather than from a config string, so a DNS name with a comma
// cannot smuggle in extra entries.
Result<NamesPtr> alt_names(const CertRequest& req) {
  NamesPtr names(GENERAL_NAMES_new());
  if (!names) return openssl_error("creating subjectAltName");
  for (const std::string& dns : req.dns_names) {
    if (dns.empty()) return make_error(ErrorKind::bad_input, "empty DNS name in the certificate request");
    Ia5Ptr value(ASN1_IA5STRING_new());
    NamePtr name(GENERAL_NAME_new());
    if (!value || !name || ASN1_STRING_set(value.get(), dns.data(), static_cast<int>(dns.size())) != 1) {
      return openssl_error("adding DNS name " + dns);
    }
    GENERAL_NAME_set0_value(name.get(), GEN_DNS, value.release());
    if (sk_GENERAL_NAME_push(names.get(), name.get()) == 0) return openssl_error("adding DNS name " + dns);
    name.release();
  }
  for (const std::string& ip : req.ip_addresses) {
    auto bytes = ip_bytes(ip);
    if (!bytes) return make_error(ErrorKind::bad_input, "not an IP address: '" + ip + "'");
    OctetsPtr value(ASN1_OCTET_STRING_new());
    NamePtr name(GENERAL_NAME_new());
    if (!value || !name ||
        ASN1_OCTET_STRING_set(value.get(), reinterpret_cast<const unsigned char*>(bytes->data()),
                              static_cast<int>(bytes->size())) != 1) {
      return openssl_error("adding IP address " + ip);
    }
    GENERAL_NAME_set0_value(name.get(), GEN_IPADD, value.release());
    if (sk_GENERAL_NAME_push(names.get(), name.get()) == 0) return openssl_error("adding IP address " + ip);
    name.release();
  }
  return names;
}

Result<TlsPair> finish(X509* cert, EVP_PKEY* signer, EVP_PKEY* key) {
  if (X509_sign(cert, signer, EVP_sha256()) <= 0) return openssl_error("signing the certificate");
  auto cert_pem = cert_to_pem(cert);
  if (!cert_pem) return cert_pem.error();
  auto key_pem = key_to_pem(key);
  if (!key_pem) return key_pem.error();
  return TlsPair{std::move(*cert_pem), std::move(*key_pem)};
}

std::string utc_date(std::int64_t unix_time) {
  std::time_t t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 16> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%d", &tm);
  return buf.data();
}

// Sorted and deduplicated, for order-insensitive comparison.
std::vector<std::string> as_set(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

Result<TlsPair> make_ca(const std::string& cluster, std::int64_t now_unix, int days) {
  ErrorQueueScope scope;
  if (days <= 0) return make_error(ErrorKind::bad_input, "CA validity must be at least one day");
  KeyPtr key = new_p256_key();
  if (!key) return openssl_error("generating the CA key");
  std::string cn = "pgha " + cluster + " CA";
  if (cn.size() > static_cast<size_t>(ub_common_name)) {
    return make_error(ErrorKind::bad_input, "cluster name too long for the CA common name: " + cluster);
  }
  auto cert = new_cert(cn, key.get(), now_unix, days);
  if (!cert) return cert.error();
  X509* x = cert->get();
  if (X509_set_issuer_name(x, X509_get_subject_name(x)) != 1) return openssl_error("setting the CA issuer");
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                            std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
                            std::pair{NID_subject_key_identifier, "hash"}}) {
    if (Status st = add_ext(x, &ctx, nid, value); !st) return st.error();
  }
  return finish(x, key.get(), key.get());
}

Result<TlsPair> issue_cert(const TlsPair& ca, const CertRequest& req, std::int64_t now_unix) {
  ErrorQueueScope scope;
  if (req.days <= 0) return make_error(ErrorKind::bad_input, "certificate validity must be at least one day");
  if (req.common_name.size() > static_cast<size_t>(ub_common_name)) {
    return make_error(ErrorKind::bad_input, "common name longer than 64 characters: " + req.common_name);
  }
  X509Ptr ca_cert = parse_cert(ca.cert_pem);
  if (!ca_cert) return make_error(ErrorKind::bad_input, "the CA certificate is not a PEM certificate");
  KeyPtr ca_key = parse_key(ca.key_pem);
  if (!ca_key) return make_error(ErrorKind::bad_input, "the CA key is not an unencrypted PEM private key");
  if (EVP_PKEY_eq(X509_get0_pubkey(ca_cert.get()), ca_key.get()) != 1) {
    return make_error(ErrorKind::bad_input, "the CA key does not match the CA certificate");
  }
  auto names = alt_names(req);  // first, so bad input is reported before any key is generated
  if (!names) return names.error();

  KeyPtr key = new_p256_key();
  if (!key) return openssl_error("generating the key for " + req.common_name);
  auto cert = new_cert(req.common_name, key.get(), now_unix, req.days);
  if (!cert) return cert.error();
  X509* x = cert->get();
  if (X509_set_issuer_name(x, X509_get_subject_name(ca_cert.get())) != 1) {
    return openssl_error("setting the issuer");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca_cert.get(), x, nullptr, nullptr, 0);
  // "keyid,issuer": the CA's key id when it has one; a user's CA without subjectKeyIdentifier falls back
  // to issuer name and serial instead of failing.
  for (auto [nid, value] :
       {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
        std::pair{NID_key_usage, "critical,digitalSignature,keyEncipherment"},
        std::pair{NID_ext_key_usage, "serverAuth,clientAuth"}, std::pair{NID_subject_key_identifier, "hash"},
        std::pair{NID_authority_key_identifier, "keyid,issuer"}}) {
    if (Status st = add_ext(x, &ctx, nid, value); !st) return st.error();
  }
  if (!req.dns_names.empty() || !req.ip_addresses.empty()) {
    if (X509_add1_ext_i2d(x, NID_subject_alt_name, names->get(), 0, X509V3_ADD_DEFAULT) != 1) {
      return openssl_error("adding subjectAltName");
    }
  }
  return finish(x, ca_key.get(), key.get());
}

Result<CertFacts> read_cert(const std::string& cert_pem) {
  ErrorQueueScope scope;
  X509Ptr cert = parse_cert(cert_pem);
  if (!cert) return make_error(ErrorKind::bad_input, "not a PEM certificate");
  CertFacts facts;
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); i >= 0) {
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
    if (len < 0) return make_error(ErrorKind::bad_input, "the certificate's common name is not valid text");
    facts.common_name.assign(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
    OPENSSL_free(utf8);
  }
  NamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      const ASN1_STRING* s = name->d.dNSName;
      facts.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                   static_cast<size_t>(ASN1_STRING_length(s)));
    } else if (name->type == GEN_IPADD) {
      const ASN1_STRING* s = name->d.iPAddress;
      auto text = ip_text(ASN1_STRING_get0_data(s), ASN1_STRING_length(s));
      if (!text) return make_error(ErrorKind::bad_input, "the certificate has a malformed IP address");
      facts.ip_addresses.push_back(std::move(*text));
    }
  }
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) != 1) {
    return make_error(ErrorKind::bad_input, "the certificate's notAfter does not parse");
  }
  facts.not_after_unix = static_cast<std::int64_t>(timegm(&tm));
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_len = 0;
  if (X509_digest(cert.get(), EVP_sha256(), md.data(), &md_len) != 1) {
    return openssl_error("fingerprinting the certificate");
  }
  static const char digits[] = "0123456789abcdef";
  for (unsigned int i = 0; i < md_len; ++i) {
    facts.fingerprint_sha256 += digits[md[i] >> 4];
    facts.fingerprint_sha256 += digits[md[i] & 0xf];
  }
  return facts;
}

bool cert_signed_by(const std::string& cert_pem, const std::string& ca_cert_pem) {
  ErrorQueueScope scope;
  X509Ptr cert = parse_cert(cert_pem);
  X509Ptr ca = parse_cert(ca_cert_pem);
  if (!cert || !ca) return false;
  EVP_PKEY* ca_key = X509_get0_pubkey(ca.get());
  return ca_key != nullptr &&
         X509_NAME_cmp(X509_get_issuer_name(cert.get()), X509_get_subject_name(ca.get())) == 0 &&
         X509_verify(cert.get(), ca_key) == 1;
}

bool key_matches_cert(const std::string& key_pem, const std::string& cert_pem) {
  ErrorQueueScope scope;
  KeyPtr key = parse_key(key_pem);
  X509Ptr cert = parse_cert(cert_pem);
  if (!key || !cert) return false;
  const EVP_PKEY* pub = X509_get0_pubkey(cert.get());
  return pub != nullptr && EVP_PKEY_eq(pub, key.get()) == 1;
}

std::string reissue_reason(const TlsPair& current, const TlsPair& ca, const CertRequest& want,
                           std::int64_t now_unix, int renew_before_days) {
  if (current.cert_pem.empty() || current.key_pem.empty()) return "missing";
  auto facts = read_cert(current.cert_pem);
  if (!facts) return "unreadable";
  {
    ErrorQueueScope scope;
    if (!parse_key(current.key_pem)) return "unreadable";
  }
  if (!cert_signed_by(current.cert_pem, ca.cert_pem)) return "not signed by the cluster CA";
  if (!key_matches_cert(current.key_pem, current.cert_pem)) return "key does not match";
  if (facts->not_after_unix - now_unix < renew_before_days * kDay) {
    return "expires " + utc_date(facts->not_after_unix) + " (within " + std::to_string(renew_before_days) +
           " days)";
  }
  // Wanted IPs in the form read_cert reports; one that does not parse stays as written, never matches,
  // and issue_cert then reports it as bad input.
  std::vector<std::string> want_ips;
  for (const std::string& ip : want.ip_addresses) {
    auto bytes = ip_bytes(ip);
    auto text = bytes ? ip_text(reinterpret_cast<const unsigned char*>(bytes->data()),
                                static_cast<int>(bytes->size()))
                      : std::nullopt;
    want_ips.push_back(text ? *text : ip);
  }
  if (facts->common_name != want.common_name || as_set(facts->dns_names) != as_set(want.dns_names) ||
      as_set(facts->ip_addresses) != as_set(want_ips)) {
    return "names changed";
  }
  return "";
}

Status check_ca_pair(const TlsPair& ca) {
  ErrorQueueScope scope;
  X509Ptr cert = parse_cert(ca.cert_pem);
  if (!cert) return make_error(ErrorKind::bad_input, "tls.ca_cert is not a PEM certificate");
  // X509_get_extension_flags caches the parsed extensions; EXFLAG_CA is basicConstraints CA:TRUE exactly
  // (X509_check_ca would also accept an old v1 self-signed certificate).
  uint32_t flags = X509_get_extension_flags(cert.get());
  if ((flags & EXFLAG_INVALID) != 0) {
    return make_error(ErrorKind::bad_input, "tls.ca_cert has malformed extensions");
  }
  if ((flags & EXFLAG_CA) == 0) {
    return make_error(ErrorKind::bad_input,
                      "tls.ca_cert is not a CA certificate (no basicConstraints CA:TRUE)");
  }
  if ((flags & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(cert.get()) & KU_KEY_CERT_SIGN) == 0) {
    return make_error(ErrorKind::bad_input, "tls.ca_cert's keyUsage does not allow keyCertSign");
  }
  KeyPtr key = parse_key(ca.key_pem);
  if (!key) return make_error(ErrorKind::bad_input, "tls.ca_key is not an unencrypted PEM private key");
  if (EVP_PKEY_eq(X509_get0_pubkey(cert.get()), key.get()) != 1) {
    return make_error(ErrorKind::bad_input, "tls.ca_key does not match tls.ca_cert");
  }
  return {};
}

}  // namespace pgha
