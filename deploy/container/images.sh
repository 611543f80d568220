#!/usr/bin/env bash
# Builds the project's images on a machine that reaches no image registry, from Debian's packages and this machine's
# .NET install (about 3 minutes on a fresh machine on 2 cores; later runs reuse every layer that did not change):
#   integration-gateway/debian:bookworm     debootstrap --variant=minbase from the mirror apt uses, imported
#   integration-gateway/rabbitmq:3          Debian's rabbitmq-server (deploy/container/rabbitmq)
#   integration-gateway/postgres:15         Debian's postgresql (deploy/container/postgres)
#   integration-gateway/dotnet-aspnet:10    .NET's runtime, copied from this machine's install (deploy/container/dotnet)
#   integration-gateway/dotnet-sdk:10       .NET's SDK, the same way
#   integration-gateway:dev                 the gateway (deploy/container/Dockerfile, on the two above)
#   integration-gateway-simulator:dev       the agency simulator, for compose's demo
# Options: --services-only (broker and database images: what the Testcontainers tier needs), --rebuild-base.
# With IG_USE_MICROSOFT_IMAGES=1 the gateway is built on mcr.microsoft.com/dotnet/{sdk,aspnet}:10.0 instead.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$here/engine.sh"

services_only=0 rebuild_base=0
for arg in "$@"; do
  case "$arg" in
    --services-only) services_only=1 ;;
    --rebuild-base) rebuild_base=1 ;;
    *) ig_die "usage: $0 [--services-only] [--rebuild-base]" ;;
  esac
done

base=integration-gateway/debian:bookworm
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
# The mirror apt already uses (this machine reaches no other), for debootstrap.
mirror() {
  local uri
  uri="$(grep -h -m1 -E '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n1 | awk '{ print ($1 == "deb") ? $2 : $2 }')"
  printf '%s' "${uri:-http://deb.debian.org/debian}"
}
scratch=()
trap 'rm -rf "${scratch[@]}"' EXIT
build() {
  local tag="$1"; shift
  local started=$SECONDS log
  log="$(mktemp /var/tmp/ig-build.XXXXXX)"; scratch+=("$log")
  # The engine here has no BuildKit: the legacy builder, whose deprecation notice goes to the log with the rest.
  if ! DOCKER_BUILDKIT=0 docker build --network host -t "$tag" "$@" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    ig_die "building $tag failed (above: the end of its log)"
  fi
  ig_log "built $tag ($((SECONDS - started)) s)"
}

if [ "$rebuild_base" = 1 ] || ! image_exists "$base"; then
  command -v debootstrap >/dev/null 2>&1 || ig_install_engine
  rootfs="$(mktemp -d /var/tmp/ig-rootfs.XXXXXX)"; scratch+=("$rootfs")
  ig_log "debootstrap bookworm (minbase) from $(mirror) into $rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$(mirror)" >"$rootfs.log" 2>&1 || ig_die "debootstrap failed; see $rootfs.log"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs.log"
  tar -c --numeric-owner -C "$rootfs" . | docker import -c 'CMD ["bash"]' - "$base" >/dev/null
  ig_log "imported $base"
fi

build integration-gateway/rabbitmq:3 "$here/rabbitmq"
build integration-gateway/postgres:15 "$here/postgres"
[ "$services_only" = 1 ] && exit 0

if [ "${IG_USE_MICROSOFT_IMAGES:-0}" = 1 ]; then
  sdk=mcr.microsoft.com/dotnet/sdk:10.0 runtime=mcr.microsoft.com/dotnet/aspnet:10.0
else
  sdk=integration-gateway/dotnet-sdk:10 runtime=integration-gateway/dotnet-aspnet:10
  dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
  # The .NET layers are made again only when this machine's .NET, its trust store or their Dockerfile changed: sending
  # 600 MB of context to find every layer cached costs half a minute.
  fingerprint="$( { dotnet --version; dotnet --list-runtimes; sha256sum /etc/ssl/certs/ca-certificates.crt "$here/dotnet/Dockerfile"; } 2>/dev/null | sha256sum | cut -c1-16)"
  same() { [ "$(docker image inspect -f '{{index .Config.Labels "integration-gateway.dotnet"}}' "$1" 2>/dev/null)" = "$fingerprint" ]; }
fi
if [ "${IG_USE_MICROSOFT_IMAGES:-0}" != 1 ] && same "$runtime" && same "$sdk"; then
  ig_log "$runtime and $sdk are this machine's .NET already"
elif [ "${IG_USE_MICROSOFT_IMAGES:-0}" != 1 ]; then
  # The build context: this machine's .NET, hard-linked where it can be (no copy of 600 MB), runtime and SDK apart.
  context="$(mktemp -d /var/tmp/ig-dotnet.XXXXXX)"; scratch+=("$context")
  mkdir -p "$context/runtime" "$context/sdk"
  cp "$here/dotnet/Dockerfile" "$context/"
  cp /etc/ssl/certs/ca-certificates.crt "$context/machine-ca-certificates.crt"
  for part in dotnet host shared LICENSE.txt ThirdPartyNotices.txt; do
    [ -e "$dotnet_root/$part" ] && { cp -al "$dotnet_root/$part" "$context/runtime/" 2>/dev/null || cp -a "$dotnet_root/$part" "$context/runtime/"; }
  done
  for part in sdk packs sdk-manifests templates; do
    [ -e "$dotnet_root/$part" ] && { cp -al "$dotnet_root/$part" "$context/sdk/" 2>/dev/null || cp -a "$dotnet_root/$part" "$context/sdk/"; }
  done
  build "$runtime" --target aspnet --label "integration-gateway.dotnet=$fingerprint" "$context"
  build "$sdk" --target sdk --label "integration-gateway.dotnet=$fingerprint" "$context"
fi
build integration-gateway:dev -f "$here/Dockerfile" --target gateway --build-arg SDK_IMAGE="$sdk" --build-arg RUNTIME_IMAGE="$runtime" "$root"
build integration-gateway-simulator:dev -f "$here/Dockerfile" --target simulator --build-arg SDK_IMAGE="$sdk" --build-arg RUNTIME_IMAGE="$runtime" "$root"
