#!/bin/sh
# Builds the static myapi binary. The Docker image (deploy/Dockerfile), CI
# (.github/workflows/ci.yml, .ci/run) and the scale-out test all run this one
# script, so the binary tested outside Docker is the binary shipped inside it.
#
#   deploy/build.sh [OUTPUT]          default OUTPUT: ./myapi
#
# VERSION and COMMIT (environment) are stamped into the binary; by default
# they come from git (`git describe`, the short commit), or "dev"/"unknown"
# where there is no git (as in the Docker build, whose context has no .git).
# GOOS/GOARCH may be set to cross-compile. POSIX sh: it runs in the golang
# image and on any CI runner.
set -eu
cd "$(dirname "$0")/.."

out=${1:-myapi}
if [ -z "${VERSION:-}" ]; then
  VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
fi
if [ -z "${COMMIT:-}" ]; then
  COMMIT=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
fi

# CGO_ENABLED=0: pure Go (the SQLite driver is pure Go too), so the binary
# is static and runs on distroless/static or scratch. -trimpath: no build
# paths in the binary (reproducible). -buildvcs=false: the stamp is VERSION
# and COMMIT, not whatever .git the build happens to see.
CGO_ENABLED=0 go build -trimpath -buildvcs=false \
  -ldflags "-s -w -X main.version=$VERSION -X main.commit=$COMMIT" \
  -o "$out" ./cmd/myapi

# Refuse a dynamically linked result (a stray cgo dependency would make the
# image fail at start with "no such file or directory").
if command -v ldd >/dev/null 2>&1; then
  if ldd "$out" >/dev/null 2>&1; then
    echo "deploy/build.sh: $out is dynamically linked:" >&2
    ldd "$out" >&2
    exit 1
  fi
fi
echo "deploy/build.sh: built $out (version $VERSION, commit $COMMIT, static)"
