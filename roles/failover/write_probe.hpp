// A steady stream of small write transactions, each carrying a sequence number, on its own thread and
// its own libpq connection. Every attempt is recorded with its outcome and timestamps; a failed or
// timed-out attempt drops the connection and the next one reconnects, as a well-behaved client would.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "net/pg_conn.hpp"
#include "roles/failover/probe_log.hpp"

namespace pgha {

// The probe's table. Rows are keyed by (run, via, seq) so runs and paths never collide.
extern const char* const kProbeTableDdl;

struct ProbeSettings {
  std::chrono::milliseconds interval{100};  // one attempt this often (sooner when one ran long)
  std::chrono::milliseconds timeout{2000};  // per connect and per statement
};

class WriteProbe {
 public:
  // Where to connect for the next attempt; nullopt when unknown right now (retried next interval).
  using Resolve = std::function<std::optional<PgParams>()>;

  WriteProbe(std::string via, std::string target, std::string run_id, Resolve resolve,
             ProbeSettings settings);
  ~WriteProbe();  // stops the thread
  WriteProbe(const WriteProbe&) = delete;
  WriteProbe& operator=(const WriteProbe&) = delete;

  void start();
  void stop();
  ProbeLog snapshot() const;
  // Acks whose attempt was sent at or after t (cheap progress check while running).
  int acks_sent_after(double t) const;

 private:
  void loop();
  WriteAttempt attempt(PgConn& conn, int64_t seq);

  const std::string run_id_;
  Resolve resolve_;
  ProbeSettings settings_;
  mutable std::mutex mu_;
  ProbeLog log_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Seconds since the Unix epoch, sub-millisecond.
double epoch_now();

}  // namespace pgha
