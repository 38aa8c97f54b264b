// The node image: templates/docker/Dockerfile.mustache rendered for the inventory, plus every file
// under templates/docker/files/, packed as a build context. The image carries the context's
// SHA-256 as label pgha.context-hash; an image with the same hash is never rebuilt.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "core/error.hpp"
#include "core/inventory.hpp"
#include "providers/docker/docker_client.hpp"

namespace pgha {

inline constexpr const char* kContextHashLabel = "pgha.context-hash";

struct BuildContext {
  std::string tar;
  std::string hash;  // hex SHA-256 over the rendered Dockerfile and the files (names and bytes)
};

// templates: keyed by path relative to templates/ ("docker/Dockerfile.mustache", "docker/files/...").
// Errors: bad_input when the Dockerfile template is missing or does not render.
Result<BuildContext> make_build_context(const DockerSettings& settings, int postgres_version,
                                        const std::map<std::string, std::string>& templates);

using ProgressFn = std::function<void(const std::string&)>;

// Makes the root file system of a base image without a registry, as a tar archive (the seam of the
// base image's fallback; the real one is debootstrap_rootfs() in providers/docker/debootstrap.hpp).
// Errors: bad_input when it cannot make that image, else what went wrong.
using RootfsMaker =
    std::function<Result<std::string>(const std::string& base_image, const ProgressFn& progress)>;

enum class BaseImageAction { present, pulled, bootstrapped };

// Makes sure base_image exists: kept when present, else pulled (POST /images/create), else, when the
// pull fails, made by make_rootfs and imported (POST /images/create?fromSrc=-). Says which through
// progress. Errors: both failures in one message (the pull's and the fallback's).
Result<BaseImageAction> ensure_base_image(DockerClient& docker, const std::string& base_image,
                                          const RootfsMaker& make_rootfs, const ProgressFn& progress);

enum class ImageAction { kept, built };

// Builds settings.image unless it exists with the context's hash, after ensure_base_image().
// Errors: those of ensure_base_image(), remote_failure when the build fails.
Result<ImageAction> ensure_image(DockerClient& docker, const DockerSettings& settings, int postgres_version,
                                 const std::map<std::string, std::string>& templates,
                                 const RootfsMaker& make_rootfs, const ProgressFn& progress);

}  // namespace pgha
