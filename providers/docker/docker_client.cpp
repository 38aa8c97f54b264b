#include "providers/docker/docker_client.hpp"

#include <cctype>
#include <deque>
#include <thread>

#include "providers/docker/docker_engine.hpp"

namespace pgha {

const json& field(const json& j, const std::string& key) {
  static const json null_value;
  if (!j.is_object()) return null_value;
  auto it = j.find(key);
  return it == j.end() ? null_value : *it;
}

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

Error docker_error(const HttpResponse& r, const std::string& what) {
  std::string message;
  json body = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object() && body.contains("message") && body["message"].is_string()) {
    message = body["message"].get<std::string>();
  } else {
    message = r.body.substr(0, 300);
  }
  ErrorKind kind = ErrorKind::remote_failure;
  if (r.status == 404) kind = ErrorKind::not_found;
  if (r.status == 409) kind = ErrorKind::conflict;
  if (r.status == 400 || r.status == 403) kind = ErrorKind::bad_input;
  if (r.status == 401) kind = ErrorKind::auth;
  return Error(kind, "Docker answered " + std::to_string(r.status) + ": " + message).with(what);
}

Error engine_unreachable(const Error& connect_error, const EngineAddress& address) {
  const std::string& reason = connect_error.message;
  std::string hint;
  if (reason == "permission denied") {
    hint = "run pgha as root or as a member of the docker group";
  } else if (address.shown.starts_with("unix://")) {
    hint = "is dockerd running? set " + address.setting + " to its socket";
  } else {
    hint = "is dockerd listening there? set " + address.setting + " to its address";
  }
  return Error(connect_error.kind,
               "cannot reach the Docker engine at " + address.shown + ": " + reason + " (" + hint + ")");
}

DockerClient::DockerClient(StreamingHttpTransport& http, std::string base, EngineAddress address)
    : http_(http), base_(std::move(base)), address_(std::move(address)) {
  if (address_.shown.empty()) address_.shown = base_;
}

Error DockerClient::transport_error(Error error, const std::string& what) const {
  if (is_connect_error(error)) return engine_unreachable(error, address_);
  return std::move(error).with("Docker engine at " + address_.shown).with(what);
}

Result<HttpResponse> DockerClient::call(const std::string& method, const std::string& path,
                                        const std::string& what, const json* body, long timeout_ms) {
  HttpRequest req;
  req.method = method;
  req.url = base_ + path;
  req.timeout_ms = timeout_ms;
  if (body) {
    req.body = body->dump();
    req.headers["Content-Type"] = "application/json";
  }
  auto r = http_.send(req);
  if (!r) return transport_error(std::move(r.error()), what);
  return r;
}

Result<HttpResponse> DockerClient::expect_ok(const std::string& method, const std::string& path,
                                             const std::string& what, const json* body) {
  auto r = call(method, path, what, body);
  if (!r) return r.error();
  if ((r->status >= 200 && r->status < 300) || r->status == 304) return r;
  return docker_error(*r, what);
}

Result<std::optional<json>> DockerClient::inspect(const std::string& path, const std::string& what) {
  auto r = call("GET", path, what);
  if (!r) return r.error();
  if (r->status == 404) return std::optional<json>();
  if (r->status != 200) return docker_error(*r, what);
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return Error(ErrorKind::remote_failure, "Docker sent malformed JSON").with(what);
  return std::optional<json>(std::move(j));
}

Result<std::vector<json>> DockerClient::list(const std::string& path, const std::string& what,
                                             const char* field) {
  auto r = expect_ok("GET", path, what);
  if (!r) return r.error();
  json j = json::parse(r->body, nullptr, false);
  if (field && j.is_object()) j = j.value(field, json::array());
  if (j.is_null()) j = json::array();
  if (!j.is_array()) return Error(ErrorKind::remote_failure, "Docker sent malformed JSON").with(what);
  return std::vector<json>(j.begin(), j.end());
}

Status DockerClient::ping() {
  auto r = expect_ok("GET", "/_ping", "ping");
  if (!r) return r.error();
  return {};
}

Result<std::string> DockerClient::negotiate_version() {
  // base_ ends in /vMAJOR.MINOR; /_ping answers without one, whatever versions the engine serves.
  std::string root = base_;
  if (size_t v = root.rfind("/v"); v != std::string::npos && root.find('.', v) != std::string::npos)
    root.erase(v);
  HttpRequest req;
  req.url = root + "/_ping";
  auto r = http_.send(req);
  if (!r) return transport_error(std::move(r.error()), "ping");
  if (r->status != 200) return docker_error(*r, "ping");
  auto it = r->headers.find("api-version");
  auto version = negotiate_api_version(it == r->headers.end() ? "" : it->second);
  if (!version) return std::move(version.error()).with("Docker engine at " + address_.shown);
  base_ = root + "/v" + *version;
  return version;
}

Result<json> DockerClient::info() {
  auto r = expect_ok("GET", "/info", "engine info");
  if (!r) return r.error();
  json j = json::parse(r->body, nullptr, false);
  if (!j.is_object())
    return Error(ErrorKind::remote_failure, "Docker sent malformed JSON").with("engine info");
  return j;
}

namespace {
std::string label_filter(const std::string& label) {
  return url_encode(json{{"label", json::array({label})}}.dump());
}
}  // namespace

Result<std::vector<json>> DockerClient::containers_with_label(const std::string& label) {
  return list("/containers/json?all=1&filters=" + label_filter(label), "list containers " + label, nullptr);
}
Result<std::vector<json>> DockerClient::networks_with_label(const std::string& label) {
  return list("/networks?filters=" + label_filter(label), "list networks " + label, nullptr);
}
Result<std::vector<json>> DockerClient::volumes_with_label(const std::string& label) {
  return list("/volumes?filters=" + label_filter(label), "list volumes " + label, "Volumes");
}

Result<std::vector<json>> DockerClient::networks() {
  return list("/networks", "list networks", nullptr);
}

Result<std::optional<json>> DockerClient::inspect_container(const std::string& id) {
  return inspect("/containers/" + url_encode(id) + "/json", "inspect container " + id);
}
Result<std::optional<json>> DockerClient::inspect_network(const std::string& id) {
  return inspect("/networks/" + url_encode(id), "inspect network " + id);
}
Result<std::optional<json>> DockerClient::inspect_volume(const std::string& name) {
  return inspect("/volumes/" + url_encode(name), "inspect volume " + name);
}
Result<std::optional<json>> DockerClient::inspect_image(const std::string& name) {
  return inspect("/images/" + url_encode(name) + "/json", "inspect image " + name);
}

Result<std::string> DockerClient::create_network(const json& spec) {
  std::string name = spec.value("Name", "");
  auto r = expect_ok("POST", "/networks/create", "create network " + name, &spec);
  if (!r) return r.error();
  return json::parse(r->body, nullptr, false).value("Id", std::string());
}

Status DockerClient::remove_network(const std::string& id) {
  auto r = expect_ok("DELETE", "/networks/" + url_encode(id), "remove network " + id);
  if (!r) return r.error();
  return {};
}

Status DockerClient::connect_network(const std::string& network, const json& spec) {
  auto r = expect_ok("POST", "/networks/" + url_encode(network) + "/connect",
                     "connect " + spec.value("Container", "") + " to network " + network, &spec);
  if (!r) return r.error();
  return {};
}

Status DockerClient::disconnect_network(const std::string& network, const std::string& container) {
  json spec = {{"Container", container}, {"Force", true}};
  auto r = expect_ok("POST", "/networks/" + url_encode(network) + "/disconnect",
                     "disconnect " + container + " from network " + network, &spec);
  if (!r) return r.error();
  return {};
}

Status DockerClient::create_volume(const std::string& name, const json& labels) {
  json spec = {{"Name", name}, {"Labels", labels}};
  auto r = expect_ok("POST", "/volumes/create", "create volume " + name, &spec);
  if (!r) return r.error();
  return {};
}

Status DockerClient::remove_volume(const std::string& name) {
  auto r = expect_ok("DELETE", "/volumes/" + url_encode(name), "remove volume " + name);
  if (!r) return r.error();
  return {};
}

Result<std::string> DockerClient::create_container(const std::string& name, const json& spec) {
  auto r =
      expect_ok("POST", "/containers/create?name=" + url_encode(name), "create container " + name, &spec);
  if (!r) return r.error();
  return json::parse(r->body, nullptr, false).value("Id", std::string());
}

Status DockerClient::start_container(const std::string& id) {
  auto r = expect_ok("POST", "/containers/" + url_encode(id) + "/start", "start container " + id);
  if (!r) return r.error();
  return {};
}

Status DockerClient::kill_container(const std::string& id, const std::string& signal) {
  auto r = expect_ok("POST", "/containers/" + url_encode(id) + "/kill?signal=" + url_encode(signal),
                     "kill container " + id);
  if (!r) return r.error();
  return {};
}

Status DockerClient::update_container(const std::string& id, const json& update) {
  auto r = expect_ok("POST", "/containers/" + url_encode(id) + "/update", "update container " + id, &update);
  if (!r) return r.error();
  return {};
}

Status DockerClient::pause_container(const std::string& id) {
  auto r = expect_ok("POST", "/containers/" + url_encode(id) + "/pause", "pause container " + id);
  if (!r) return r.error();
  return {};
}

Status DockerClient::unpause_container(const std::string& id) {
  auto r = expect_ok("POST", "/containers/" + url_encode(id) + "/unpause", "unpause container " + id);
  if (!r) return r.error();
  return {};
}

Status DockerClient::remove_container(const std::string& id) {
  auto r = expect_ok("DELETE", "/containers/" + url_encode(id) + "?force=1&v=1", "remove container " + id);
  if (!r) return r.error();
  return {};
}

Result<int> DockerClient::exec(const std::string& id, const std::vector<std::string>& argv,
                               std::chrono::milliseconds timeout) {
  const std::string what = "exec in container " + id;
  json spec = {{"Cmd", argv}, {"AttachStdout", false}, {"AttachStderr", false}};
  auto created = expect_ok("POST", "/containers/" + url_encode(id) + "/exec", what, &spec);
  if (!created) return created.error();
  json answer = json::parse(created->body, nullptr, false);
  const json& exec_id = field(answer, "Id");
  if (!exec_id.is_string()) return Error(ErrorKind::remote_failure, "Docker returned no exec id").with(what);
  const std::string path = "/exec/" + url_encode(exec_id.get<std::string>());
  json start = {{"Detach", true}, {"Tty", false}};
  if (auto r = expect_ok("POST", path + "/start", what, &start); !r) return r.error();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto r = expect_ok("GET", path + "/json", what);
    if (!r) return r.error();
    json state = json::parse(r->body, nullptr, false);
    const json& code = field(state, "ExitCode");
    if (field(state, "Running") == false && code.is_number_integer()) return code.get<int>();
    if (std::chrono::steady_clock::now() >= deadline)
      return Error(ErrorKind::timeout,
                   "still running after " + std::to_string(timeout.count()) + " ms: " + argv.back())
          .with(what);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Status DockerClient::put_archive(const std::string& id, const std::string& dir, const std::string& tar) {
  HttpRequest req;
  req.method = "PUT";
  req.url = base_ + "/containers/" + url_encode(id) + "/archive?path=" + url_encode(dir);
  req.headers["Content-Type"] = "application/x-tar";
  req.body = tar;
  std::string what = "upload files to container " + id;
  auto r = http_.send(req);
  if (!r) return transport_error(std::move(r.error()), what);
  if (r->status != 200) return docker_error(*r, what);
  return {};
}

namespace {
// "debian:bookworm" -> {"debian", "bookworm"}; a tag is after the last ':' that follows the last '/'
// (a registry's port is not a tag); none is "latest".
std::pair<std::string, std::string> split_reference(const std::string& reference) {
  size_t slash = reference.rfind('/');
  size_t colon = reference.rfind(':');
  if (reference.find('@') != std::string::npos) return {reference, ""};
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash))
    return {reference, "latest"};
  return {reference.substr(0, colon), reference.substr(colon + 1)};
}
}  // namespace

Status DockerClient::pull_image(const std::string& reference,
                                const std::function<void(const std::string&)>& on_line) {
  auto [repo, tag] = split_reference(reference);
  HttpRequest req;
  req.method = "POST";
  req.url =
      base_ + "/images/create?fromImage=" + url_encode(repo) + (tag.empty() ? "" : "&tag=" + url_encode(tag));
  req.timeout_ms = 0;  // a pull takes as long as the layers take; the engine streams progress
  return json_stream(std::move(req), "pull image " + reference, on_line);
}

Status DockerClient::import_image(const std::string& rootfs_tar, const std::string& reference) {
  auto [repo, tag] = split_reference(reference);
  HttpRequest req;
  req.method = "POST";
  req.url = base_ + "/images/create?fromSrc=-&repo=" + url_encode(repo) + "&tag=" + url_encode(tag);
  req.headers["Content-Type"] = "application/x-tar";
  req.body = rootfs_tar;
  req.timeout_ms = 0;
  return json_stream(std::move(req), "import image " + reference, nullptr);
}

Status DockerClient::build_image(const std::string& context_tar, const std::string& tag, const json& labels,
                                 const std::function<void(const std::string&)>& on_line) {
  HttpRequest req;
  req.method = "POST";
  req.url = base_ + "/build?t=" + url_encode(tag) + "&rm=1&forcerm=1&labels=" + url_encode(labels.dump());
  req.headers["Content-Type"] = "application/x-tar";
  req.body = context_tar;
  req.timeout_ms = 0;  // a build takes minutes; the engine streams progress until it is done
  return json_stream(std::move(req), "build image " + tag, on_line);
}

Status DockerClient::json_stream(HttpRequest req, const std::string& what,
                                 const std::function<void(const std::string&)>& on_line) {
  // The answer is JSON lines, split across chunks anywhere.
  std::string pending, raw, error;
  std::deque<std::string> tail;  // the last lines of output, for the error message
  auto on_json_line = [&](const std::string& line) {
    json j = json::parse(line, nullptr, false);
    if (!j.is_object()) return;
    if (j.contains("error")) {
      error = j["error"].is_string() ? j["error"].get<std::string>() : j["error"].dump();
      return;
    }
    // docker build says {"stream"}, a pull {"status"} (with "id" for a layer).
    std::string text;
    if (j.contains("stream") && j["stream"].is_string()) {
      text = j["stream"].get<std::string>();
    } else if (j.contains("status") && j["status"].is_string()) {
      text = j["status"].get<std::string>();
      if (j.contains("id") && j["id"].is_string()) text = j["id"].get<std::string>() + ": " + text;
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (text.empty()) return;
    tail.push_back(text);
    if (tail.size() > 15) tail.pop_front();
    if (on_line) on_line(text);
  };
  auto r = http_.send_streaming(req, [&](std::string_view chunk) {
    pending.append(chunk);
    if (raw.size() < 4096) raw.append(chunk.substr(0, 4096 - raw.size()));
    for (size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1)) {
      on_json_line(pending.substr(0, nl));
    }
  });
  if (!pending.empty()) on_json_line(pending);
  if (!r) return transport_error(std::move(r.error()), what);
  if (r->status != 200) {
    r->body = raw;
    return docker_error(*r, what);
  }
  if (!error.empty()) {
    std::string last;
    for (const auto& line : tail) last += "  " + line + "\n";
    std::string verb = what.substr(0, what.find(' '));
    return Error(ErrorKind::remote_failure,
                 "docker " + verb + " failed: " + error + (last.empty() ? "" : "\nlast output:\n" + last))
        .with(what);
  }
  return {};
}

}  // namespace pgha
