#include "roles/failover/write_probe.hpp"

namespace pgha {

const char* const kProbeTableDdl =
    "CREATE TABLE IF NOT EXISTS pgha_probe (run text NOT NULL, via text NOT NULL, seq bigint NOT NULL, "
    "at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (run, via, seq))";

double epoch_now() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count() / 1e6;
}

WriteProbe::WriteProbe(std::string via, std::string target, std::string run_id, Resolve resolve,
                       ProbeSettings settings)
    : run_id_(std::move(run_id)), resolve_(std::move(resolve)), settings_(settings) {
  log_.via = std::move(via);
  log_.target = std::move(target);
}

WriteProbe::~WriteProbe() {
  stop();
}

void WriteProbe::start() {
  stop_ = false;
  thread_ = std::thread([this] { loop(); });
}

void WriteProbe::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

ProbeLog WriteProbe::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

int WriteProbe::acks_sent_after(double t) const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const auto& a : log_.attempts) n += (a.outcome == WriteOutcome::acked && a.sent_at >= t) ? 1 : 0;
  return n;
}

WriteAttempt WriteProbe::attempt(PgConn& conn, int64_t seq) {
  WriteAttempt a;
  a.seq = seq;
  a.sent_at = epoch_now();
  auto rows = conn.exec(
      "INSERT INTO pgha_probe (run, via, seq) VALUES ($1, $2, $3) RETURNING host(inet_server_addr())",
      {run_id_, log_.via, std::to_string(seq)}, settings_.timeout);
  a.done_at = epoch_now();
  if (rows) {
    a.outcome = WriteOutcome::acked;
    if (!rows->empty() && !rows->front().empty()) a.server = rows->front()[0];
  } else {
    // The server answered with an error on a live connection: surely rolled back. Anything else
    // (timeout, lost connection) leaves the commit's fate unknown.
    a.outcome = conn.usable() ? WriteOutcome::refused : WriteOutcome::unknown;
  }
  return a;
}

void WriteProbe::loop() {
  std::optional<PgConn> conn;
  int64_t seq = 0;
  while (!stop_) {
    auto next = std::chrono::steady_clock::now() + settings_.interval;
    if (!conn || !conn->usable()) {
      conn.reset();
      auto where = resolve_();
      if (where) {
        auto c = PgConn::connect(*where, settings_.timeout);
        if (c) conn.emplace(std::move(c.value()));
      }
      if (!conn) {
        std::lock_guard<std::mutex> lock(mu_);
        ++log_.connect_failures;
      }
    }
    if (conn) {
      WriteAttempt a = attempt(*conn, ++seq);
      std::lock_guard<std::mutex> lock(mu_);
      log_.attempts.push_back(std::move(a));
    }
    while (!stop_ && std::chrono::steady_clock::now() < next)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace pgha
