#include "core/profiles.hpp"

namespace pgha {

namespace {

Timing make(const char* name, int ttl, int loop_wait, int retry_timeout, int primary_start_timeout, int inter,
            int fastinter, int downinter, int fall, int rise) {
  Timing t;
  t.profile = name;
  t.ttl = ttl;
  t.loop_wait = loop_wait;
  t.retry_timeout = retry_timeout;
  t.primary_start_timeout = primary_start_timeout;
  t.check_inter_ms = inter;
  t.check_fastinter_ms = fastinter;
  t.check_downinter_ms = downinter;
  t.check_fall = fall;
  t.check_rise = rise;
  return t;
}

}  // namespace

// fast is the documented minimums; "default" is the previous conventional choice, kept by name; safe is
// Patroni's stock timing. Each satisfies Patroni's documented minimums, loop_wait + 2*retry_timeout <= ttl,
// and HAProxy detection < ttl.
std::optional<Timing> timing_profile(const std::string& name) {
  if (name == "fast") return make("fast", 20, 2, 3, 10, 1000, 500, 1000, 2, 2);
  if (name == "default") return make("default", 30, 5, 5, 30, 2000, 1000, 2000, 3, 2);
  if (name == "safe") return make("safe", 30, 10, 10, 300, 3000, 1000, 3000, 3, 4);
  return std::nullopt;
}

const std::vector<std::string>& timing_profile_names() {
  static const std::vector<std::string> names = {"fast", "default", "safe"};
  return names;
}

}  // namespace pgha
