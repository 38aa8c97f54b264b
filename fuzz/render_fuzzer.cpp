// libFuzzer target: any bytes as an inventory; when it parses and validates, every node is rendered
// (the renderer's entry, render_node). Rendering must not crash; it is deterministic (a second render
// is byte-identical, so a no-op `up` changes nothing); every rendered YAML file loads as one document.
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/inventory_parse.hpp"
#include "core/render.hpp"
#include "core/validate.hpp"

namespace {

pgha::ResolvedSecrets secrets_for(const pgha::Inventory& inv) {
  pgha::ResolvedSecrets s;
  s.superuser_password = "su\"per'\\$pw";
  s.replication_password = "repl#: pw";
  s.admin_password = "ad\"min:$x";
  s.backup_cipher_pass = "cipher pass";
  for (const auto& u : inv.users) s.user_passwords[u.name] = u.password.empty() ? "user pw" : u.password;
  return s;
}

bool ends_with(const std::string& s, const char* suffix) {
  std::string t(suffix);
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto env = [](const std::string& name) -> std::optional<std::string> { return "v-" + name; };
  pgha::ParseOutcome out = pgha::parse_inventory(text, "fuzz.yml", env);
  if (!out.inventory || !out.diagnostics.empty()) return 0;
  if (!pgha::validate_inventory(*out.inventory).empty()) return 0;
  static const auto templates = pgha::embedded_template_source();
  const pgha::Inventory& inv = *out.inventory;
  const pgha::ResolvedSecrets secrets = secrets_for(inv);
  for (const auto& node : inv.nodes) {
    auto a = pgha::render_node(inv, node, secrets, *templates);
    auto b = pgha::render_node(inv, node, secrets, *templates);
    if (a.ok() != b.ok()) std::abort();
    if (!a.ok()) continue;
    if (a->size() != b->size()) std::abort();
    for (size_t i = 0; i < a->size(); ++i) {
      const auto& f = (*a)[i];
      if (f.path != (*b)[i].path || f.content != (*b)[i].content) std::abort();
      if (ends_with(f.path, ".yml")) {
        try {
          (void)YAML::Load(f.content);
        } catch (const YAML::Exception&) {
          std::abort();  // a rendered YAML file that does not load
        }
      }
    }
  }
  return 0;
}
