// A libpq connection with deadlines: connecting and every statement give up after a timeout of the
// caller's choosing, so a frozen or cut-off server never hangs the caller (libpq's own connect_timeout
// cannot go below 2 s and has no statement equivalent). One PgConn per thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"

struct pg_conn;

namespace pgha {

struct PgParams {
  std::string host;
  int port = 5432;
  std::string user = "postgres";
  std::string password;  // passed to libpq as a keyword, never on a command line, never logged
  std::string dbname = "postgres";
  std::string application_name = "pgha";
  // With a CA file: TLS, the server verified against it for `host` (sslmode=verify-full). Without:
  // plaintext (sslmode=disable), for clusters without TLS.
  std::string sslrootcert;
};

using PgRow = std::vector<std::string>;  // text values; NULL reads as ""

class PgConn {
 public:
  // Connects within `timeout`. Errors: timeout; auth (password or pg_hba rejected us); io (refused,
  // unreachable, server shutting down or still starting). Messages name host:port, never the password.
  static Result<PgConn> connect(const PgParams& params, std::chrono::milliseconds timeout);

  PgConn(PgConn&&) noexcept = default;
  PgConn& operator=(PgConn&&) noexcept = default;
  ~PgConn();

  // Runs one statement (its own transaction unless inside BEGIN) with text parameters $1..$n and
  // returns its rows. Errors: timeout (no answer in time: the outcome is unknown and the connection
  // is closed), io (connection lost: outcome unknown, connection closed), remote_failure (the server
  // answered with an error; the message starts with the SQLSTATE, e.g. "25006: cannot execute ...").
  Result<std::vector<PgRow>> exec(const std::string& sql, const std::vector<std::string>& params,
                                  std::chrono::milliseconds timeout);

  // False once a timeout or a lost connection closed it; the caller then connects anew.
  bool usable() const { return conn_ != nullptr; }
  const std::string& where() const { return where_; }  // "host:port"

 private:
  struct Finish {
    void operator()(pg_conn* c) const;
  };
  PgConn(std::unique_ptr<pg_conn, Finish> conn, std::string where)
      : conn_(std::move(conn)), where_(std::move(where)) {}
  std::unique_ptr<pg_conn, Finish> conn_;
  std::string where_;
};

}  // namespace pgha
