// libFuzzer target: apt's and dpkg's answers as `pgha upgrade` reads them (parse_apt_policy,
// parse_dpkg_query, parse_apt_simulation) and Debian's version order, on any bytes: no crash; every
// version that comes out is one Debian's grammar allows (they reach shell commands), and the order is
// antisymmetric and reflexive.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "roles/upgrade.hpp"

namespace {

int sign(int v) {
  return (v > 0) - (v < 0);
}

void check_order(const std::string& a, const std::string& b) {
  if (pgha::compare_debian_versions(a, a) != 0) std::abort();
  if (sign(pgha::compare_debian_versions(a, b)) != -sign(pgha::compare_debian_versions(b, a))) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto p = pgha::parse_apt_policy(text)) {
    for (const auto& v : *p) {
      for (const auto* s : {&v.installed, &v.candidate}) {
        if (!s->empty() && !pgha::valid_debian_version(*s)) std::abort();
      }
      if (!v.installed.empty() && !v.candidate.empty()) check_order(v.installed, v.candidate);
    }
  }
  for (const auto& [name, version] : pgha::parse_dpkg_query(text)) {
    if (!pgha::valid_debian_version(version)) std::abort();
  }
  for (const auto& u : pgha::parse_apt_simulation(text)) {
    if (!pgha::valid_debian_version(u.to) || (!u.from.empty() && !pgha::valid_debian_version(u.from)))
      std::abort();
  }
  const auto half = text.find('\n');
  if (half != std::string::npos) check_order(text.substr(0, half), text.substr(half + 1));
  return 0;
}
