// SHA-256 of a byte string, as lower-case hex (what sha256sum prints).
#pragma once

#include <string>
#include <string_view>

namespace pgha {

std::string sha256_hex(std::string_view data);

}  // namespace pgha
