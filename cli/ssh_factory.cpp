#include "cli/commands.hpp"
#include "net/ssh_shell.hpp"

namespace pgha {

ShellFactory make_ssh_factory(const StateDir& state, int connect_timeout_ms) {
  return [key = state.private_key_path(), known = state.known_hosts_path(),
          connect_timeout_ms](const Machine& m) -> Result<std::unique_ptr<RemoteShell>> {
    SshOptions o;
    o.host = m.node;
    o.address = m.address;
    o.port = m.ssh_port;
    o.user = m.ssh_user;
    o.private_key_path = key;
    o.known_hosts_path = known;
    o.connect_timeout_ms = connect_timeout_ms;
    auto shell = std::make_unique<SshShell>(o);
    if (auto s = shell->connect(); !s) return s.error();
    return std::unique_ptr<RemoteShell>(std::move(shell));
  };
}

}  // namespace pgha
