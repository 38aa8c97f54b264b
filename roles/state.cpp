#include "roles/state.hpp"

#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>
#include <vector>

#include "core/gha.hpp"
#include "core/tls_ca.hpp"
#include "net/ssh_keys.hpp"

namespace pgha {
namespace fs = std::filesystem;

namespace {

Error io_error(const std::string& what, const std::string& path) {
  return Error(ErrorKind::io, what + " " + path + ": " + std::strerror(errno));
}

Result<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("cannot read", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string generate_password(size_t length) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  while (out.size() < length) {
    unsigned char buf[64];
    if (RAND_bytes(buf, sizeof buf) != 1) continue;
    for (unsigned char b : buf) {
      if (b >= 248) continue;  // 248 = 62 * 4: keeps the choice uniform
      out.push_back(alphabet[b % 62]);
      if (out.size() == length) break;
    }
  }
  return out;
}

Status write_file_atomic(const std::string& path, const std::string& content, int mode) {
  std::string tmp = path + ".tmp-" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return io_error("cannot write", tmp);
    ::chmod(tmp.c_str(), static_cast<mode_t>(mode));  // before any content lands in it
    out << content;
    if (!out.flush()) return io_error("cannot write", tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return io_error("cannot rename onto", path);
  return {};
}

Result<StateDir> StateDir::open(const std::string& root, const std::string& cluster) {
  std::string path = root + "/" + cluster;
  // Only the directories created here get mode 0700 (at creation, by mkdir). An existing one keeps
  // its mode: `--state-dir .` or `--state-dir /srv` must not lock others out of a directory pgha
  // does not own.
  std::vector<fs::path> missing;
  for (fs::path p = fs::path(path).lexically_normal(); !p.empty(); p = p.parent_path()) {
    std::error_code ec;
    if (fs::exists(p, ec) || p == p.parent_path()) break;
    missing.push_back(p);
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) {
      return io_error("cannot create state directory", it->string());
    }
  }
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    return Error(ErrorKind::io, "cannot create state directory " + path + ": not a directory");
  }
  return StateDir(path);
}

Result<std::string> StateDir::ensure_ssh_key() {
  return ensure_cluster_key(private_key_path(), fs::path(path_).filename().string());
}

Result<ResolvedSecrets> StateDir::resolve_secrets(const Inventory& inv, NodeCerts certs) {
  nlohmann::json kept = nlohmann::json::object();
  if (fs::exists(secrets_path())) {
    auto text = read_text(secrets_path());
    if (!text) return text.error();
    kept = nlohmann::json::parse(text.value(), nullptr, /*allow_exceptions=*/false);
    if (kept.is_discarded() || !kept.is_object())
      return Error(ErrorKind::io,
                   "state file " + secrets_path() + " is not valid JSON; restore it or remove it");
  }
  bool changed = false;
  auto pick = [&](const std::string& given, const std::string& key) {
    if (!given.empty()) return given;
    if (kept.contains(key) && kept[key].is_string()) return kept[key].get<std::string>();
    kept[key] = generate_password();
    announce_new_secret(kept[key].get<std::string>());  // masked in a CI log before anything can print it
    changed = true;
    return kept[key].get<std::string>();
  };
  ResolvedSecrets out;
  out.superuser_password = pick(inv.secrets.superuser_password, "superuser_password");
  out.replication_password = pick(inv.secrets.replication_password, "replication_password");
  out.admin_password = pick(inv.secrets.admin_password, "admin_password");
  if (inv.backup.cipher_type != "none")
    out.backup_cipher_pass = pick(inv.secrets.backup_cipher_pass, "backup_cipher_pass");
  for (const auto& u : inv.users) out.user_passwords[u.name] = pick(u.password, "user:" + u.name);
  if (changed) {
    if (auto s = write_file_atomic(secrets_path(), kept.dump(2) + "\n", 0600); !s) return s.error();
  }
  auto tls = resolve_tls(inv, static_cast<std::int64_t>(std::time(nullptr)), certs);
  if (!tls) return tls.error();
  out.tls = std::move(*tls);
  return out;
}

namespace {

// A PEM file, or "" when there is none.
Result<std::string> read_optional(const std::string& path) {
  if (!fs::exists(path)) return std::string();
  return read_text(path);
}

// The pair kept at base.crt/base.key, issued again (and saved) when reissue_reason says so. `why` gets
// the reason it was issued, "" when it was kept.
Result<TlsPair> keep_or_issue(const std::string& base, const TlsPair& ca, const CertRequest& want,
                              std::int64_t now, NodeCerts save, std::string* why) {
  TlsPair current;
  for (auto [path, out] :
       {std::pair{base + ".crt", &current.cert_pem}, std::pair{base + ".key", &current.key_pem}}) {
    auto text = read_optional(path);
    if (!text) return text.error();
    *out = std::move(*text);
  }
  *why = reissue_reason(current, ca, want, now);
  if (why->empty()) return current;
  auto issued = issue_cert(ca, want, now);
  if (!issued) return std::move(issued.error()).with("certificate " + want.common_name);
  if (save == NodeCerts::preview) return issued;
  if (auto s = write_file_atomic(base + ".key", issued->key_pem, 0600); !s) return s.error();
  if (auto s = write_file_atomic(base + ".crt", issued->cert_pem, 0644); !s) return s.error();
  return issued;
}

}  // namespace

Status StateDir::copy_cluster_ca(const std::string& path) const {
  auto ca = read_text(tls_dir() + "/cluster-ca.crt");
  if (!ca) return ca.error();
  return write_file_atomic(path, *ca, 0644);
}

std::optional<std::pair<std::string, std::int64_t>> StateDir::first_node_cert_expiry(
    const Inventory& inv) const {
  std::optional<std::pair<std::string, std::int64_t>> first;
  if (!inv.tls.enabled) return first;
  for (const Node& n : inv.nodes) {
    auto text = read_optional(tls_dir() + "/" + n.name + ".crt");
    if (!text || text->empty()) continue;
    auto facts = read_cert(*text);
    if (facts && (!first || facts->not_after_unix < first->second))
      first.emplace(n.name, facts->not_after_unix);
  }
  return first;
}

Result<TlsMaterial> StateDir::resolve_tls(const Inventory& inv, std::int64_t now_unix, NodeCerts certs) {
  TlsMaterial out;
  if (!inv.tls.enabled) return out;
  const std::string dir = tls_dir();
  if (!fs::exists(dir) && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Error(ErrorKind::io, "cannot create " + dir + ": " + std::strerror(errno));

  TlsPair ca;
  if (!inv.tls.ca_cert.empty()) {
    // The user's CA: read, checked, used to sign; its key is never copied anywhere.
    for (auto [path, field, text] : {std::tuple{inv.tls.ca_cert, "tls.ca_cert", &ca.cert_pem},
                                     std::tuple{inv.tls.ca_key, "tls.ca_key", &ca.key_pem}}) {
      auto r = read_text(path);
      if (!r) return Error(ErrorKind::bad_input, std::string(field) + ": cannot read " + path);
      *text = std::move(*r);
    }
    if (auto s = check_ca_pair(ca); !s) return std::move(s.error()).with("tls.ca_cert " + inv.tls.ca_cert);
  } else {
    auto cert = read_optional(dir + "/ca.crt");
    auto key = read_optional(dir + "/ca.key");
    if (!cert) return cert.error();
    if (!key) return key.error();
    ca = {std::move(*cert), std::move(*key)};
    if (ca.cert_pem.empty() || ca.key_pem.empty()) {
      auto made = make_ca(inv.cluster_name, now_unix);
      if (!made) return made.error();
      ca = std::move(*made);
      if (auto s = write_file_atomic(dir + "/ca.key", ca.key_pem, 0600); !s) return s.error();
      if (auto s = write_file_atomic(dir + "/ca.crt", ca.cert_pem, 0644); !s) return s.error();
      out.issued.push_back("cluster CA: made");
    }
  }
  out.ca_cert_pem = ca.cert_pem;
  // The CA the clients verify with: the one that signed this cluster's certificates (written when it
  // changes, not on every status).
  auto clients_ca = read_optional(dir + "/cluster-ca.crt");
  if (!clients_ca) return clients_ca.error();
  if (*clients_ca != ca.cert_pem) {
    if (auto s = write_file_atomic(dir + "/cluster-ca.crt", ca.cert_pem, 0644); !s) return s.error();
  }

  for (const Node& node : inv.nodes) {
    std::string why;
    auto pair = keep_or_issue(dir + "/" + node.name, ca, node_cert_request(inv, node), now_unix, certs, &why);
    if (!pair) return pair.error();
    const char* verb = certs == NodeCerts::save ? "issued" : "to be issued";
    if (!why.empty())
      out.issued.push_back(node.name + ": " + verb + (why == "missing" ? std::string() : " again, " + why));
    out.nodes[node.name] = std::move(*pair);
  }
  CertRequest client;
  client.common_name = "pgha";
  std::string why;
  auto pair = keep_or_issue(dir + "/client", ca, client, now_unix, NodeCerts::save, &why);
  if (!pair) return pair.error();
  out.client = {dir + "/cluster-ca.crt", dir + "/client.crt", dir + "/client.key"};
  return out;
}

Status StateDir::forget_hosts() {
  std::error_code ec;
  fs::remove(known_hosts_path(), ec);
  if (ec) return Error(ErrorKind::io, "cannot remove " + known_hosts_path() + ": " + ec.message());
  return {};
}

Status StateDir::remove() {
  std::error_code ec;
  fs::remove_all(path_, ec);
  if (ec) return Error(ErrorKind::io, "cannot remove " + path_ + ": " + ec.message());
  return {};
}

}  // namespace pgha
