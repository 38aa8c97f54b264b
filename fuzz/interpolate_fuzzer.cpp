// libFuzzer target: ${VAR} interpolation on any text. It never crashes; text without '$' comes back
// unchanged; an error names no value of a variable.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/interpolate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name.size() % 2 == 0) return std::nullopt;
    return "s3cret-v@lue";  // no variable name can hold it
  };
  auto out = pgha::interpolate(text, env);
  if (text.find('$') == std::string::npos && (!out.ok() || *out != text)) std::abort();
  if (!out.ok() && text.find("s3cret-v@lue") == std::string::npos &&
      out.error().message.find("s3cret-v@lue") != std::string::npos)
    std::abort();
  return 0;
}
