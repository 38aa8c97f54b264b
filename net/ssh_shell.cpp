#include "net/ssh_shell.hpp"

#include <libssh2.h>

#include <chrono>
#include <random>
#include <thread>

#include "net/ssh_session.hpp"

namespace pgha {
namespace {

using Clock = std::chrono::steady_clock;

// Exit code of read()'s probe when the file is absent (cat itself only ever exits 0 or 1).
constexpr int kAbsent = 66;

// Frees the channel in blocking mode (a non-blocking free may be left half done).
class Channel {
 public:
  Channel(LIBSSH2_SESSION* s, LIBSSH2_CHANNEL* ch) : session_(s), ch_(ch) {}
  ~Channel() {
    // Bounded: after a timeout the command may still run, and the peer need not confirm the close.
    libssh2_session_set_blocking(session_, 1);
    libssh2_session_set_timeout(session_, 2000);
    libssh2_channel_free(ch_);
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  LIBSSH2_CHANNEL* get() const { return ch_; }

 private:
  LIBSSH2_SESSION* session_;
  LIBSSH2_CHANNEL* ch_;
};

std::string random_suffix() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  static const char* hex = "0123456789abcdef";
  std::string out;
  uint64_t v = rng();
  for (int i = 0; i < 12; ++i, v >>= 4) out += hex[v & 15];
  return out;
}

std::string octal(int mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", mode & 07777);
  return buf;
}

}  // namespace

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

SshShell::SshShell(SshOptions options) : options_(std::move(options)) {}
SshShell::~SshShell() = default;

Error SshShell::in_context(Error e) const {
  return std::move(e).with("host " + options_.host + " (" + options_.address + ":" +
                           std::to_string(options_.port) + ")");
}

Status SshShell::connect() {
  if (conn_) return {};
  auto deadline = Clock::now() + std::chrono::milliseconds(options_.connect_timeout_ms);
  auto delay = std::chrono::milliseconds(250);
  int attempts = 0;
  while (true) {
    ++attempts;
    auto s = SshSession::open(options_, deadline);
    if (s) {
      conn_ = std::move(*s);
      return check_sudo();
    }
    Error e = s.error();
    bool transient = e.kind == ErrorKind::io || e.kind == ErrorKind::timeout;
    if (!transient) return in_context(std::move(e));
    if (Clock::now() + delay >= deadline) {
      e.kind = ErrorKind::timeout;
      e.message = "no SSH connection after " + std::to_string(attempts) + " attempt(s) in " +
                  std::to_string(options_.connect_timeout_ms / 1000) + "s; last: " + e.message;
      return in_context(std::move(e));
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(4000));
  }
}

// Once per connection: `sudo -n true` proves that sudo will not ask for a password, before any step
// depends on it.
Status SshShell::check_sudo() {
  if (options_.privilege != Privilege::sudo) return {};
  bool started = false;
  auto r = run_once("sudo -n true", {}, started);
  if (!r) {
    conn_.reset();
    return in_context(std::move(r.error()));
  }
  if (r->exit_code == 0) return {};
  conn_.reset();
  std::string said = r->err;
  while (!said.empty() && (said.back() == '\n' || said.back() == '\r')) said.pop_back();
  return in_context(
      Error(ErrorKind::auth, "user " + options_.user +
                                 " cannot run commands as root without a password (`sudo -n "
                                 "true` said: " +
                                 (said.empty() ? "exit " + std::to_string(r->exit_code) : said) +
                                 "); give it passwordless sudo (NOPASSWD) or log in as root"));
}

Result<CommandResult> SshShell::run(const std::string& command, std::string_view stdin_data) {
  const std::string elevated =
      options_.privilege == Privilege::sudo ? "sudo -n sh -c " + shell_quote(command) : command;
  for (int attempt = 1;; ++attempt) {
    if (auto st = connect(); !st) return st.error();
    bool started = false;
    auto r = run_once(elevated, stdin_data, started);
    if (r) return r;
    conn_.reset();  // the session's state is unknown after a transport failure
    // A kept connection may have died meanwhile (the machine restarted): when the command never
    // reached the host, reconnect once and try again.
    if (started || attempt == 2) return in_context(std::move(r.error()));
  }
}

Result<CommandResult> SshShell::run_once(const std::string& command, std::string_view stdin_data,
                                         bool& started) {
  auto deadline = Clock::now() + std::chrono::milliseconds(options_.command_timeout_ms);
  LIBSSH2_SESSION* s = conn_->get();
  auto fail = [&](const std::string& what) {
    return Error(Clock::now() >= deadline ? ErrorKind::timeout : ErrorKind::io,
                 what + ": " + conn_->last_error());
  };
  auto timed_out = [&] {
    return Error(ErrorKind::timeout,
                 "command still running after " + std::to_string(options_.command_timeout_ms / 1000) + "s");
  };
  libssh2_session_set_blocking(s, 0);

  LIBSSH2_CHANNEL* raw = nullptr;
  while (!(raw = libssh2_channel_open_session(s)) && libssh2_session_last_errno(s) == LIBSSH2_ERROR_EAGAIN) {
    if (!conn_->wait(deadline)) return timed_out();
  }
  if (!raw) return fail("cannot open an SSH channel");
  Channel ch(s, raw);

  int rc;
  started = true;  // from here on the command may have run
  while ((rc = libssh2_channel_exec(ch.get(), command.c_str())) == LIBSSH2_ERROR_EAGAIN) {
    if (!conn_->wait(deadline)) return timed_out();
  }
  if (rc != 0) return fail("cannot start the command");

  CommandResult result;
  size_t written = 0;
  bool eof_sent = false;
  char buf[32768];
  while (true) {
    bool progress = false;
    if (written < stdin_data.size()) {
      ssize_t n = libssh2_channel_write(ch.get(), stdin_data.data() + written, stdin_data.size() - written);
      if (n > 0) {
        written += static_cast<size_t>(n);
        progress = true;
      } else if (n != LIBSSH2_ERROR_EAGAIN) {
        written = stdin_data.size();  // the command closed its input; the rest is not wanted
      }
    }
    if (written == stdin_data.size() && !eof_sent) {
      rc = libssh2_channel_send_eof(ch.get());
      if (rc != LIBSSH2_ERROR_EAGAIN) eof_sent = true;
    }
    bool drained = true;
    for (int stream : {0, SSH_EXTENDED_DATA_STDERR}) {
      ssize_t n = libssh2_channel_read_ex(ch.get(), stream, buf, sizeof(buf));
      if (n > 0) {
        (stream == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
        progress = true;
        drained = false;
      } else if (n == LIBSSH2_ERROR_EAGAIN) {
        drained = false;
      } else if (n < 0) {
        return fail("reading the command's output failed");
      }
    }
    if (libssh2_channel_eof(ch.get()) && drained) break;
    if (!progress && !conn_->wait(deadline)) return timed_out();
  }

  while ((rc = libssh2_channel_close(ch.get())) == LIBSSH2_ERROR_EAGAIN) {
    if (!conn_->wait(deadline)) return timed_out();
  }
  while ((rc = libssh2_channel_wait_closed(ch.get())) == LIBSSH2_ERROR_EAGAIN) {
    if (!conn_->wait(deadline)) return timed_out();
  }
  result.exit_code = libssh2_channel_get_exit_status(ch.get());
  char* signal = nullptr;
  size_t signal_len = 0;
  libssh2_channel_get_exit_signal(ch.get(), &signal, &signal_len, nullptr, nullptr, nullptr, nullptr);
  if (signal) {
    result.exit_code = 255;
    result.err += "killed by signal SIG" + std::string(signal, signal_len) + "\n";
    libssh2_free(s, signal);
  }
  return result;
}

Status SshShell::upload(const std::string& path, std::string_view content, const FileAttrs& attrs) {
  size_t slash = path.rfind('/');
  if (path.empty() || path[0] != '/' || slash == std::string::npos || slash + 1 == path.size()) {
    return in_context(Error(ErrorKind::bad_input, "upload needs an absolute file path, got '" + path + "'"));
  }
  std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  std::string tmp =
      dir + (slash == 0 ? "" : "/") + "." + path.substr(slash + 1) + ".pgha-tmp-" + random_suffix();
  // The content arrives on stdin, never on the command line; the temp file is private until renamed.
  std::string script = "set -e; umask 022; d=" + shell_quote(dir) + "; t=" + shell_quote(tmp) +
                       "; [ -d \"$d\" ] || mkdir -p \"$d\"; trap 'rm -f \"$t\"' EXIT; umask 077; "
                       "cat > \"$t\"; chown " +
                       shell_quote(attrs.owner + ":" + attrs.group) + " \"$t\"; chmod " + octal(attrs.mode) +
                       " \"$t\"; mv -f \"$t\" " + shell_quote(path);
  auto r = run("sh -c " + shell_quote(script), content);
  if (!r) return r.error();
  if (r->exit_code != 0) {
    return in_context(Error(ErrorKind::remote_failure, "cannot write " + path + " (exit " +
                                                           std::to_string(r->exit_code) + "): " + r->err));
  }
  return {};
}

Status SshShell::upload_all(const std::vector<FileWrite>& files) {
  if (files.empty()) return {};
  if (files.size() == 1) return upload(files[0].path, files[0].content, files[0].attrs);
  std::string dirs, temps, fill, attrs, renames, data;
  for (size_t i = 0; i < files.size(); ++i) {
    const FileWrite& f = files[i];
    size_t slash = f.path.rfind('/');
    if (f.path.empty() || f.path[0] != '/' || slash + 1 == f.path.size()) {
      return in_context(
          Error(ErrorKind::bad_input, "upload needs an absolute file path, got '" + f.path + "'"));
    }
    std::string dir = slash == 0 ? "/" : f.path.substr(0, slash);
    std::string tmp =
        dir + (slash == 0 ? "" : "/") + "." + f.path.substr(slash + 1) + ".pgha-tmp-" + random_suffix();
    const std::string t = "\"$t" + std::to_string(i) + "\"";
    dirs += " " + shell_quote(dir);
    temps += "t" + std::to_string(i) + "=" + shell_quote(tmp) + "; ";
    fill += "head -c " + std::to_string(f.content.size()) + " > " + t + "; ";
    attrs += "chown " + shell_quote(f.attrs.owner + ":" + f.attrs.group) + " " + t + "; chmod " +
             octal(f.attrs.mode) + " " + t + "; ";
    renames += "mv -f " + t + " " + shell_quote(f.path) + "; ";
    data.append(f.content);
  }
  std::string cleanup = "trap 'rm -f";
  for (size_t i = 0; i < files.size(); ++i) cleanup += " \"$t" + std::to_string(i) + "\"";
  cleanup += "' EXIT; ";
  // Content arrives on stdin, never on the command line; temp files are private until renamed.
  std::string script = "set -e; umask 022; mkdir -p" + dirs + "; " + temps + cleanup + "umask 077; " + fill +
                       attrs + renames + "trap - EXIT";
  auto r = run("sh -c " + shell_quote(script), data);
  if (!r) return r.error();
  if (r->exit_code != 0) {
    return in_context(Error(ErrorKind::remote_failure, "cannot write " + std::to_string(files.size()) +
                                                           " files (exit " + std::to_string(r->exit_code) +
                                                           "): " + r->err));
  }
  return {};
}

Result<std::optional<std::string>> SshShell::read(const std::string& path) {
  std::string p = shell_quote(path);
  auto r = run("test -e " + p + " || exit " + std::to_string(kAbsent) + "; cat -- " + p);
  if (!r) return r.error();
  if (r->exit_code == kAbsent) return std::optional<std::string>();
  if (r->exit_code != 0) {
    return in_context(Error(ErrorKind::remote_failure, "cannot read " + path + " (exit " +
                                                           std::to_string(r->exit_code) + "): " + r->err));
  }
  return std::optional<std::string>(std::move(r->out));
}

}  // namespace pgha
