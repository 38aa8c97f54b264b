// Helpers over RemoteShell for the role engine: commands that must succeed, quoting, polling.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "core/remote_shell.hpp"
#include "net/ssh_shell.hpp"

namespace pgha {

// Runs cmd; a non-zero exit becomes an Error (remote_failure) that names the host, the step, the
// command, the exit code and the last lines of stderr. Never put secrets in cmd: pass them on stdin.
Result<CommandResult> must(RemoteShell& sh, const std::string& step, const std::string& cmd,
                           std::string_view stdin_data = {});

// shell_quote() comes from net/ssh_shell.hpp.

// Calls probe every `interval` until it returns true or `timeout` passes. The probe fills `why` with
// what is not yet healthy; on timeout the Error (timeout) carries the last `why`.
Status poll_until(const std::string& what, std::chrono::milliseconds timeout,
                  std::chrono::milliseconds interval, const std::function<bool(std::string& why)>& probe);

// The last `max_lines` lines of s, trimmed.
std::string tail_lines(const std::string& s, int max_lines = 5);
std::string trim(std::string s);

}  // namespace pgha
