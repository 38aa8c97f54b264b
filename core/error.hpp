// One error vocabulary for every layer: a kind, a message, and the context gathered on the way up.
// Adapters (libcurl, libssh2, libpq, Docker, Proxmox) map their own codes to a Kind; no library
// code leaks above them.
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace pgha {

enum class ErrorKind {
  timeout,
  auth,
  not_found,
  conflict,
  remote_failure,  // the other side answered, with a failure (non-zero exit, 5xx, task error)
  bad_input,       // our input is wrong: inventory, arguments, parameters
  io,              // local files, sockets, connections
  internal,
};

const char* to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::internal;
  std::string message;
  // Outermost context last, e.g. {"command `systemctl start etcd`", "step etcd:start", "host pg1"}.
  std::vector<std::string> context;

  Error() = default;
  Error(ErrorKind k, std::string msg) : kind(k), message(std::move(msg)) {}

  // Adds one layer of context ("host pg1", "step patroni:configure") and returns *this.
  Error& with(std::string ctx) & {
    context.push_back(std::move(ctx));
    return *this;
  }
  Error&& with(std::string ctx) && {
    context.push_back(std::move(ctx));
    return std::move(*this);
  }
  // "host pg1: step etcd:start: command `systemctl start etcd`: exit 1: <message>"
  std::string describe() const;
};

// A value or an Error. Small by design: ok(), value(), error(), and -> / *.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }
  Error& error() { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success carries nothing.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return error_; }
  Error& error() { return error_; }

 private:
  Error error_;
  bool failed_ = false;
};

using Status = Result<void>;

inline Error make_error(ErrorKind kind, std::string message) {
  return Error(kind, std::move(message));
}

}  // namespace pgha
