// A RemoteShell for unit tests: a map of files, scripted answers for commands (first matching
// substring wins), and a log of everything run and uploaded.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/remote_shell.hpp"

namespace pgha::testing {

class FakeShell : public RemoteShell {
 public:
  explicit FakeShell(std::string host) : host_(std::move(host)) {}
  const std::string& host() const override { return host_; }

  // Commands containing `needle` answer `result`. Unmatched commands answer exit 0, no output.
  void on(std::string needle, CommandResult result) {
    script_.emplace_back(std::move(needle), std::move(result));
  }

  Result<CommandResult> run(const std::string& command, std::string_view stdin_data = {}) override {
    commands.push_back(command);
    stdins.emplace_back(stdin_data);
    for (const auto& [needle, result] : script_) {
      if (command.find(needle) != std::string::npos) return result;
    }
    return CommandResult{};
  }
  Status upload(const std::string& path, std::string_view content, const FileAttrs& attrs) override {
    files[path] = std::string(content);
    uploads.emplace_back(path, attrs);
    return {};
  }
  Result<std::optional<std::string>> read(const std::string& path) override {
    auto it = files.find(path);
    if (it == files.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  std::vector<std::string> commands;
  std::vector<std::string> stdins;
  std::vector<std::pair<std::string, FileAttrs>> uploads;
  std::map<std::string, std::string> files;

 private:
  std::string host_;
  std::vector<std::pair<std::string, CommandResult>> script_;
};

}  // namespace pgha::testing
