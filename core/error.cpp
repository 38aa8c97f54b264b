#include "core/error.hpp"

namespace pgha {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::auth: return "authentication failed";
    case ErrorKind::not_found: return "not found";
    case ErrorKind::conflict: return "conflict";
    case ErrorKind::remote_failure: return "remote failure";
    case ErrorKind::bad_input: return "bad input";
    case ErrorKind::io: return "i/o error";
    case ErrorKind::internal: return "internal error";
  }
  return "error";
}

std::string Error::describe() const {
  std::string out;
  for (auto it = context.rbegin(); it != context.rend(); ++it) {
    out += *it;
    out += ": ";
  }
  out += message;
  return out;
}

}  // namespace pgha
