// What pgha learns about a Docker engine before it asks for anything else, and what follows from it:
// the API version both sides speak (GET /_ping's API-Version header, between kMinApiVersion and the
// engine's), and how a container with systemd as PID 1 must be run on this host (GET /info's
// CgroupVersion, CgroupDriver and SecurityOptions). Pure functions; DockerClient does the asking.
#pragma once

#include <string>
#include <vector>

#include "core/error.hpp"
#include "providers/docker/docker_client.hpp"

namespace pgha {

// The oldest API version pgha speaks: HostConfig.CgroupnsMode arrived in 1.41 (Docker 20.10).
inline constexpr const char* kMinApiVersion = "1.41";

// The version to use with an engine that speaks up to engine_version ("1.41", "1.52"): the engine's
// own. An engine serves its own version and older ones down to its minimum, and that minimum rises
// (Docker 29.0-29.2 refused anything below 1.44), so the engine's own is the one every engine at or
// above kMinApiVersion accepts. Errors: remote_failure when the engine is older than kMinApiVersion or
// sent no version that parses as MAJOR.MINOR.
Result<std::string> negotiate_api_version(const std::string& engine_version);

struct EngineFacts {
  std::string api_version = kMinApiVersion;  // as negotiated
  std::string server_version;                // "20.10.24+dfsg1", for messages; "" when not said
  int cgroup_version = 1;                    // 1 or 2; an engine that does not say is v1 (pre-20.10)
  std::string cgroup_driver;                 // "cgroupfs", "systemd"; "" when not said
  bool apparmor = false;                     // SecurityOptions has name=apparmor
  bool selinux = false;                      // SecurityOptions has name=selinux
  bool rootless = false;                     // SecurityOptions has name=rootless
};

// The facts in a GET /info answer (any shape: missing or odd fields keep their defaults).
EngineFacts engine_facts(const json& info, const std::string& api_version);

// How a node container runs on an engine, chosen from its facts:
//  - cgroup v1: the engine's default cgroup namespace (the host's on v1), /sys/fs/cgroup bound
//    read-only, CAP_SYS_ADMIN (tested here: Docker 20.10, cgroupfs);
//  - cgroup v2: the host's cgroup namespace with /sys/fs/cgroup bound read-write, since systemd must
//    create its own cgroups (init.scope) and fails on a read-only mount in a private namespace
//    (moby#42275). The documented alternative, privileged with a private namespace, is not used:
//    --privileged fails on some engines ("unable to apply caps") where this works;
//  - AppArmor active: the profile `unconfined`, since Docker's default profile denies mount(2) even
//    with CAP_SYS_ADMIN, and systemd mounts; only then, since the option is refused where AppArmor
//    is absent;
//  - SELinux active: label=disable, since the container type may not write cgroups.
struct NodeRuntime {
  std::string cgroupns_mode;              // "host"; "" = the engine's default (not sent)
  std::string cgroup_bind;                // "/sys/fs/cgroup:/sys/fs/cgroup:ro" or ":rw"
  std::vector<std::string> security_opt;  // HostConfig.SecurityOpt
  std::string summary;                    // one line for progress: "cgroup v2: host cgroup namespace, ..."
};
NodeRuntime node_runtime(const EngineFacts& facts);

}  // namespace pgha
