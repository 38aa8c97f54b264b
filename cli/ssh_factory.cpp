#include "cli/ssh_factory.hpp"

#include "cli/commands.hpp"

namespace pgha {

SshOptions ssh_options_for(const Machine& m, const std::string& cluster_key, const std::string& known_hosts,
                           int connect_timeout_ms) {
  SshOptions o;
  o.host = m.node;
  o.address = m.address;
  o.port = m.ssh_port;
  o.user = m.ssh_user;
  o.privilege = m.ssh_user == "root" ? Privilege::login_user : Privilege::sudo;
  o.private_key_path = m.ssh_key.empty() ? cluster_key : m.ssh_key;
  o.known_hosts_path = known_hosts;
  o.connect_timeout_ms = connect_timeout_ms;
  return o;
}

ShellFactory make_ssh_factory(const StateDir& state, int connect_timeout_ms) {
  return [key = state.private_key_path(), known = state.known_hosts_path(),
          connect_timeout_ms](const Machine& m) -> Result<std::unique_ptr<RemoteShell>> {
    auto shell = std::make_unique<SshShell>(ssh_options_for(m, key, known, connect_timeout_ms));
    if (auto s = shell->connect(); !s) return s.error();
    return std::unique_ptr<RemoteShell>(std::move(shell));
  };
}

}  // namespace pgha
