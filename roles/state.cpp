#include "roles/state.hpp"

#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "core/gha.hpp"
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

Result<ResolvedSecrets> StateDir::resolve_secrets(const Inventory& inv) {
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
