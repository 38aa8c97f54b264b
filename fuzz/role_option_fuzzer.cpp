// libFuzzer target: parse_role_option on any text. An option it accepts prints (to_sql) as SQL that
// parses back to the same option, so what reaches CREATE ROLE is exactly what was parsed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/role_option.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::string why;
  auto option = pgha::parse_role_option(text, &why);
  if (!option) {
    if (why.empty()) std::abort();  // a refusal always says what was expected
    return 0;
  }
  const std::string sql = pgha::to_sql(*option);
  for (char c : sql) {
    if (static_cast<unsigned char>(c) < 0x20 || c == ';') std::abort();
  }
  std::string again_why;
  auto again = pgha::parse_role_option(sql, &again_why);
  if (!again || !(*again == *option)) std::abort();
  return 0;
}
