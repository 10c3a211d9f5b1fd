#!/usr/bin/env bash
# Fetches the browser assets listed in assets.tsv from the npm registry into
# this directory, after checking each package tarball against its pinned
# integrity hash, and records the sha256 of every copied file in SHA256SUMS
# (which the Go tests check against the embedded files).
#
#   internal/webassets/fetch.sh          # (re)write the committed copies
#   internal/webassets/fetch.sh --check  # fail if the committed copies differ from the registry's
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
registry=${NPM_REGISTRY:-https://registry.npmjs.org}
check=false
[ "${1:-}" = "--check" ] && check=true

out=$here
if $check; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
work=$(mktemp -d)
trap 'rm -rf "$work"; $check && rm -rf "$out"' EXIT

: > "$out/SHA256SUMS.new"
while IFS=$'\t' read -r dir pkg version integrity files; do
  case "$dir" in ''|'#'*) continue ;; esac
  tarball="$work/$pkg-$version.tgz"
  curl -fsSL --retry 3 -o "$tarball" "$registry/$pkg/-/${pkg##*/}-$version.tgz"
  algo=${integrity%%-*}
  want=${integrity#*-}
  got=$(openssl dgst "-$algo" -binary "$tarball" | base64 -w0)
  if [ "$got" != "$want" ]; then
    echo "fetch.sh: $pkg@$version: $algo is $got, assets.tsv pins $want" >&2
    exit 1
  fi
  mkdir -p "$work/$pkg" "$out/$dir"
  tar -xzf "$tarball" -C "$work/$pkg"
  IFS=, read -ra list <<< "$files"
  for f in "${list[@]}"; do
    cp "$work/$pkg/package/$f" "$out/$dir/$(basename "$f")"
    (cd "$out" && sha256sum "$dir/$(basename "$f")") >> "$out/SHA256SUMS.new"
  done
  echo "$pkg@$version: ok"
done < "$here/assets.tsv"
mv "$out/SHA256SUMS.new" "$out/SHA256SUMS"

if $check; then
  if ! diff -u "$here/SHA256SUMS" "$out/SHA256SUMS"; then
    echo "fetch.sh --check: the committed assets differ from the pinned packages; run internal/webassets/fetch.sh" >&2
    exit 1
  fi
  echo "committed assets match the pinned packages"
fi
