// The tls: block: a CA of the user's own comes as a certificate and its key together. Their content
// is checked when they are read (StateDir::resolve_tls), before any side effect.
#include "core/inventory_rules.hpp"

namespace pgha {

void check_tls(RuleContext& c) {
  const TlsConfig& t = c.inv().tls;
  if (t.ca_cert.empty() != t.ca_key.empty()) {
    const char* given = t.ca_cert.empty() ? "tls.ca_key" : "tls.ca_cert";
    const char* missing = t.ca_cert.empty() ? "tls.ca_cert" : "tls.ca_key";
    c.error(c.at({given, "tls"}), std::string(given) + " is set but " + missing +
                                      " is not: a CA of your own needs its certificate and its key");
  }
  if (!t.enabled && !t.ca_cert.empty()) {
    c.warning(c.at({"tls.ca_cert", "tls"}),
              "tls.ca_cert is set but tls.enabled is false: the CA is not used");
  }
}

}  // namespace pgha
