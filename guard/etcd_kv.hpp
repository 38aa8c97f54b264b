// The two etcd v3 operations the guard needs, behind a seam: read Patroni's leader key with its
// mod_revision, and delete it only if it still holds the expected value at the expected revision.
// The real one (EtcdGateway) speaks etcd 3.4's JSON gRPC gateway (POST /v3/kv/range and /v3/kv/txn,
// keys and values base64, int64 as strings), as Patroni's own etcd3 client does; tests use a fake.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/http.hpp"

namespace pgha::guard {

struct KeyValue {
  std::string value;
  int64_t mod_revision = 0;
};

enum class ReadConsistency { linearizable, serializable };

class EtcdKv {
 public:
  virtual ~EtcdKv() = default;
  // The key's value and mod_revision; nullopt when the key does not exist. A linearizable read goes
  // through the Raft leader, so it succeeds only with quorum; a serializable one is any member's
  // local copy. Errors: io/timeout when no endpoint answered, remote_failure on an error answer.
  virtual Result<std::optional<KeyValue>> get(const std::string& key, ReadConsistency c) = 0;
  // One transaction: compare value == `value` AND mod_revision == `mod_revision`, then delete the key.
  // true when the comparison held and the key was deleted, false when it did not (nothing deleted).
  // Errors: as get(); after an io error the outcome is unknown and the caller must re-read.
  virtual Result<bool> delete_if(const std::string& key, const std::string& value, int64_t mod_revision) = 0;
};

// Patroni's leader key: /<namespace>/<scope>/leader, the namespace being Patroni's default "service".
std::string leader_key_path(const std::string& cluster);

// The gateway's JSON bodies, pure (tested as text).
std::string range_body(const std::string& key, ReadConsistency c);
std::string delete_if_body(const std::string& key, const std::string& value, int64_t mod_revision);
// Parses a range answer. Errors: bad_input when it is not the gateway's shape.
Result<std::optional<KeyValue>> parse_range(const std::string& body);
// Parses a txn answer: "succeeded" true or absent (the gateway omits false).
Result<bool> parse_txn(const std::string& body);

// Tries each endpoint ("http://10.0.0.2:2379") in turn until one answers; the one that answered is
// tried first next time.
class EtcdGateway final : public EtcdKv {
 public:
  EtcdGateway(std::vector<std::string> endpoints, std::unique_ptr<HttpTransport> http, long timeout_ms);
  Result<std::optional<KeyValue>> get(const std::string& key, ReadConsistency c) override;
  Result<bool> delete_if(const std::string& key, const std::string& value, int64_t mod_revision) override;

 private:
  Result<HttpResponse> post(const std::string& path, const std::string& body);

  std::vector<std::string> endpoints_;
  std::unique_ptr<HttpTransport> http_;
  long timeout_ms_;
  size_t preferred_ = 0;
};

}  // namespace pgha::guard
