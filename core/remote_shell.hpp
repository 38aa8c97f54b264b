// The narrow interface through which the role engine acts on a node. The real implementation is
// libssh2 (net/ssh_shell.*); tests use fakes (tests/fakes/). Implementations map their library's
// errors to pgha::Error and add "host <name>" context.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace pgha {

struct CommandResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

struct FileAttrs {
  std::string owner = "root";
  std::string group = "root";
  int mode = 0644;
};

class RemoteShell {
 public:
  virtual ~RemoteShell() = default;
  virtual const std::string& host() const = 0;

  // Runs `command` through the remote shell. stdin_data is fed to its standard input (the way to
  // pass secrets: never on the command line). A non-zero exit is NOT an error here: it comes back in
  // CommandResult. Errors are transport failures (connection lost, timeout).
  virtual Result<CommandResult> run(const std::string& command, std::string_view stdin_data = {}) = 0;

  // Writes content to path atomically: a temp file in the same directory, owner and mode set, then
  // rename. Parent directories are created.
  virtual Status upload(const std::string& path, std::string_view content, const FileAttrs& attrs) = 0;

  // Writes every file as upload() does (each atomically). Implementations may do it in one round
  // trip; this default uploads them one at a time.
  struct FileWrite {
    std::string path;
    std::string_view content;
    FileAttrs attrs;
  };
  virtual Status upload_all(const std::vector<FileWrite>& files) {
    for (const auto& f : files) {
      if (auto s = upload(f.path, f.content, f.attrs); !s) return s;
    }
    return {};
  }

  // The file's content, nullopt when it does not exist; an Error only when reading failed.
  virtual Result<std::optional<std::string>> read(const std::string& path) = 0;
};

}  // namespace pgha
