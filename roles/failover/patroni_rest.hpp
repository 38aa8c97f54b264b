// Patroni's REST API asked straight from this machine (the operator's machine reaches every node's
// API port: the Docker bridge, or the VM network), independent of SSH. One PatroniRest per thread:
// it owns its HttpTransport.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/endpoints.hpp"
#include "core/http.hpp"
#include "core/inventory.hpp"
#include "roles/failover/rto.hpp"
#include "roles/failover/split_brain.hpp"
#include "roles/patroni_api.hpp"

namespace pgha {

class PatroniRest {
 public:
  // timeout_ms bounds each request; a node that does not answer in time is "unknown".
  PatroniRest(const Inventory& inv, std::unique_ptr<HttpTransport> http, long timeout_ms);

  // GET /primary on one node: yes (200), no (any other status), unknown (no answer).
  Claim primary_claim(const Node& node);
  // GET /cluster from the first node that answers. Errors: io when none does.
  Result<PatroniCluster> cluster();
  Result<PatroniCluster> cluster_from(const Node& node);
  // GET /history from the first node that answers.
  Result<std::vector<HistoryEntry>> history();
  // POST /switchover {"leader", "candidate"?} with the admin credentials (Basic auth, in a header:
  // never on a command line). Patroni answers once the switchover is done or failed; a non-200
  // answer is a remote_failure carrying Patroni's message.
  Status switchover(const std::string& leader, const std::string& candidate,
                    const std::string& admin_password);

 private:
  Result<HttpResponse> get(const Node& node, const std::string& path);
  std::string url(const Node& node, const std::string& path) const;

  const Inventory& inv_;
  std::unique_ptr<HttpTransport> http_;
  long timeout_ms_;
};

// A PatroniRest over libcurl with short connect and request timeouts; with TLS it verifies each node
// against the cluster CA and presents pgha's client certificate.
std::unique_ptr<PatroniRest> make_patroni_rest(const Inventory& inv, const TlsClient& tls, long timeout_ms);

// "Basic <base64(user:password)>".
std::string basic_auth(const std::string& user, const std::string& password);

}  // namespace pgha
