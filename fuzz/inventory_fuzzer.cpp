// libFuzzer target: any bytes through parse_inventory + validate_inventory + format_diagnostics.
// Neither may crash, hang or throw, whatever the input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/inventory_parse.hpp"
#include "core/validate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name.size() % 2 == 0) return std::nullopt;  // some variables set, some not
    return "value-of-" + name;
  };
  pgha::ParseOutcome out = pgha::parse_inventory(text, "fuzz.yml", env);
  if (out.inventory) {
    auto more = pgha::validate_inventory(*out.inventory);
    out.diagnostics.insert(out.diagnostics.end(), more.begin(), more.end());
  }
  std::string formatted = pgha::format_diagnostics(out.diagnostics, text);
  return 0;
}
