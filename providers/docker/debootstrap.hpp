// The base image's fallback when no registry answers: a Debian root file system made with
// debootstrap (--variant=minbase) from a Debian mirror, packed as a tar for POST
// /images/create?fromSrc=- (what `docker import` sends). Needs root and debootstrap on the host.
#pragma once

#include <string>

#include "providers/docker/docker_image.hpp"

namespace pgha {

// The Debian suite of an image reference: "debian:bookworm" (or "ci/debian:bookworm", any repository
// whose last component is debian) -> "bookworm". Errors: bad_input for any other repository, or a tag
// that is not a suite name (lower-case letters only; "latest" is refused).
Result<std::string> debian_suite(const std::string& base_image);

// The first Debian archive mirror in apt's sources (deb822 sources.list.d/*.sources "URIs:" lines,
// then sources.list "deb" lines), not a security mirror; "" when there is none (an Ubuntu host).
// sources_dir: /etc/apt in production, a test directory in tests.
std::string apt_debian_mirror(const std::string& apt_dir = "/etc/apt");

// A RootfsMaker: debootstrap of debian_suite(base_image) from mirror into a temporary directory
// under work_dir, packed with tar; the directory is removed whatever happens. Errors: bad_input for
// an empty mirror or an image that is not debian:<suite>; remote_failure for debootstrap's or tar's
// failure, with the last lines of its log.
RootfsMaker debootstrap_rootfs(std::string mirror, std::string work_dir = "/var/tmp");

}  // namespace pgha
