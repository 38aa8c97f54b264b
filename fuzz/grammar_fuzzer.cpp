// libFuzzer target: the value grammars validate applies (core/value_grammar, core/net_addr). None
// crashes; an accepted value holds no control character (an accepted path no '.' or '..' component, an
// accepted calendar expression nothing outside its whitelist); an address or subnet that parses prints
// back the same way it parses.
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

// A "." or ".." component (a name such as "...x" is an ordinary one).
bool has_dot_component(const std::string& path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string part = path.substr(start, end - start);
    if (part == "." || part == "..") return true;
    start = end + 1;
  }
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
  if (pgha::valid_path_under(s, {"/var/lib/pgbackrest", "/srv"}) && (controls || has_dot_component(s)))
    std::abort();
  if (pgha::valid_image_reference(s) && controls) std::abort();
  if (pgha::calendar_problem(s).empty() &&
      (s.size() > 64 ||
       s.find_first_not_of("0123456789ADFMSTWadehiklmnoqrstuwy *-:,./~") != std::string::npos))
    std::abort();
  if (auto a = pgha::parse_ipv4(s)) {
    auto again = pgha::parse_ipv4(pgha::format_ipv4(*a));
    if (!again || *again != *a) std::abort();
  }
  (void)pgha::parse_cidr(s);
  return 0;
}
