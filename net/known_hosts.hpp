// Host-key verification against a known_hosts file in the state dir (OpenSSH format, so `ssh -o
// UserKnownHostsFile=...` agrees with it). Trust on first use; afterwards a different key, of the same
// type or any other, is an error, never a warning. Safe for several SshShell objects in parallel threads or
// processes: every check locks the file, re-reads it and appends.
#pragma once

#include <string>

#include "core/error.hpp"

struct _LIBSSH2_SESSION;

namespace pgha {

class KnownHosts {
 public:
  explicit KnownHosts(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  // Checks the session's host key for addr:port (recorded as "[addr]:port" when port != 22).
  // Unknown host: records the key and succeeds. Errors: auth when the recorded key differs
  // ("host key for <host> (<addr>) changed: expected SHA256:.., got SHA256:..; ..."), and when the
  // host is pinned with a key of another type (the message then names both types); io when the
  // file cannot be read or written.
  Status verify(_LIBSSH2_SESSION* session, const std::string& host, const std::string& addr, int port) const;

  // Removes every line for addr:port (a machine that was destroyed and will be rebuilt).
  // Absent file or host: success.
  Status forget(const std::string& addr, int port) const;

 private:
  std::string path_;
};

}  // namespace pgha
