#!/usr/bin/env bash
# Checks the committed OpenAPI document and the TypeScript client made from
# it, with the tools pinned in package-lock.json:
#   1. redocly (recommended, warnings are errors) and spectral (spectral:oas,
#      failing on warnings) lint api/openapi.json;
#   2. clients/typescript/src is regenerated and must equal the committed copy;
#   3. the client compiles with tsc --strict;
#   4. the end-to-end journey (e2e/journey.test.ts) runs through the client
#      against a live myapi started here on a fresh SQLite file.
# api/openapi.json itself is kept equal to what the server serves by
# go test ./cmd/myapi (TestOpenAPIDocumentIsCommitted).
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1

fail() { echo "tools/openapi/check.sh: $*" >&2; exit 1; }
# section names the next part and when it starts, to see where time goes.
section() { echo "--- $* (at ${SECONDS}s)"; }

section "npm ci (tools/openapi)"
npm ci --no-fund --no-audit --loglevel=error

section "redocly lint"
npx redocly lint --config redocly.yaml ../../api/openapi.json
section "spectral lint"
npx spectral lint --ruleset .spectral.yaml --fail-severity=warn ../../api/openapi.json

section "regenerate clients/typescript/src"
npx openapi-ts --file openapi-ts.config.mjs >/dev/null
changed=$(git -C "$root" status --porcelain -- clients/typescript)
[ -z "$changed" ] || fail "clients/typescript differs from what api/openapi.json generates:
$changed
Regenerate it (cd tools/openapi && npm ci && npm run generate) and commit it."

section "tsc --noEmit --strict (clients/typescript)"
npx tsc --project ../../clients/typescript/tsconfig.json --noEmit --strict

section "end-to-end journey through the client"
tmp=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
(cd "$root" && go build -o "$tmp/myapi" ./cmd/myapi)
login_limit=40
admin_password=$(openssl rand -hex 16)
env -i PATH="$PATH" HOME="$HOME" \
  ENV_FILE=/dev/null HOST=127.0.0.1 PORT=0 LOG_FORMAT=json \
  DATABASE_URL="sqlite:///$tmp/journey.db" BCRYPT_COST=4 \
  RATE_LIMIT_PER_MINUTE=1000 LOGIN_RATE_LIMIT_PER_MINUTE=$login_limit REFRESH_REUSE_GRACE_SECONDS=0 \
  FIRST_SUPERUSER_EMAIL=root@example.com FIRST_SUPERUSER_USERNAME=root FIRST_SUPERUSER_PASSWORD="$admin_password" \
  "$tmp/myapi" serve >"$tmp/server.log" 2>&1 &
server=$!
addr=""
for _ in $(seq 1 300); do
  addr=$(grep -o '"msg":"listening","addr":"[^"]*"' "$tmp/server.log" | sed 's/.*"addr":"//; s/"$//' || true)
  [ -n "$addr" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
[ -n "$addr" ] || { cat "$tmp/server.log" >&2; fail "myapi did not start"; }
echo "myapi on $addr"
rm -rf .e2e-build
npx tsc --project e2e/tsconfig.json
if ! MYAPI_URL="http://$addr" MYAPI_ADMIN_USERNAME=root MYAPI_ADMIN_PASSWORD="$admin_password" MYAPI_LOGIN_LIMIT=$login_limit \
  node --test .e2e-build/tools/openapi/e2e/; then
  echo "--- myapi's log" >&2
  tail -n 50 "$tmp/server.log" >&2
  fail "the end-to-end journey failed"
fi
section "done"
