// libFuzzer target: Patroni's GET /cluster answer as pgha reads it (parse_patroni_cluster), on any
// bytes: no crash, no exception; a parsed cluster's leader is one of its members.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "roles/patroni_api.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  auto c = pgha::parse_patroni_cluster(body);
  if (!c) return 0;
  const pgha::PatroniMember* leader = c->leader();
  if (leader && (leader < c->members.data() || leader >= c->members.data() + c->members.size())) std::abort();
  (void)c->leader_count();
  return 0;
}
