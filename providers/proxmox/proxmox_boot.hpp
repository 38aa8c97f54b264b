// "Has the VM booted?" as far as pgha cares: SSH answers on its address. A narrow interface so the
// provider's unit tests can decide the answer.
#pragma once

#include <memory>
#include <string>

namespace pgha::pve {

class SshProbe {
 public:
  virtual ~SshProbe() = default;
  // True when a TCP connection to address:port succeeds and the server's first bytes are an SSH
  // identification ("SSH-"). False for anything else; never blocks longer than a few seconds.
  virtual bool ssh_ready(const std::string& address, int port) = 0;
};

std::unique_ptr<SshProbe> make_tcp_ssh_probe();

}  // namespace pgha::pve
