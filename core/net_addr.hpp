// IPv4 addresses and CIDR subnets, as the inventory uses them. Pure string/number functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgha {

// A dotted quad "a.b.c.d" with each part 0..255 and no leading zeros; nullopt for anything else.
std::optional<uint32_t> parse_ipv4(std::string_view text);
std::string format_ipv4(uint32_t address);

struct Subnet {
  uint32_t address = 0;  // as written; may have host bits set (see has_host_bits)
  int prefix = 0;        // 0..32

  uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  uint32_t network() const { return address & mask(); }
  uint32_t broadcast() const { return network() | ~mask(); }
  bool has_host_bits() const { return address != network(); }
  bool contains(uint32_t ip) const { return (ip & mask()) == network(); }
  // network + 1: the conventional gateway. Meaningless for /31 and /32.
  uint32_t first_host() const { return network() + 1; }
};

// "a.b.c.d/N"; nullopt when either part is malformed.
std::optional<Subnet> parse_cidr(std::string_view text);

}  // namespace pgha
