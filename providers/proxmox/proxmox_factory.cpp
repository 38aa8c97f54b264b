// make_proxmox_provider for the registry: the inventory's TLS choice turned into a CurlHttp.
#include <cstdlib>
#include <iostream>

#include "net/curl_http.hpp"
#include "providers/proxmox/proxmox_provider.hpp"

namespace pgha {

namespace pve {

Result<Auth> auth_from(const ProxmoxSettings& s) {
  if (!s.token_id.empty() || !s.token_secret.empty()) {
    if (s.token_id.empty())
      return Error(ErrorKind::bad_input, "proxmox token_secret is set but token_id is empty");
    if (s.token_secret.empty())
      return Error(ErrorKind::bad_input, "proxmox token_id is set but token_secret is empty");
    if (s.token_id.find('@') == std::string::npos || s.token_id.find('!') == std::string::npos) {
      return Error(ErrorKind::bad_input, "proxmox token_id must look like USER@REALM!TOKENID");
    }
    return Auth{TokenAuth{s.token_id, s.token_secret}};
  }
  const char* user = std::getenv("PROXMOX_USERNAME");
  const char* password = std::getenv("PROXMOX_PASSWORD");
  if (user != nullptr && password != nullptr && *user != '\0') return Auth{TicketAuth{user, password}};
  return Error(ErrorKind::bad_input,
               "no Proxmox credentials: set PROXMOX_API_TOKEN_ID and PROXMOX_API_TOKEN_SECRET (or "
               "PROXMOX_USERNAME and PROXMOX_PASSWORD for ticket auth)");
}

}  // namespace pve

Result<std::unique_ptr<Provider>> make_proxmox_provider(const Inventory& inv) {
  const ProxmoxSettings& s = inv.provider.proxmox;
  if (s.endpoint.rfind("https://", 0) != 0) {
    return Error(ErrorKind::bad_input, "proxmox endpoint must be an https:// URL, got '" + s.endpoint + "'");
  }
  Result<pve::Auth> auth = pve::auth_from(s);
  if (!auth) return auth.error();

  CurlHttpOptions tls;
  if (!s.fingerprint.empty()) {
    tls.pinned_sha256 = normalize_fingerprint(s.fingerprint);
    if (tls.pinned_sha256.empty()) {
      return Error(ErrorKind::bad_input,
                   "proxmox fingerprint must be a SHA-256 digest (64 hex digits, AA:BB:...)");
    }
  }
  tls.ca_file = s.ca_file;
  if (s.insecure) {
    tls.verify = TlsVerify::insecure;
    std::cerr << "warning: TLS verification of " << s.endpoint
              << " is OFF (provider.proxmox.insecure); anyone on the path can read the API token\n";
  }
  pve::ProviderDeps deps;
  deps.http = std::make_unique<CurlHttp>(tls);
  deps.auth = std::move(*auth);
  return pve::make_proxmox_provider(std::move(deps));
}

}  // namespace pgha
