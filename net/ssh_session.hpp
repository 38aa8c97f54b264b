// One authenticated libssh2 session over one TCP socket: both owned, both released in the destructor
// (disconnect, free, close). Internal to net/ssh_shell.*.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/error.hpp"

struct _LIBSSH2_SESSION;

namespace pgha {

struct SshOptions;

class SshSession {
 public:
  ~SshSession();
  SshSession(const SshSession&) = delete;
  SshSession& operator=(const SshSession&) = delete;

  // TCP connect, handshake, host-key check, public-key auth: one attempt, bounded by deadline.
  // Errors: io/timeout (worth retrying while the machine boots), auth (not worth it).
  static Result<std::unique_ptr<SshSession>> open(const SshOptions& options,
                                                  std::chrono::steady_clock::time_point deadline);

  _LIBSSH2_SESSION* get() const { return session_; }
  int socket() const { return fd_; }

  // Waits until the socket is ready in the direction libssh2 is blocked on, or the deadline.
  // false on timeout.
  bool wait(std::chrono::steady_clock::time_point deadline) const;

  // The session's last libssh2 error message.
  std::string last_error() const;

 private:
  SshSession() = default;
  int fd_ = -1;
  _LIBSSH2_SESSION* session_ = nullptr;
};

}  // namespace pgha
