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
Result<BuildContext> make_build_context(const DockerSettings& settings,
                                        const std::map<std::string, std::string>& templates);

enum class ImageAction { kept, built };

// Builds settings.image unless it exists with the context's hash. Errors: not_found when the base
// image is absent (no registry to pull from), remote_failure when the build fails.
Result<ImageAction> ensure_image(DockerClient& docker, const DockerSettings& settings,
                                 const std::map<std::string, std::string>& templates,
                                 const std::function<void(const std::string&)>& progress);

}  // namespace pgha
