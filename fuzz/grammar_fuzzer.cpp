// libFuzzer target: the value grammars validate applies (core/value_grammar, core/net_addr). None
// crashes; an accepted value holds no control character; an address or subnet that parses prints back
// the same way it parses.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/net_addr.hpp"
#include "core/value_grammar.hpp"

namespace {

bool has_control(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  const bool controls = has_control(s);
  if (controls && pgha::first_control_char(s).empty()) std::abort();
  if (!controls && !pgha::first_control_char(s).empty()) std::abort();
  if (has_control(pgha::escape_controls(s))) std::abort();
  if (pgha::valid_interface_name(s) && (controls || s.find('\n') != std::string::npos)) std::abort();
  if (pgha::valid_identifier(s) && controls) std::abort();
  if (pgha::valid_path_under(s, {"/var/lib/pgbackrest", "/srv"}) &&
      (controls || s.find("..") != std::string::npos))
    std::abort();
  if (pgha::valid_image_reference(s) && controls) std::abort();
  if (auto a = pgha::parse_ipv4(s)) {
    auto again = pgha::parse_ipv4(pgha::format_ipv4(*a));
    if (!again || *again != *a) std::abort();
  }
  (void)pgha::parse_cidr(s);
  return 0;
}
