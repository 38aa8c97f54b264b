#include "providers/docker/docker_engine.hpp"

#include <charconv>
#include <utility>

namespace pgha {
namespace {

// "1.41" -> {1, 41}; nullopt unless it is exactly MAJOR.MINOR in digits.
std::optional<std::pair<int, int>> parse_version(const std::string& v) {
  size_t dot = v.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == v.size()) return std::nullopt;
  int major = 0, minor = 0;
  auto [p1, e1] = std::from_chars(v.data(), v.data() + dot, major);
  auto [p2, e2] = std::from_chars(v.data() + dot + 1, v.data() + v.size(), minor);
  if (e1 != std::errc() || p1 != v.data() + dot || e2 != std::errc() || p2 != v.data() + v.size())
    return std::nullopt;
  return std::make_pair(major, minor);
}

}  // namespace

Result<std::string> negotiate_api_version(const std::string& engine_version) {
  auto engine = parse_version(engine_version);
  if (!engine) {
    return Error(ErrorKind::remote_failure, "the Docker engine sent no usable API version ('" +
                                                engine_version.substr(0, 40) +
                                                "' in the API-Version header of /_ping); pgha needs API " +
                                                kMinApiVersion + " or newer (Docker 20.10+)");
  }
  if (*engine < *parse_version(kMinApiVersion)) {
    return Error(ErrorKind::remote_failure, "the Docker engine speaks API " + engine_version +
                                                "; pgha needs " + kMinApiVersion +
                                                " or newer (Docker 20.10+)");
  }
  return std::to_string(engine->first) + "." + std::to_string(engine->second);
}

EngineFacts engine_facts(const json& info, const std::string& api_version) {
  EngineFacts f;
  f.api_version = api_version;
  if (const json& v = field(info, "ServerVersion"); v.is_string()) f.server_version = v.get<std::string>();
  if (const json& v = field(info, "CgroupVersion"); v.is_string() && v.get<std::string>() == "2")
    f.cgroup_version = 2;
  if (const json& v = field(info, "CgroupDriver"); v.is_string()) f.cgroup_driver = v.get<std::string>();
  // Entries look like "name=apparmor" or "name=seccomp,profile=default".
  if (const json& opts = field(info, "SecurityOptions"); opts.is_array()) {
    for (const json& o : opts) {
      if (!o.is_string()) continue;
      const std::string s = o.get<std::string>();
      auto is = [&](const char* name) {
        std::string key = std::string("name=") + name;
        return s == key || s.starts_with(key + ",");
      };
      f.apparmor = f.apparmor || is("apparmor");
      f.selinux = f.selinux || is("selinux");
      f.rootless = f.rootless || is("rootless");
    }
  }
  return f;
}

NodeRuntime node_runtime(const EngineFacts& facts) {
  NodeRuntime r;
  if (facts.cgroup_version == 2) {
    r.cgroupns_mode = "host";
    r.cgroup_bind = "/sys/fs/cgroup:/sys/fs/cgroup:rw";
    r.summary = "cgroup v2: host cgroup namespace, /sys/fs/cgroup read-write";
  } else {
    r.cgroup_bind = "/sys/fs/cgroup:/sys/fs/cgroup:ro";
    r.summary = "cgroup v1: /sys/fs/cgroup read-only";
  }
  if (facts.apparmor) {
    r.security_opt.push_back("apparmor=unconfined");
    r.summary += ", AppArmor unconfined";
  }
  if (facts.selinux) {
    r.security_opt.push_back("label=disable");
    r.summary += ", SELinux labels off";
  }
  return r;
}

}  // namespace pgha
