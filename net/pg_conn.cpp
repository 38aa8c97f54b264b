#include "net/pg_conn.hpp"

#include <libpq-fe.h>
#include <poll.h>

namespace pgha {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Waits until fd is readable (or writable); false on timeout.
bool wait_fd(int fd, bool for_write, Clock::time_point deadline) {
  pollfd p{fd, static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
  while (true) {
    int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) return true;  // let libpq report the socket's error
  }
}

// Server notices ("relation already exists, skipping") are not ours to print.
void ignore_notice(void*, const char*) {}

std::string first_line(const char* msg) {
  std::string s = msg ? msg : "";
  auto nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  return s;
}

}  // namespace

void PgConn::Finish::operator()(pg_conn* c) const {
  PQfinish(c);
}

PgConn::~PgConn() = default;

Result<PgConn> PgConn::connect(const PgParams& p, std::chrono::milliseconds timeout) {
  const std::string port = std::to_string(p.port);
  const bool tls = !p.sslrootcert.empty();
  const char* keys[] = {"host",    "port",        "user", "password", "dbname", "application_name",
                        "sslmode", "sslrootcert", nullptr};
  const char* values[] = {p.host.c_str(),
                          port.c_str(),
                          p.user.c_str(),
                          p.password.c_str(),
                          p.dbname.c_str(),
                          p.application_name.c_str(),
                          tls ? "verify-full" : "disable",
                          tls ? p.sslrootcert.c_str() : nullptr,
                          nullptr};
  std::string where = p.host + ":" + port;
  std::unique_ptr<pg_conn, Finish> conn(PQconnectStartParams(keys, values, 0));
  if (!conn) return Error(ErrorKind::internal, "libpq could not allocate a connection").with(where);
  if (PQstatus(conn.get()) == CONNECTION_BAD)
    return Error(ErrorKind::io, first_line(PQerrorMessage(conn.get()))).with(where);
  const auto deadline = Clock::now() + timeout;
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;
  while (st != PGRES_POLLING_OK) {
    if (st == PGRES_POLLING_FAILED) {
      std::string msg = first_line(PQerrorMessage(conn.get()));
      bool auth = msg.find("password authentication failed") != std::string::npos ||
                  msg.find("no pg_hba.conf entry") != std::string::npos;
      return Error(auth ? ErrorKind::auth : ErrorKind::io, msg).with(where);
    }
    if (!wait_fd(PQsocket(conn.get()), st == PGRES_POLLING_WRITING, deadline))
      return Error(ErrorKind::timeout, "no connection within " + std::to_string(timeout.count()) + " ms")
          .with(where);
    st = PQconnectPoll(conn.get());
  }
  PQsetNoticeProcessor(conn.get(), ignore_notice, nullptr);
  return PgConn(std::move(conn), std::move(where));
}

Result<std::vector<PgRow>> PgConn::exec(const std::string& sql, const std::vector<std::string>& params,
                                        std::chrono::milliseconds timeout) {
  if (!conn_) return Error(ErrorKind::io, "connection closed").with(where_);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& v : params) values.push_back(v.c_str());
  auto lost = [this](ErrorKind kind, std::string msg) {
    conn_.reset();
    return Error(kind, std::move(msg)).with(where_);
  };
  if (!PQsendQueryParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                         nullptr, nullptr, 0))
    return lost(ErrorKind::io, first_line(PQerrorMessage(conn_.get())));
  const auto deadline = Clock::now() + timeout;
  std::vector<PgRow> rows;
  std::string failure;
  while (true) {
    while (PQisBusy(conn_.get())) {
      if (!wait_fd(PQsocket(conn_.get()), false, deadline))
        return lost(ErrorKind::timeout, "no answer within " + std::to_string(timeout.count()) + " ms");
      if (!PQconsumeInput(conn_.get())) return lost(ErrorKind::io, first_line(PQerrorMessage(conn_.get())));
    }
    PGresult* r = PQgetResult(conn_.get());
    if (!r) break;
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK) {
      for (int i = 0; i < PQntuples(r); ++i) {
        PgRow row;
        for (int j = 0; j < PQnfields(r); ++j) row.emplace_back(PQgetvalue(r, i, j));
        rows.push_back(std::move(row));
      }
    } else if (st != PGRES_COMMAND_OK && failure.empty()) {
      const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      failure = std::string(state ? state : "?????") + ": " + first_line(PQresultErrorMessage(r));
    }
    PQclear(r);
  }
  if (PQstatus(conn_.get()) == CONNECTION_BAD)
    return lost(ErrorKind::io, failure.empty() ? "connection lost" : failure);
  if (!failure.empty()) return Error(ErrorKind::remote_failure, failure).with(where_);
  return rows;
}

}  // namespace pgha
