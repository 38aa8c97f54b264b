#!/usr/bin/env bash
# Makes sure a Docker engine answers on the local socket and that the base image exists.
# - starts dockerd in the background (log: /var/log/pgha-dockerd.log) when nothing answers;
# - creates debian:bookworm (or $PGHA_BASE_IMAGE, e.g. debian:trixie) with debootstrap + import when it is missing (no registry is reachable
#   here). pgha would do the same itself (it pulls a missing base image and falls back to debootstrap);
#   doing it once here keeps every test's `up` from trying a pull first.
# Talks to the engine through its API with curl, as the product does.
set -euo pipefail

SOCK=${PGHA_DOCKER_SOCK:-/var/run/docker.sock}
BASE_IMAGE=${PGHA_BASE_IMAGE:-debian:bookworm}
api() { curl -fsS --unix-socket "$SOCK" "$@"; }

if ! api http://localhost/_ping >/dev/null 2>&1; then
  echo "ensure-docker: starting dockerd"
  nohup dockerd --host "unix://$SOCK" >/var/log/pgha-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    api http://localhost/_ping >/dev/null 2>&1 && break
    sleep 1
  done
  api http://localhost/_ping >/dev/null || { echo "ensure-docker: dockerd did not answer; see /var/log/pgha-dockerd.log" >&2; exit 1; }
fi

if ! api "http://localhost/images/${BASE_IMAGE}/json" >/dev/null 2>&1; then
  mirror=$(grep -h '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1 | awk '{print $2}')
  [ -n "$mirror" ] || mirror=$(awk '/^deb / && /debian/ && !/security/ {print $2; exit}' /etc/apt/sources.list)
  suite=${BASE_IMAGE##*:}  # debian:bookworm, debian:trixie: the tag is the Debian suite
  rootfs=$(mktemp -d /var/tmp/pgha-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  echo "ensure-docker: building ${BASE_IMAGE} with debootstrap from the configured Debian mirror"
  debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >/var/log/pgha-debootstrap.log 2>&1 \
    || { echo "ensure-docker: debootstrap failed; see /var/log/pgha-debootstrap.log" >&2; exit 1; }
  repo=${BASE_IMAGE%%:*}; tag=${BASE_IMAGE##*:}
  tar -C "$rootfs" -c . | curl -fsS --unix-socket "$SOCK" -X POST \
    -H 'Content-Type: application/x-tar' --data-binary @- \
    "http://localhost/images/create?fromSrc=-&repo=${repo}&tag=${tag}" >/dev/null
  api "http://localhost/images/${BASE_IMAGE}/json" >/dev/null
fi
echo "ensure-docker: engine up, ${BASE_IMAGE} present"
