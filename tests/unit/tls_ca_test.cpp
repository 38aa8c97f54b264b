// The cluster CA: what make_ca and issue_cert put in a certificate, that OpenSSL's own chain verifier
// (what libpq, PostgreSQL, Patroni and etcd's TLS stacks do) accepts the leaf for server and client use,
// and when reissue_reason asks for a new certificate.
#include "core/tls_ca.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>
#include <thread>
#include <vector>

namespace pgha {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr parse(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                &BIO_free);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

CertRequest pg1_request() {
  CertRequest req;
  req.common_name = "pg1";
  req.dns_names = {"pg1", "localhost"};
  req.ip_addresses = {"10.42.0.11", "10.42.0.100", "127.0.0.1", "fd00:0::1"};
  return req;
}

TlsPair must(Result<TlsPair> r) {
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().describe());
  return r.ok() ? std::move(r).value() : TlsPair{};
}

// X509_verify_cert with the CA as the only trust anchor, for one purpose, at the current time.
int verify(const TlsPair& leaf, const TlsPair& ca, int purpose) {
  X509Ptr leaf_cert = parse(leaf.cert_pem);
  X509Ptr ca_cert = parse(ca.cert_pem);
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), &X509_STORE_free);
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      &X509_STORE_CTX_free);
  if (!leaf_cert || !ca_cert || !store || !ctx) return -100;
  X509_STORE_add_cert(store.get(), ca_cert.get());
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf_cert.get(), nullptr);
  X509_STORE_CTX_set_purpose(ctx.get(), purpose);
  if (X509_verify_cert(ctx.get()) == 1) return X509_V_OK;
  return X509_STORE_CTX_get_error(ctx.get());
}

TEST(TlsCaTest, MakeCaIsATenYearSelfSignedCa) {
  TlsPair ca = must(make_ca("main", kNow));
  EXPECT_EQ(ca.cert_pem.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  EXPECT_EQ(ca.key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);  // PKCS#8
  auto facts = read_cert(ca.cert_pem);
  ASSERT_TRUE(facts.ok()) << facts.error().describe();
  EXPECT_EQ(facts->common_name, "pgha main CA");
  EXPECT_TRUE(facts->dns_names.empty());
  EXPECT_EQ(facts->not_after_unix, kNow + 3650 * kDay);
  EXPECT_EQ(facts->fingerprint_sha256.size(), 64u);
  EXPECT_EQ(facts->fingerprint_sha256.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_TRUE(check_ca_pair(ca).ok());
  EXPECT_TRUE(cert_signed_by(ca.cert_pem, ca.cert_pem));
  EXPECT_TRUE(key_matches_cert(ca.key_pem, ca.cert_pem));

  X509Ptr cert = parse(ca.cert_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);
  EXPECT_NE(X509_get_extension_flags(cert.get()) & EXFLAG_CA, 0u);
  EXPECT_EQ(X509_get_pathlen(cert.get()), 0);
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_NE(X509_get0_subject_key_id(cert.get()), nullptr);
  EXPECT_EQ(X509_cmp_time(X509_get0_notBefore(cert.get()), nullptr), -1);  // already valid
}

TEST(TlsCaTest, IssueCertCarriesTheRequestedNames) {
  TlsPair ca = must(make_ca("main", kNow));
  TlsPair leaf = must(issue_cert(ca, pg1_request(), kNow));
  EXPECT_EQ(leaf.key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  auto facts = read_cert(leaf.cert_pem);
  ASSERT_TRUE(facts.ok()) << facts.error().describe();
  EXPECT_EQ(facts->common_name, "pg1");
  EXPECT_EQ(facts->dns_names, (std::vector<std::string>{"pg1", "localhost"}));
  EXPECT_EQ(facts->ip_addresses,
            (std::vector<std::string>{"10.42.0.11", "10.42.0.100", "127.0.0.1", "fd00::1"}));
  EXPECT_EQ(facts->not_after_unix, kNow + 365 * kDay);
  EXPECT_TRUE(cert_signed_by(leaf.cert_pem, ca.cert_pem));
  EXPECT_TRUE(key_matches_cert(leaf.key_pem, leaf.cert_pem));
  EXPECT_FALSE(key_matches_cert(ca.key_pem, leaf.cert_pem));
  EXPECT_FALSE(cert_signed_by(ca.cert_pem, leaf.cert_pem));

  X509Ptr cert = parse(leaf.cert_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_get_extension_flags(cert.get()) & EXFLAG_CA, 0u);
  EXPECT_EQ(X509_get_key_usage(cert.get()),
            static_cast<uint32_t>(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()), static_cast<uint32_t>(XKU_SSL_SERVER | XKU_SSL_CLIENT));
  X509Ptr ca_cert = parse(ca.cert_pem);
  const ASN1_OCTET_STRING* akid = X509_get0_authority_key_id(cert.get());
  ASSERT_NE(akid, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(akid, X509_get0_subject_key_id(ca_cert.get())), 0);
  // A positive 128-bit serial, different for every certificate.
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert.get());
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(ASN1_INTEGER_to_BN(serial, nullptr), &BN_free);
  EXPECT_FALSE(BN_is_negative(bn.get()));
  EXPECT_EQ(BN_num_bits(bn.get()), 128);
  TlsPair again = must(issue_cert(ca, pg1_request(), kNow));
  EXPECT_NE(ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(parse(again.cert_pem).get())), 0);
  EXPECT_NE(again.key_pem, leaf.key_pem);
}

TEST(TlsCaTest, ACertFromAnotherCaIsNotSignedByThisOne) {
  TlsPair ca = must(make_ca("main", kNow));
  TlsPair same_name = must(make_ca("main", kNow));  // same subject, different key
  TlsPair other = must(make_ca("other", kNow));
  TlsPair leaf = must(issue_cert(same_name, pg1_request(), kNow));
  EXPECT_FALSE(cert_signed_by(leaf.cert_pem, ca.cert_pem));
  EXPECT_TRUE(cert_signed_by(leaf.cert_pem, same_name.cert_pem));
  EXPECT_FALSE(cert_signed_by(must(issue_cert(other, pg1_request(), kNow)).cert_pem, ca.cert_pem));
  EXPECT_FALSE(cert_signed_by("garbage", ca.cert_pem));
  EXPECT_FALSE(key_matches_cert("garbage", leaf.cert_pem));
}

TEST(TlsCaTest, OpenSslsVerifierAcceptsTheLeafForServerAndClientAndItsNames) {
  std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  TlsPair ca = must(make_ca("main", now));
  TlsPair leaf = must(issue_cert(ca, pg1_request(), now));
  EXPECT_EQ(verify(leaf, ca, X509_PURPOSE_SSL_SERVER), X509_V_OK);
  EXPECT_EQ(verify(leaf, ca, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  TlsPair other = must(make_ca("main", now));
  EXPECT_NE(verify(leaf, other, X509_PURPOSE_SSL_SERVER), X509_V_OK);

  X509Ptr cert = parse(leaf.cert_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_check_host(cert.get(), "pg1", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "pg2", 0, 0, nullptr), 0);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "10.42.0.11", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "10.42.0.100", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "fd00::1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "10.42.0.12", 0), 0);
}

TEST(TlsCaTest, ReissueReason) {
  TlsPair ca = must(make_ca("main", kNow));
  CertRequest want = pg1_request();
  TlsPair leaf = must(issue_cert(ca, want, kNow));
  EXPECT_EQ(reissue_reason(leaf, ca, want, kNow), "");
  EXPECT_EQ(reissue_reason(leaf, ca, want, kNow + 300 * kDay), "");

  CertRequest reordered = want;
  std::swap(reordered.ip_addresses[0], reordered.ip_addresses[2]);
  reordered.ip_addresses[3] = "fd00:0000::0001";  // same address, other spelling
  EXPECT_EQ(reissue_reason(leaf, ca, reordered, kNow), "");

  EXPECT_EQ(reissue_reason({}, ca, want, kNow), "missing");
  EXPECT_EQ(reissue_reason({leaf.cert_pem, ""}, ca, want, kNow), "missing");
  EXPECT_EQ(reissue_reason({"not a cert", leaf.key_pem}, ca, want, kNow), "unreadable");

  CertRequest more = want;
  more.ip_addresses.push_back("10.42.0.101");
  EXPECT_EQ(reissue_reason(leaf, ca, more, kNow), "names changed");
  CertRequest renamed = want;
  renamed.common_name = "pg9";
  EXPECT_EQ(reissue_reason(leaf, ca, renamed, kNow), "names changed");

  // not_after is kNow + 365 days: 2027-01-01.
  EXPECT_EQ(reissue_reason(leaf, ca, want, kNow + 360 * kDay), "expires 2027-01-01 (within 30 days)");
  CertRequest short_lived = want;
  short_lived.days = 10;
  EXPECT_EQ(reissue_reason(must(issue_cert(ca, short_lived, kNow)), ca, want, kNow),
            "expires 2026-01-11 (within 30 days)");

  TlsPair other_ca = must(make_ca("main", kNow));
  EXPECT_EQ(reissue_reason(must(issue_cert(other_ca, want, kNow)), ca, want, kNow),
            "not signed by the cluster CA");
  TlsPair second = must(issue_cert(ca, want, kNow));
  EXPECT_EQ(reissue_reason({leaf.cert_pem, second.key_pem}, ca, want, kNow), "key does not match");
}

TEST(TlsCaTest, BadInput) {
  TlsPair ca = must(make_ca("main", kNow));
  CertRequest req = pg1_request();
  req.ip_addresses.push_back("10.0.0.300");
  auto r = issue_cert(ca, req, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::bad_input);
  EXPECT_NE(r.error().message.find("10.0.0.300"), std::string::npos);

  req = pg1_request();
  req.ip_addresses = {"10.0.0.1 "};  // inet_pton is strict where a2i_IPADDRESS is not
  EXPECT_EQ(issue_cert(ca, req, kNow).error().kind, ErrorKind::bad_input);
  req = pg1_request();
  req.common_name = std::string(65, 'a');
  EXPECT_EQ(issue_cert(ca, req, kNow).error().kind, ErrorKind::bad_input);
  EXPECT_EQ(issue_cert({"x", "y"}, pg1_request(), kNow).error().kind, ErrorKind::bad_input);

  auto facts = read_cert("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  ASSERT_FALSE(facts.ok());
  EXPECT_EQ(facts.error().kind, ErrorKind::bad_input);
  EXPECT_EQ(read_cert(ca.key_pem).error().kind, ErrorKind::bad_input);
}

TEST(TlsCaTest, CheckCaPairRefusesALeafAndAMismatchedKey) {
  TlsPair ca = must(make_ca("main", kNow));
  TlsPair leaf = must(issue_cert(ca, pg1_request(), kNow));
  TlsPair other = must(make_ca("other", kNow));

  Status as_ca = check_ca_pair(leaf);
  ASSERT_FALSE(as_ca.ok());
  EXPECT_EQ(as_ca.error().kind, ErrorKind::bad_input);
  EXPECT_EQ(as_ca.error().message, "tls.ca_cert is not a CA certificate (no basicConstraints CA:TRUE)");

  Status mismatched = check_ca_pair({ca.cert_pem, other.key_pem});
  ASSERT_FALSE(mismatched.ok());
  EXPECT_EQ(mismatched.error().kind, ErrorKind::bad_input);
  EXPECT_EQ(mismatched.error().message, "tls.ca_key does not match tls.ca_cert");

  EXPECT_EQ(check_ca_pair({"", ca.key_pem}).error().message, "tls.ca_cert is not a PEM certificate");
  EXPECT_EQ(check_ca_pair({ca.cert_pem, "nope"}).error().message,
            "tls.ca_key is not an unencrypted PEM private key");
}

// A CA made elsewhere, the minimal way: basicConstraints only, no keyUsage, no subjectKeyIdentifier.
TlsPair bare_ca(std::int64_t now) {
  TlsPair made = must(make_ca("ext", now));
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(made.key_pem.data(), static_cast<int>(made.key_pem.size())), &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  X509Ptr x(X509_new());
  X509_set_version(x.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 7);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600 * 24 * 30);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Corp Root"), -1, -1, 0);
  X509_set_issuer_name(x.get(), X509_get_subject_name(x.get()));
  X509_set_pubkey(x.get(), key.get());
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, x.get(), x.get(), nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE");
  X509_add_ext(x.get(), ext, -1);
  X509_EXTENSION_free(ext);
  X509_sign(x.get(), key.get(), EVP_sha256());
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_X509(out.get(), x.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(out.get(), &data);
  return {std::string(data, static_cast<size_t>(len)), made.key_pem};
}

TEST(TlsCaTest, AUserCaWithoutKeyIdentifiersStillIssues) {
  std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  TlsPair ca = bare_ca(now);
  ASSERT_TRUE(check_ca_pair(ca).ok()) << check_ca_pair(ca).error().describe();
  TlsPair leaf = must(issue_cert(ca, pg1_request(), now));
  EXPECT_TRUE(cert_signed_by(leaf.cert_pem, ca.cert_pem));
  EXPECT_EQ(verify(leaf, ca, X509_PURPOSE_SSL_SERVER), X509_V_OK);
  EXPECT_EQ(reissue_reason(leaf, ca, pg1_request(), now), "");
}

TEST(TlsCaTest, ThreadsIssueFromOneCaAtOnce) {
  TlsPair ca = must(make_ca("main", kNow));
  std::vector<TlsPair> leaves(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < leaves.size(); ++i) {
    threads.emplace_back([&, i] { leaves[i] = must(issue_cert(ca, pg1_request(), kNow)); });
  }
  for (std::thread& t : threads) t.join();
  for (const TlsPair& leaf : leaves) {
    EXPECT_TRUE(cert_signed_by(leaf.cert_pem, ca.cert_pem));
    EXPECT_EQ(reissue_reason(leaf, ca, pg1_request(), kNow), "");
  }
}

}  // namespace
}  // namespace pgha
