#include "net/ssh_session.hpp"

#include <fcntl.h>
#include <libssh2.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "net/known_hosts.hpp"
#include "net/ssh_shell.hpp"

namespace pgha {
namespace {

using Clock = std::chrono::steady_clock;

void libssh2_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { libssh2_init(0); });
}

int ms_until(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(ms, 0, 1 << 30));
}

// A connected, blocking TCP socket, or an Error (io: refused/unreachable, timeout).
Result<int> tcp_connect(const std::string& address, int port, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int gai = ::getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (gai != 0) return Error(ErrorKind::io, std::string("cannot resolve: ") + gai_strerror(gai));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, freeaddrinfo);

  Error last(ErrorKind::io, "no address");
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, ms_until(deadline));
      if (rc == 0) {
        ::close(fd);
        return Error(ErrorKind::timeout, "TCP connect timed out");
      }
      int so_error = 0;
      socklen_t len = sizeof(so_error);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
      rc = so_error == 0 ? 0 : -1;
      errno = so_error;
    }
    if (rc == 0) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      int one = 1;  // small request/response packets: Nagle + delayed ACKs would add ~40 ms each
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      return fd;
    }
    last = Error(ErrorKind::io, std::string("TCP connect failed: ") + std::strerror(errno));
    ::close(fd);
  }
  return last;
}

}  // namespace

SshSession::~SshSession() {
  if (session_) {
    libssh2_session_set_blocking(session_, 1);
    libssh2_session_set_timeout(session_, 2000);
    libssh2_session_disconnect(session_, "bye");
    libssh2_session_free(session_);
  }
  if (fd_ >= 0) ::close(fd_);
}

std::string SshSession::last_error() const {
  char* msg = nullptr;
  int len = 0;
  libssh2_session_last_error(session_, &msg, &len, 0);
  return msg && len > 0 ? std::string(msg, static_cast<size_t>(len)) : "unknown libssh2 error";
}

bool SshSession::wait(Clock::time_point deadline) const {
  int dir = libssh2_session_block_directions(session_);
  pollfd p{fd_, 0, 0};
  if (dir & LIBSSH2_SESSION_BLOCK_INBOUND) p.events |= POLLIN;
  if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND) p.events |= POLLOUT;
  if (p.events == 0) p.events = POLLIN;
  int wait_ms = std::min(ms_until(deadline), 1000);  // wake up regularly: libssh2 may have buffered data
  ::poll(&p, 1, wait_ms);
  return Clock::now() < deadline;
}

Result<std::unique_ptr<SshSession>> SshSession::open(const SshOptions& o, Clock::time_point deadline) {
  libssh2_init_once();
  std::unique_ptr<SshSession> s(new SshSession());
  auto fd = tcp_connect(o.address, o.port, deadline);
  if (!fd) return fd.error();
  s->fd_ = *fd;
  s->session_ = libssh2_session_init();
  if (!s->session_) return Error(ErrorKind::internal, "libssh2_session_init failed");
  libssh2_session_set_blocking(s->session_, 1);
  libssh2_session_set_timeout(s->session_, std::max(1000, std::min(ms_until(deadline), 20000)));
  // A stable preference, so the same host always shows the same key type to known_hosts. Only
  // methods libssh2 1.10 knows: for an unknown one it compacts the list with an overlapping memcpy.
  libssh2_session_method_pref(s->session_, LIBSSH2_METHOD_HOSTKEY, "ssh-ed25519,ecdsa-sha2-nistp256,ssh-rsa");

  int rc = libssh2_session_handshake(s->session_, s->fd_);
  if (rc != 0) {
    return Error(rc == LIBSSH2_ERROR_TIMEOUT ? ErrorKind::timeout : ErrorKind::io,
                 "SSH handshake failed: " + s->last_error());
  }
  if (auto st = KnownHosts(o.known_hosts_path).verify(s->session_, o.host, o.address, o.port); !st) {
    return st.error();
  }
  rc = libssh2_userauth_publickey_fromfile(s->session_, o.user.c_str(), nullptr, o.private_key_path.c_str(),
                                           nullptr);
  if (rc == LIBSSH2_ERROR_FILE) {
    return Error(ErrorKind::bad_input,
                 "cannot load private key " + o.private_key_path + ": " + s->last_error());
  }
  if (rc == LIBSSH2_ERROR_TIMEOUT) return Error(ErrorKind::timeout, "SSH authentication timed out");
  if (rc != 0) {
    return Error(ErrorKind::auth, "public key authentication as " + o.user + " with " + o.private_key_path +
                                      " was refused: " + s->last_error());
  }
  return s;
}

}  // namespace pgha
