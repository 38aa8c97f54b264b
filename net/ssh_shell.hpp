// RemoteShell over libssh2: public-key auth with the cluster key, host keys checked against the
// state dir's known_hosts (trust on first use, then strict). One SshShell per host; several may run
// in parallel threads. The connection is made on first use and kept; a transport failure drops it
// and the next call reconnects.
#pragma once

#include <memory>
#include <string>

#include "core/remote_shell.hpp"

namespace pgha {

class SshSession;

enum class Privilege { login_user, sudo };

struct SshOptions {
  std::string host;     // display name for messages: the inventory node
  std::string address;  // IPv4/IPv6 literal or DNS name
  int port = 22;
  std::string user = "root";
  std::string private_key_path;  // OpenSSH or PEM private key, unencrypted
  std::string known_hosts_path;  // created on first contact
  // Overall budget for connecting, retries included (a machine that is still booting refuses or
  // resets connections for a while). Authentication and host-key failures are not retried.
  int connect_timeout_ms = 60000;
  int command_timeout_ms = 600000;  // per run(); a command still running then is a timeout error
  // How commands gain root: they run as `user` when it is root, else through `sudo -n sh -c`
  // (hosts pgha did not make log in as a sudoer). sudo never prompts: a host whose sudo asks for a
  // password fails connect() with a message saying so.
  Privilege privilege = Privilege::login_user;
};

class SshShell final : public RemoteShell {
 public:
  explicit SshShell(SshOptions options);
  ~SshShell() override;
  SshShell(const SshShell&) = delete;
  SshShell& operator=(const SshShell&) = delete;

  const std::string& host() const override { return options_.host; }

  // Connects now (run/upload/read connect on demand). Errors: timeout or io when the machine
  // never answered in time, auth for a rejected key or a changed host key; all name the host.
  Status connect();

  Result<CommandResult> run(const std::string& command, std::string_view stdin_data = {}) override;
  Status upload(const std::string& path, std::string_view content, const FileAttrs& attrs) override;
  // One round trip: every file's bytes follow each other on stdin, each cut off by `head -c` (which
  // reads no more than it is asked for) into a private temp file beside its target, then renamed.
  Status upload_all(const std::vector<FileWrite>& files) override;
  Result<std::optional<std::string>> read(const std::string& path) override;

 private:
  // started is set once the command was sent: before that, a failure is safe to retry.
  Result<CommandResult> run_once(const std::string& command, std::string_view stdin_data, bool& started);
  Error in_context(Error e) const;
  Status check_sudo();

  SshOptions options_;
  std::unique_ptr<SshSession> conn_;  // null until connected, and after a transport failure
};

// Quotes s for a POSIX shell: 'it'\''s'.
std::string shell_quote(const std::string& s);

}  // namespace pgha
