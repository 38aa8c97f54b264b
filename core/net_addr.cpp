#include "core/net_addr.hpp"

#include <charconv>

namespace pgha {

namespace {

// A decimal number in [0, max] without sign or leading zeros; nullopt otherwise.
std::optional<uint32_t> parse_decimal(std::string_view s, uint32_t max) {
  if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

}  // namespace

std::optional<uint32_t> parse_ipv4(std::string_view text) {
  uint32_t out = 0;
  for (int part = 0; part < 4; ++part) {
    size_t dot = text.find('.');
    if ((part < 3) != (dot != std::string_view::npos)) return std::nullopt;
    auto octet = parse_decimal(text.substr(0, dot), 255);
    if (!octet) return std::nullopt;
    out = (out << 8) | *octet;
    text = part < 3 ? text.substr(dot + 1) : std::string_view{};
  }
  return out;
}

std::string format_ipv4(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

std::optional<Subnet> parse_cidr(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto address = parse_ipv4(text.substr(0, slash));
  auto prefix = parse_decimal(text.substr(slash + 1), 32);
  if (!address || !prefix) return std::nullopt;
  return Subnet{*address, static_cast<int>(*prefix)};
}

}  // namespace pgha
