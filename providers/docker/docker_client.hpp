// Typed calls to the Docker Engine API (v1.41 or newer, as negotiated) over an HttpTransport. Answers are
// nlohmann::json as the engine sends them; errors are mapped once, here: 404 not_found, 409 conflict, 400/403
// bad_input, 5xx remote_failure, each with the engine's {"message"}. 304 (already in that state)
// is success.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "net/curl_http.hpp"

namespace pgha {

using json = nlohmann::json;

// The error for a non-2xx answer, with the engine's message and what was attempted.
Error docker_error(const HttpResponse& response, const std::string& what);
// j[key], or a null when j is not an object or lacks key: safe on const JSON from the engine
// (const operator[] on a missing key is undefined behaviour).
const json& field(const json& j, const std::string& key);
template <class... Keys>
const json& field(const json& j, const std::string& key, const Keys&... rest) {
  return field(field(j, key), rest...);
}
// Percent-encodes a query parameter value.
std::string url_encode(const std::string& s);

// Where the engine is, as the user writes it, for a message that says what to fix when it cannot be
// reached.
struct EngineAddress {
  std::string shown;                    // "unix:///var/run/docker.sock", "tcp://10.0.0.5:2375"
  std::string setting = "DOCKER_HOST";  // what the user changes to point pgha elsewhere
};

// The error for an engine that could not be reached at all (a connect error of the transport):
// "cannot reach the Docker engine at ADDRESS: REASON (HINT)", of the transport's kind, without context:
// the request it happened on does not matter to the reader.
Error engine_unreachable(const Error& connect_error, const EngineAddress& address);

class DockerClient {
 public:
  // base: "http://localhost/v1.41" for the unix socket, "http://host:2375/v1.41" over TCP. address
  // names the engine in errors; its shown "" means the base URL.
  DockerClient(StreamingHttpTransport& http, std::string base, EngineAddress address = {});

  Status ping();
  // Asks the engine which API version it speaks (GET /_ping without a version; its API-Version
  // header), chooses one with negotiate_api_version() and sends every later request with it. Returns
  // the chosen version. Errors: as ping(), or remote_failure for an engine too old or silent.
  // Not thread-safe: call it before any other thread uses this client.
  Result<std::string> negotiate_version();
  const std::string& base() const { return base_; }
  // GET /info: the engine's answer as it came.
  Result<json> info();

  // {"label":["pgha.cluster=x"]} style filter on one label "key=value".
  Result<std::vector<json>> containers_with_label(const std::string& label);
  Result<std::vector<json>> networks_with_label(const std::string& label);
  Result<std::vector<json>> volumes_with_label(const std::string& label);
  // Every network on the engine, as GET /networks lists them (Name, Id, IPAM.Config[].Subnet, ...).
  Result<std::vector<json>> networks();

  // nullopt when absent (404).
  Result<std::optional<json>> inspect_container(const std::string& id_or_name);
  Result<std::optional<json>> inspect_network(const std::string& id_or_name);
  Result<std::optional<json>> inspect_volume(const std::string& name);
  Result<std::optional<json>> inspect_image(const std::string& name);

  Result<std::string> create_network(const json& spec);  // returns the id
  Status remove_network(const std::string& id);
  Status connect_network(const std::string& network, const json& spec);
  Status disconnect_network(const std::string& network, const std::string& container);

  Status create_volume(const std::string& name, const json& labels);
  Status remove_volume(const std::string& name);

  Result<std::string> create_container(const std::string& name, const json& spec);  // returns the id
  Status start_container(const std::string& id);
  Status kill_container(const std::string& id, const std::string& signal);
  Status pause_container(const std::string& id);
  // POST /containers/{id}/update with `update` (e.g. {"RestartPolicy":{"Name":"no"}}).
  Status update_container(const std::string& id, const json& update);
  Status unpause_container(const std::string& id);
  Status remove_container(const std::string& id);  // force, with its anonymous volumes
  // Runs argv in the running container as root (POST exec, start detached, poll its state) and returns
  // its exit code; its output is not kept. A timeout error when it still runs after `timeout`.
  Result<int> exec(const std::string& id, const std::vector<std::string>& argv,
                   std::chrono::milliseconds timeout);
  // Extracts a tar archive into the container's file system at dir.
  Status put_archive(const std::string& id, const std::string& dir, const std::string& tar);

  // POST /images/create?fromImage=NAME&tag=TAG: pulls reference ("debian:bookworm") from its
  // registry. Each status line goes to on_line. Errors: the engine's (404/500) or an {"error"} inside
  // the stream (no registry reachable, unknown image), as remote_failure.
  Status pull_image(const std::string& reference, const std::function<void(const std::string&)>& on_line);
  // POST /images/create?fromSrc=-&repo=REPO&tag=TAG with a root file system tarball as the body:
  // the image `docker import` makes.
  Status import_image(const std::string& rootfs_tar, const std::string& reference);

  // POST /build. Each output line of the build ({"stream": ...}) goes to on_line; an {"error"} in
  // the stream is a remote_failure carrying it. labels are set on the image.
  Status build_image(const std::string& context_tar, const std::string& tag, const json& labels,
                     const std::function<void(const std::string&)>& on_line);

 private:
  // The transport's error with the engine and what was attempted: engine_unreachable() alone for a
  // connect error.
  Error transport_error(Error error, const std::string& what) const;
  Result<HttpResponse> call(const std::string& method, const std::string& path, const std::string& what,
                            const json* body = nullptr, long timeout_ms = 60000);
  // call() and an error for any status outside [200, 300) and other than 304.
  Result<HttpResponse> expect_ok(const std::string& method, const std::string& path, const std::string& what,
                                 const json* body = nullptr);
  Result<std::optional<json>> inspect(const std::string& path, const std::string& what);
  Result<std::vector<json>> list(const std::string& path, const std::string& what, const char* field);
  // A streaming POST whose answer is JSON lines ({"stream"} or {"status"} progress, {"error"} on
  // failure): each progress line to on_line, an {"error"} as remote_failure with the last lines.
  Status json_stream(HttpRequest req, const std::string& what,
                     const std::function<void(const std::string&)>& on_line);

  StreamingHttpTransport& http_;
  std::string base_;
  EngineAddress address_;
};

}  // namespace pgha
