// TemplateSource implementations: the templates compiled into the binary, and a directory that
// overrides them file by file (`--templates DIR`).
#include <fstream>
#include <sstream>

#include "core/embedded.hpp"
#include "core/render.hpp"

namespace pgha {
namespace {

class EmbeddedTemplates final : public TemplateSource {
 public:
  std::optional<std::string> get(const std::string& name) const override {
    const auto& table = embedded_templates();
    auto it = table.find(name);
    if (it == table.end()) return std::nullopt;
    return it->second;
  }
};

class DirectoryTemplates final : public TemplateSource {
 public:
  explicit DirectoryTemplates(std::string dir) : dir_(std::move(dir)) {}

  // dir/<name> when it exists and is readable, else the embedded template of that name.
  std::optional<std::string> get(const std::string& name) const override {
    std::ifstream in(dir_ + "/" + name, std::ios::binary);
    if (in) {
      std::ostringstream text;
      text << in.rdbuf();
      return text.str();
    }
    return embedded_.get(name);
  }

 private:
  std::string dir_;
  EmbeddedTemplates embedded_;
};

}  // namespace

std::unique_ptr<TemplateSource> embedded_template_source() {
  return std::make_unique<EmbeddedTemplates>();
}

std::unique_ptr<TemplateSource> directory_template_source(const std::string& dir) {
  return std::make_unique<DirectoryTemplates>(dir);
}

}  // namespace pgha
