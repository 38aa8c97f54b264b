#include "net/known_hosts.hpp"

#include <fcntl.h>
#include <libssh2.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>

#include "net/ssh_keys.hpp"

namespace pgha {
namespace {

// Serialises every check in this process (flock alone would do, the mutex makes it obvious) and,
// through flock on "<file>.lock", against other pgha processes. The lock file is separate because
// forget() replaces the known_hosts file by rename.
class FileLock {
 public:
  explicit FileLock(const std::string& path) : guard_(mutex()) {
    fd_ = ::open((path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ >= 0) {
      while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
      }
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the flock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool ok() const { return fd_ >= 0; }

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  std::lock_guard<std::mutex> guard_;
  int fd_ = -1;
};

struct KnownHostsDeleter {
  void operator()(LIBSSH2_KNOWNHOSTS* h) const { libssh2_knownhost_free(h); }
};

int knownhost_key_type(int hostkey_type) {
  switch (hostkey_type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
    case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
    case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519;
    default: return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
  }
}

std::string host_pattern(const std::string& addr, int port) {
  return port == 22 ? addr : "[" + addr + "]:" + std::to_string(port);
}

// The first entry recorded for exactly this host pattern, whatever its key type; nullptr if none.
const libssh2_knownhost* find_pin(LIBSSH2_KNOWNHOSTS* hosts, const std::string& pattern) {
  libssh2_knownhost* entry = nullptr;
  libssh2_knownhost* prev = nullptr;
  while (libssh2_knownhost_get(hosts, &entry, prev) == 0) {
    if (entry->name && pattern == entry->name) return entry;
    prev = entry;
  }
  return nullptr;
}

const char* key_type_name(int typemask) {
  switch (typemask & LIBSSH2_KNOWNHOST_KEY_MASK) {
    case LIBSSH2_KNOWNHOST_KEY_SSHRSA: return "ssh-rsa";
    case LIBSSH2_KNOWNHOST_KEY_SSHDSS: return "ssh-dss";
    case LIBSSH2_KNOWNHOST_KEY_ECDSA_256: return "ecdsa-sha2-nistp256";
    case LIBSSH2_KNOWNHOST_KEY_ECDSA_384: return "ecdsa-sha2-nistp384";
    case LIBSSH2_KNOWNHOST_KEY_ECDSA_521: return "ecdsa-sha2-nistp521";
    case LIBSSH2_KNOWNHOST_KEY_ED25519: return "ssh-ed25519";
    default: return "unknown-type";
  }
}

bool file_has_content(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && st.st_size > 0;
}

Status append_line(const std::string& path, const std::string& line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Error(ErrorKind::io, std::string("cannot open: ") + std::strerror(errno)).with(path);
  ssize_t n = ::write(fd, line.data(), line.size());
  int e = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) {
    return Error(ErrorKind::io, std::string("cannot append: ") + std::strerror(e)).with(path);
  }
  return {};
}

}  // namespace

Status KnownHosts::verify(LIBSSH2_SESSION* session, const std::string& host, const std::string& addr,
                          int port) const {
  size_t key_len = 0;
  int key_type = 0;
  const char* key = libssh2_session_hostkey(session, &key_len, &key_type);
  if (!key) return Error(ErrorKind::remote_failure, "the server sent no host key");
  int type_mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | knownhost_key_type(key_type);
  std::string seen = ssh_fingerprint(std::string(key, key_len));

  FileLock lock(path_);
  if (!lock.ok())
    return Error(ErrorKind::io, std::string("cannot lock: ") + std::strerror(errno)).with(path_);
  std::unique_ptr<LIBSSH2_KNOWNHOSTS, KnownHostsDeleter> hosts(libssh2_knownhost_init(session));
  if (!hosts) return Error(ErrorKind::internal, "libssh2_knownhost_init failed");
  if (file_has_content(path_) &&
      libssh2_knownhost_readfile(hosts.get(), path_.c_str(), LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
    return Error(ErrorKind::io, "cannot parse known_hosts file").with(path_);
  }

  libssh2_knownhost* found = nullptr;
  int check = libssh2_knownhost_checkp(hosts.get(), addr.c_str(), port, key, key_len, type_mask, &found);
  switch (check) {
    case LIBSSH2_KNOWNHOST_CHECK_MATCH: return {};
    case LIBSSH2_KNOWNHOST_CHECK_MISMATCH: {
      std::string expected = found && found->key ? ssh_fingerprint(base64_decode(found->key)) : "?";
      return Error(ErrorKind::auth, "host key for " + host + " (" + host_pattern(addr, port) +
                                        ") changed: expected " + expected + ", got " + seen +
                                        "; if the machine was rebuilt, remove its line from " + path_);
    }
    case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND: break;
    default: return Error(ErrorKind::internal, "known_hosts check failed").with(path_);
  }

  // libssh2 matches per key type: a host pinned with one type that now presents another is "not
  // found" to it. Any line for this host is a pin, so a key of a new type is a changed key too.
  std::string pattern = host_pattern(addr, port);
  if (const libssh2_knownhost* pinned = find_pin(hosts.get(), pattern)) {
    std::string expected = pinned->key ? ssh_fingerprint(base64_decode(pinned->key)) : "?";
    return Error(ErrorKind::auth, "host key for " + host + " (" + pattern + ") changed: expected " +
                                      key_type_name(pinned->typemask) + " " + expected + ", got " +
                                      key_type_name(type_mask) + " " + seen +
                                      "; if the machine was rebuilt, remove its line from " + path_);
  }

  // First contact: trust and record.
  libssh2_knownhost* added = nullptr;
  if (libssh2_knownhost_addc(hosts.get(), pattern.c_str(), nullptr, key, key_len, nullptr, 0, type_mask,
                             &added) != 0) {
    return Error(ErrorKind::internal, "cannot add host key for " + pattern);
  }
  std::string line(16384, '\0');
  size_t line_len = 0;
  if (libssh2_knownhost_writeline(hosts.get(), added, line.data(), line.size(), &line_len,
                                  LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0) {
    return Error(ErrorKind::internal, "cannot format known_hosts line for " + pattern);
  }
  line.resize(line_len);
  if (line.empty() || line.back() != '\n') line += '\n';
  return append_line(path_, line);
}

Status KnownHosts::forget(const std::string& addr, int port) const {
  FileLock lock(path_);
  if (!lock.ok())
    return Error(ErrorKind::io, std::string("cannot lock: ") + std::strerror(errno)).with(path_);
  std::ifstream in(path_);
  if (!in) return {};
  std::string pattern = host_pattern(addr, port);
  std::string kept, line;
  bool removed = false;
  while (std::getline(in, line)) {
    std::string hosts = line.substr(0, line.find(' '));
    bool match = false;
    std::stringstream names(hosts);
    for (std::string name; std::getline(names, name, ',');) match = match || name == pattern;
    if (match) {
      removed = true;
    } else {
      kept += line + "\n";
    }
  }
  if (!removed) return {};
  std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << kept;
    if (!out.flush()) return Error(ErrorKind::io, "cannot write").with(tmp);
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    return Error(ErrorKind::io, std::string("cannot replace: ") + std::strerror(errno)).with(path_);
  }
  return {};
}

}  // namespace pgha
