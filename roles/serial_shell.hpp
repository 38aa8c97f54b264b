// A RemoteShell that lets several threads share one node's connection: each call holds the node's
// lock for its whole round trip. The engine's late gates run side by side on the same nodes.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "core/remote_shell.hpp"

namespace pgha {

class SerialShell final : public RemoteShell {
 public:
  explicit SerialShell(std::unique_ptr<RemoteShell> inner) : inner_(std::move(inner)) {}
  const std::string& host() const override { return inner_->host(); }
  Result<CommandResult> run(const std::string& command, std::string_view stdin_data = {}) override {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_->run(command, stdin_data);
  }
  Status upload(const std::string& path, std::string_view content, const FileAttrs& attrs) override {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_->upload(path, content, attrs);
  }
  Status upload_all(const std::vector<FileWrite>& files) override {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_->upload_all(files);
  }
  Result<std::optional<std::string>> read(const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_->read(path);
  }

 private:
  std::unique_ptr<RemoteShell> inner_;
  std::mutex mu_;
};

}  // namespace pgha
