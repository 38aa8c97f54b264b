#include "providers/proxmox/proxmox_boot.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pgha::pve {

namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

bool wait_for(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & events) != 0;
}

class TcpSshProbe final : public SshProbe {
 public:
  bool ssh_ready(const std::string& address, int port) override {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) return false;
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) return false;
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      if (errno != EINPROGRESS || !wait_for(fd.get(), POLLOUT, 3000)) return false;
      int err = 0;
      socklen_t len = sizeof err;
      if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return false;
    }
    char buf[64];
    size_t got = 0;
    while (got < 4) {
      if (!wait_for(fd.get(), POLLIN, 3000)) return false;
      ssize_t n = ::recv(fd.get(), buf + got, sizeof buf - got, 0);
      if (n <= 0) return false;
      got += static_cast<size_t>(n);
    }
    return std::memcmp(buf, "SSH-", 4) == 0;
  }
};

}  // namespace

std::unique_ptr<SshProbe> make_tcp_ssh_probe() {
  return std::make_unique<TcpSshProbe>();
}

}  // namespace pgha::pve
