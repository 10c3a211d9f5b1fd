#!/bin/bash
# A/B: two myapi binaries side by side on PostgreSQL, in one sitting.
#   bench/ab.sh BIN_A BIN_B [OUTDIR]
# Starts both (A on :18201, B on :18202), each on a freshly created database of its own, with
# the response cache off (CACHE_TTL_SECONDS=0: every read reaches PostgreSQL) and rate limits
# out of the way, then runs ../shared/bench/bench.sh on them in ABBA order, ROUNDS times, and
# prints the median req/s of each scenario and the ratio B/A.
# Env: ROUNDS=2 SCENARIOS="item_get items_list items_post" DURATION=10s
#      PG_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres DB_PREFIX=myapi_ab
#      SHARED=<repo>/../shared
#      A_ENV="VAR=value …" B_ENV="…": settings for one side only (e.g. one binary, ADMIN_ENABLED on and off)
set -euo pipefail
A=$(realpath "${1:?usage: ab.sh BIN_A BIN_B [OUTDIR]}"); B=$(realpath "${2:?usage: ab.sh BIN_A BIN_B [OUTDIR]}")
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${3:-$(mktemp -d)}; mkdir -p "$OUT"
SHARED=${SHARED:-$HERE/../../shared}; [ -x "$SHARED/bench/bench.sh" ] || SHARED=/work/shared
ROUNDS=${ROUNDS:-2}; export SCENARIOS=${SCENARIOS:-"item_get items_list items_post"} DURATION=${DURATION:-10s}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}; DB_PREFIX=${DB_PREFIX:-myapi_ab}
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT

# start NAME BIN PORT [VAR=value …]: a clean environment (env -i, no .env) on database ${DB_PREFIX}_NAME.
start() {
  local name=$1 bin=$2 port=$3 db=${DB_PREFIX}_$1
  shift 3
  psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
  env -i PATH="$PATH" HOST=127.0.0.1 PORT="$port" ENV_FILE=/nonexistent \
    DATABASE_URL="${PG_ADMIN_URL%/*}/$db?sslmode=disable" \
    SECRET_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" ENVIRONMENT=production EMAIL_ENABLED=false \
    LOG_LEVEL=WARNING BCRYPT_COST=4 DOCS_ENABLED=false CACHE_TTL_SECONDS=0 \
    RATE_LIMIT_PER_MINUTE=100000000 LOGIN_RATE_LIMIT_PER_MINUTE=100000000 "$@" \
    "$bin" serve >"$OUT/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 60); do curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0; sleep 0.5; done
  tail "$OUT/$name.log" >&2; exit 1
}
# shellcheck disable=SC2086 # A_ENV and B_ENV are lists of assignments
start a "$A" 18201 ${A_ENV:-}
# shellcheck disable=SC2086
start b "$B" 18202 ${B_ENV:-}
n=0
for _ in $(seq "$ROUNDS"); do
  for t in a b b a; do
    n=$((n + 1)); port=18201; [ "$t" = b ] && port=18202
    TARGET_NAME=$t "$SHARED/bench/bench.sh" "http://127.0.0.1:$port" "$OUT/$n-$t.json" 2>>"$OUT/bench.log"
  done
done
# Each adjacent pair of runs (AB, BA, AB, …) sat through the same noise: the geometric mean of
# the pairs' ratios is the figure to trust on a shared machine; the medians are beside it.
echo "| scenario | A req/s (median) | B req/s (median) | B ÷ A (medians) | B ÷ A (geometric mean of the $((ROUNDS * 2)) paired runs) |"
echo "|---|---:|---:|---:|---:|"
for s in $SCENARIOS; do
  med() { jq -s --arg s "$s" '[.[].scenarios[] | select(.scenario == $s) | .rps] | sort | .[length/2|floor]' "$OUT"/*-"$1".json; }
  rps() { jq --arg s "$s" '.scenarios[] | select(.scenario == $s) | .rps' "$1"; }
  logs=0
  for p in $(seq 1 2 "$n"); do
    for f in "$OUT/$p"-a.json "$OUT/$((p + 1))"-a.json; do [ -e "$f" ] && fa=$f; done
    for f in "$OUT/$p"-b.json "$OUT/$((p + 1))"-b.json; do [ -e "$f" ] && fb=$f; done
    logs=$(jq -n "$logs + (($(rps "$fb")) / ($(rps "$fa")) | log)")
  done
  ma=$(med a); mb=$(med b)
  echo "| $s | $ma | $mb | $(jq -n "$mb / $ma * 100 | round / 100") | $(jq -n "($logs / ($n / 2)) | exp * 100 | round / 100") |"
done
