// Named Patroni + HAProxy timing profiles. The parser fills Timing from one; explicit keys override.
// The renderer may call timing_profile() too, e.g. to describe what a profile means.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/inventory.hpp"

namespace pgha {

// The profile an inventory gets when it names none: the fastest that showed no spurious failover in
// 10-minute idle runs on a loaded 2-core machine (bench/idle_soak.sh; numbers in bench/README.md).
inline constexpr const char* kDefaultProfile = "fast";

// Every Timing field set from the named profile (profile = name); nullopt for an unknown name.
std::optional<Timing> timing_profile(const std::string& name);

// "fast", "default", "safe": for listing and for "did you mean".
const std::vector<std::string>& timing_profile_names();

}  // namespace pgha
