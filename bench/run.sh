#!/bin/bash
# One benchmark sitting, loopback only, about 7 minutes on the 2-core VM (longer with WAIT_FOR_QUIET):
#   (a) the bare Go baseline (../shared/bench/baseline)    -> GET /health only
#   (b) the FastAPI seed, 1 uvicorn worker (../shared/anchors/fastapi-seed/run.sh, RESET_DB=1)
#   (c) myapi on PostgreSQL (fresh database, ENVIRONMENT=production, LOG_LEVEL=INFO to a file)
#   (c') item_get and items_list again on myapi with its response cache off (CACHE_TTL_SECONDS=0)
#   (c'') health, item_get and items_list on myapi with REDIS_URL: cache and rate limits in a private
#        redis-server (issue 3, point 5)
#   (f) GET /health alternated between two myapi processes, metrics + INFO logging ON and
#       METRICS_ENABLED=false LOG_LEVEL=WARNING (OFF), OBS_AB_ROUNDS rounds (issue 4, point 7)
# each measured by ../shared/bench/bench.sh with the same knobs; then for myapi
#   (d) peak RSS (VmHWM) over its whole run, and
#   (e) GET /health latency from a light paced probe while wrk runs logins.
# Results: bench/results/*.json (git-ignored), then bench/RESULTS.md via bench/report.
#
#   bench/run.sh                      # from the repository root (or anywhere)
#   TARGETS="myapi" bench/run.sh      # a subset (baseline seed myapi); RESULTS.md is then partial
#
# Knobs (defaults): bench.sh's THREADS=2 CONNS=64 DURATION=10s LOGIN_CONNS=10 LOGIN_DURATION=10s
#   WARMUP=2s WRK_TIMEOUT=10s N_ITEMS=200; MIX_SECONDS=10 HEALTH_CONNS=4 HEALTH_DELAY_MS=10
#   IDLE_SECONDS=5; BCRYPT_COST=12; ports BASELINE_PORT=19100 SEED_PORT=18001 MYAPI_PORT=18100;
#   PG_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_DB=myapi_bench;
#   SHARED=<repo>/../shared RESULTS_DIR=bench/results RESULTS_MD=bench/RESULTS.md
#   KEEP_LOGS=0 (1 keeps myapi's full request log in results/); MYAPI_RATE_LIMIT=100000000
#   (RATE_LIMIT_PER_MINUTE and LOGIN_RATE_LIMIT_PER_MINUTE for myapi); MYAPI_EXTRA_ENV="K=V ...";
#   WAIT_FOR_QUIET=0 QUIET_IDLE=85 (wait up to N s for the CPUs to be that % idle before each target);
#   SPLIT_SCENARIOS=0 (1: one bench.sh call per scenario, with the wait before each);
#   CACHE_OFF_PASS=1 (item_get and items_list again on myapi with CACHE_TTL_SECONDS=0);
#   NOISE_MAX=0.25 RETRIES=2 (with SPLIT_SCENARIOS=1: repeat a run disturbed by other processes);
#   REDIS_PASS=1 REDIS_PORT=16379 (health, item_get, items_list on myapi with REDIS_URL pointing at a
#   private redis-server started on that port; 0 skips it);
#   OBS_AB_ROUNDS=4 MYAPI_PORT_OFF=18101 (rounds of health ON, OFF on two myapi processes at once,
#   the OFF one on MYAPI_PORT_OFF with METRICS_ENABLED=false LOG_LEVEL=WARNING; 0 skips it)
set -euo pipefail
START_S=$(date +%s)
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

# The exact command, with the knobs the caller set, for RESULTS.md.
KNOB_NAMES="THREADS CONNS DURATION LOGIN_CONNS LOGIN_DURATION WARMUP WRK_TIMEOUT N_ITEMS MIX_SECONDS
  HEALTH_CONNS HEALTH_DELAY_MS IDLE_SECONDS BCRYPT_COST BASELINE_PORT SEED_PORT MYAPI_PORT TARGETS
  BENCH_DB KEEP_LOGS MYAPI_RATE_LIMIT MYAPI_EXTRA_ENV WAIT_FOR_QUIET QUIET_IDLE SPLIT_SCENARIOS CACHE_OFF_PASS NOISE_MAX RETRIES
  REDIS_PASS REDIS_PORT OBS_AB_ROUNDS MYAPI_PORT_OFF"
CMD=""
for k in $KNOB_NAMES; do
  if [ -n "${!k+x}" ]; then CMD+="$k=$(printf '%q' "${!k}") "; fi
done
CMD+="bench/run.sh${*:+ $*}"

SHARED=$(cd "${SHARED:-$ROOT/../shared}" && pwd)
BENCH_SH=$SHARED/bench/bench.sh
SCEN_LUA=$SHARED/bench/lua/scenario.lua
ANCHOR=$SHARED/anchors/fastapi-seed
RES=${RESULTS_DIR:-$HERE/results}
RESULTS_MD=${RESULTS_MD:-$HERE/RESULTS.md}
TARGETS=${TARGETS:-"baseline seed myapi"}
export THREADS=${THREADS:-2} CONNS=${CONNS:-64} DURATION=${DURATION:-10s}
export LOGIN_CONNS=${LOGIN_CONNS:-10} LOGIN_DURATION=${LOGIN_DURATION:-10s}
export WARMUP=${WARMUP:-2s} WRK_TIMEOUT=${WRK_TIMEOUT:-10s} N_ITEMS=${N_ITEMS:-200}
MIX_SECONDS=${MIX_SECONDS:-10}; HEALTH_CONNS=${HEALTH_CONNS:-4}; HEALTH_DELAY_MS=${HEALTH_DELAY_MS:-10}
IDLE_SECONDS=${IDLE_SECONDS:-5}; BCRYPT_COST=${BCRYPT_COST:-12}
BASELINE_PORT=${BASELINE_PORT:-19100}; SEED_PORT=${SEED_PORT:-18001}; MYAPI_PORT=${MYAPI_PORT:-18100}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
BENCH_DB=${BENCH_DB:-myapi_bench}
KEEP_LOGS=${KEEP_LOGS:-0}
# The rate limiter stays on (its cost is part of every request) but with limits no sitting reaches:
# wrk sends everything from 127.0.0.1 as one user, and a 429 is not what is measured here.
MYAPI_RATE_LIMIT=${MYAPI_RATE_LIMIT:-100000000}
# On a shared machine: wait up to WAIT_FOR_QUIET seconds for the CPUs to be >= QUIET_IDLE % idle.
WAIT_FOR_QUIET=${WAIT_FOR_QUIET:-0}; QUIET_IDLE=${QUIET_IDLE:-85}
# SPLIT_SCENARIOS=1: one bench.sh call per scenario, so WAIT_FOR_QUIET applies before each.
SPLIT_SCENARIOS=${SPLIT_SCENARIOS:-0}
# CACHE_OFF_PASS=1: item_get and items_list once more on myapi with its response cache off.
CACHE_OFF_PASS=${CACHE_OFF_PASS:-1}
# With SPLIT_SCENARIOS=1: a run during which other processes took > NOISE_MAX cores is repeated
# up to RETRIES times (the mixed run too).
NOISE_MAX=${NOISE_MAX:-0.25}; RETRIES=${RETRIES:-2}
# REDIS_PASS=1: health, item_get and items_list once more on myapi with REDIS_URL (response cache
# and rate limits in a private redis-server on REDIS_PORT).
REDIS_PASS=${REDIS_PASS:-1}; REDIS_PORT=${REDIS_PORT:-16379}
# OBS_AB_ROUNDS=N: N rounds of GET /health alternated between two myapi processes, metrics and
# INFO logging on (MYAPI_PORT) and off (MYAPI_PORT_OFF); 0 skips it.
OBS_AB_ROUNDS=${OBS_AB_ROUNDS:-4}; MYAPI_PORT_OFF=${MYAPI_PORT_OFF:-18101}
unset SCENARIOS TARGET_NAME ITEMS_PATH # bench.sh knobs that must not leak between targets

log() { echo "[run $(date +%T)] $*" >&2; }
die() { log "FAILED: $*"; exit 1; }
has() { case " $TARGETS " in *" $1 "*) return 0;; esac; return 1; }

for c in go wrk jq curl psql; do command -v "$c" >/dev/null || die "needs $c (apt-get install -y wrk jq curl postgresql-client; Go)"; done
case $OBS_AB_ROUNDS in '' | *[!0-9]*) die "OBS_AB_ROUNDS=$OBS_AB_ROUNDS: want a whole number (0 skips the A/B runs)";; esac
case $REDIS_PORT in '' | *[!0-9]*) die "REDIS_PORT=$REDIS_PORT: want a port number";; esac
if has myapi && [ "$REDIS_PASS" = 1 ]; then
  command -v redis-server >/dev/null ||
    die "REDIS_PASS=1 needs redis-server (apt-get install -y redis-server), or REDIS_PASS=0 to skip the Redis pass"
fi
[ -x "$BENCH_SH" ] || die "no $BENCH_SH (SHARED=$SHARED)"
if has seed; then [ -x /usr/bin/python3 ] || die "the seed needs Debian's /usr/bin/python3 (see $ANCHOR/README.md)"; fi
PORTS="$BASELINE_PORT $SEED_PORT $MYAPI_PORT"
if has myapi && [ "$OBS_AB_ROUNDS" -gt 0 ]; then PORTS+=" $MYAPI_PORT_OFF"; fi
for p in $PORTS; do
  if curl -s -o /dev/null -m 1 "http://127.0.0.1:$p/"; then die "port $p already answers; stop that server or choose another *_PORT"; fi
done
# port_open PORT: something accepts connections on 127.0.0.1:PORT
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if has myapi && [ "$REDIS_PASS" = 1 ] && port_open "$REDIS_PORT"; then
  die "port $REDIS_PORT is already in use; the Redis pass starts a private redis-server there (choose another REDIS_PORT)"
fi

# --- cleanup: every process this script starts is stopped by its PID, even on failure ---
TMP=$(mktemp -d "${TMPDIR:-/tmp}/myapi-bench.XXXXXX")
BPID="" SPID="" MPID="" MOPID="" RPID="" WPIDS=() SEED_STOP="" SAMPLER_PID=""
cleanup() {
  local rc=$?
  for p in "${WPIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "$SAMPLER_PID" "$BPID" "$MPID" "$MOPID" "$RPID"; do
    if [ -n "$p" ]; then kill -TERM "$p" 2>/dev/null || true; fi
  done
  if [ -n "$SPID" ]; then
    if [ -n "$SEED_STOP" ]; then "$SEED_STOP" "$SEED_PORT" >/dev/null 2>&1 || kill -TERM "$SPID" 2>/dev/null || true
    else kill -TERM "$SPID" 2>/dev/null || true; fi
  fi
  for p in "$BPID" "$MPID" "$MOPID" "$RPID" "$SPID"; do
    [ -n "$p" ] || continue
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$p" 2>/dev/null; then kill -KILL "$p" 2>/dev/null || true; fi
  done
  rm -rf "$TMP"
  [ "$rc" = 0 ] || log "exit $rc (servers stopped)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$RES"
rm -f "$RES"/*.json "$RES"/*.raw.txt "$RES"/*.log "$RES"/*.txt "$RES"/*.tsv

# --- helpers --------------------------------------------------------------------------
wait_healthy() { # URL PID SECONDS
  for _ in $(seq 1 $(($3 * 10))); do
    curl -fsS -m 1 "$1/health" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
proc_kb() { awk -v k="$1:" '$1==k{print $2}' "/proc/$2/status" 2>/dev/null || echo 0; }
# wrk_scenario NAME CONNS DURATION OUTFILE: the JSON line of scenario.lua as a bench.sh-style object
wrk_scenario() {
  local js; js=$(grep '^JSON ' "$4" | tail -1 | cut -c6-)
  [ -n "$js" ] || js='{"error":"wrk produced no result"}'
  jq -n --arg n "$1" --argjson c "$2" --arg d "$3" --argjson r "$js" '{scenario:$n, connections:$c, duration:$d} + $r'
}
# paced health probe: HEALTH_CONNS connections, HEALTH_DELAY_MS pause before each request
paced_health() { # URL SECONDS OUTFILE
  SCENARIO_LUA=$SCEN_LUA WRK_DELAY_MS=$HEALTH_DELAY_MS WRK_METHOD=GET WRK_BODY="" WRK_CTYPE="" WRK_AUTH="" \
    wrk -t"$(( HEALTH_CONNS < THREADS ? HEALTH_CONNS : THREADS ))" -c"$HEALTH_CONNS" -d"$2s" --timeout "$WRK_TIMEOUT" \
    -s "$HERE/lua/paced.lua" "$1/health" >"$3" 2>&1 || true
}
# redis_ping PORT: a Redis on 127.0.0.1:PORT answers PING (bash's /dev/tcp; no redis-cli needed)
redis_ping() (
  exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
  printf 'PING\r\n' >&3
  IFS= read -r -t 2 line <&3 || exit 1
  [ "${line%$'\r'}" = "+PONG" ]
) 2>/dev/null
# redis_info PORT: a few counters of INFO stats as JSON ({} without redis-cli)
redis_info() {
  local info=""
  if command -v redis-cli >/dev/null; then info=$(redis-cli -h 127.0.0.1 -p "$1" INFO stats 2>/dev/null | tr -d '\r') || true; fi
  { grep -E '^(total_connections_received|total_commands_processed|keyspace_hits|keyspace_misses|rejected_connections):' <<<"$info" || true; } |
    jq -Rn '[inputs | split(":") | {(.[0]): (.[1] | tonumber)}] | add // {}'
}
# xcache_check SCENARIO BASE PATH: GET it twice (curl -si, no token, as wrk sends it); JSON of the
# statuses and X-Cache headers of both answers
xcache_check() {
  local st=() xc=() h
  for _ in 1 2; do
    h=$(curl -si -m 5 "$2$3" 2>/dev/null | tr -d '\r' | sed '/^$/q') || true
    st+=("$(awk 'NR==1{print $2+0}' <<<"$h")")
    xc+=("$(awk -F': *' 'tolower($1)=="x-cache"{print $2}' <<<"$h")")
  done
  jq -n --arg s "$1" --arg p "$3" --argjson a "${st[0]:-0}" --argjson b "${st[1]:-0}" --arg x "${xc[0]}" --arg y "${xc[1]}" \
    '{scenario:$s, path:$p, status:[$a, $b], x_cache:[$x, $y], hit:($b == 200 and $y == "HIT")}'
}
idle_pct() { # CPU idle % over 2 s, from /proc/stat
  local a b; a=$(awk '/^cpu /{print $5+$6, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat); sleep 2
  b=$(awk '/^cpu /{print $5+$6, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN{split(a,x," "); split(b,y," "); t=y[2]-x[2]; printf "%d", (t>0 ? 100*(y[1]-x[1])/t : 100)}'
}
secs() { case $1 in *ms) echo 0;; *s) echo "${1%s}";; *m) echo $(( ${1%m} * 60 ));; *) echo "$1";; esac; }
# window RUN SCENARIO START_EPOCH SECONDS: when a recorded wrk run happened, for the CPU accounting
window() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RES/windows.tsv"; }
ALL_SCENARIOS="health item_get items_list users_me items_post auth_login"
run_bench() { # NAME URL OUT.json [SCENARIOS]
  local name=$1 url=$2 out=$3 sc=${4:-$ALL_SCENARIOS} key blog rc=0 one parts=()
  key=$(basename "$out" .json); blog=$RES/$key.bench.log
  if [ "$SPLIT_SCENARIOS" != 1 ]; then
    SCENARIOS=$sc TARGET_NAME=$name timeout 300 "$BENCH_SH" "$url" "$out" 2>&1 | tee "$blog" >&2 || rc=$?
  else
    # one bench.sh call per scenario (each prepares its own user and items), waiting for a quiet
    # machine before each; the parts are merged into one file of bench.sh's format.
    # A run during which other processes took more than NOISE_MAX cores is done again (RETRIES).
    : >"$blog"; : >"${out%.json}.raw.txt"
    local attempt noise
    for one in $sc; do
      attempt=0
      while :; do
        attempt=$((attempt + 1))
        [ "$WAIT_FOR_QUIET" -gt 0 ] && wait_quiet >/dev/null
        SCENARIOS=$one TARGET_NAME=$name timeout 300 "$BENCH_SH" "$url" "$TMP/$key.$one.json" 2>&1 |
          tee "$TMP/$key.$one.log" >&2 || rc=$?
        sleep 1 # let the sampler pass the end of the run
        noise=$(noise_of "$(run_start "$TMP/$key.$one.log" "$one")" "$(scenario_secs "$one")")
        if awk -v n="$noise" -v m="$NOISE_MAX" 'BEGIN{exit !(n > m)}' && [ "$attempt" -le "$RETRIES" ]; then
          log "$key/$one: other processes took $noise cores during the run: again ($attempt of $RETRIES retries)"
          continue
        fi
        break
      done
      cat "$TMP/$key.$one.log" >>"$blog"
      if [ -s "$TMP/$key.$one.json" ]; then
        parts+=("$TMP/$key.$one.json"); cat "$TMP/$key.$one.raw.txt" >>"${out%.json}.raw.txt"
      fi
    done
    [ "${#parts[@]}" -gt 0 ] && jq -s '.[0] + {scenarios: (map(.scenarios) | add), prep_per_scenario: map(.prep)}' "${parts[@]}" >"$out"
  fi
  [ "$rc" = 0 ] || log "bench.sh for $name failed ($rc)"
  local scen
  for scen in $sc; do
    window "$key" "$scen" "$(run_start "$blog" "$scen")" "$(scenario_secs "$scen")"
  done
}
scenario_secs() { if [ "$1" = auth_login ]; then secs "$LOGIN_DURATION"; else secs "$DURATION"; fi; }
# run_start BENCH_LOG SCENARIO: epoch second at which bench.sh logged the start of the recorded run
# ("[bench 19:46:22] health: GET /health ..." is logged after the warm-up, as wrk starts); 0 if none
run_start() {
  local t
  t=$(grep -oE "^\[bench [0-9:]{8}\] $2: " "$1" | tail -1 | cut -c8-15)
  if [ -n "$t" ]; then date -d "$(date +%F) $t" +%s; else echo 0; fi
}
# noise_of START SECONDS: cores taken by other processes (+ steal) during that run, from the samples
noise_of() {
  awk -v from="$(( ($1 + 1) * 1000 ))" -v to="$(( ($1 + $2) * 1000 ))" -v tck="$(getconf CLK_TCK)" '
    /^#/ {next}
    $1 >= from && !a {a = 1; t0 = $1; b0 = $2; s0 = $3; p0 = $4; v0 = $5; w0 = $6; r0 = $7}
    $1 <= to {t1 = $1; b1 = $2; s1 = $3; p1 = $4; v1 = $5; w1 = $6; r1 = $7}
    END {
      if (!a || t1 - t0 < 1500) { print 0; exit }
      o = ((b1 - b0) - (p1 - p0) - (v1 - v0) - (w1 - w0) - (r1 - r0) + (s1 - s0)) / tck / ((t1 - t0) / 1000)
      printf "%.2f\n", (o < 0 ? 0 : o)
    }' "$RES/cpu-samples.txt"
}
# CPU accounting, one line a second: who used the cores (server under test, PostgreSQL, wrk, Redis,
# the rest). Per-process deltas (utime+stime) are summed, so processes that come and go (PostgreSQL
# backends, wrk) are counted while they live; the columns are running totals in jiffies, except
# server: the cumulative jiffies of the process named in $TMP/server.pid (server_pid).
# "redis" is every process whose comm is redis-server (the private one of the Redis pass and any other).
sampler() {
  echo "# epoch_ms busy steal postgres server wrk redis (jiffies, CLK_TCK=$(getconf CLK_TCK)); busy excludes idle, iowait and steal"
  set +e +o pipefail # runs in its own subshell; a process vanishing under cat is normal
  local prev=$TMP/sampler.prev cur=$TMP/sampler.cur pg=0 wk=0 rd=0 dpg dwk drd
  : >"$prev"
  while :; do
    local now stat; now=$(date +%s%3N); stat=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $9}' /proc/stat)
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v sp="$(cat "$TMP/server.pid" 2>/dev/null || echo 0)" \
      '$2=="(postgres)" || $2=="(wrk)" || $2=="(redis-server)" || $1==sp {print $1, ($1==sp ? "server" : $2), $14+$15}' >"$cur"
    read -r dpg dwk drd < <(awk 'NR==FNR{p[$1" "$2]=$3; next}
      {k=$1" "$2; d=$3-((k in p)?p[k]:0); if (d<0) d=0
       if ($2=="(postgres)") pg+=d; else if ($2=="(wrk)") w+=d; else if ($2=="(redis-server)") r+=d}
      END{print pg+0, w+0, r+0}' "$prev" "$cur")
    pg=$((pg + dpg)); wk=$((wk + dwk)); rd=$((rd + drd))
    printf '%s %s %s %s %s %s\n' "$now" "$stat" "$pg" "$(awk '$2=="server"{s+=$3} END{print s+0}' "$cur")" "$wk" "$rd"
    mv "$cur" "$prev"
    sleep 1
  done
}
server_pid() { echo "${1:-0}" >"$TMP/server.pid"; }

# --- build ----------------------------------------------------------------------------
log "building myapi, the Go baseline and bench/report into $TMP"
gobuild() { # DIR OUT PKG: one retry, as a build cache shared with concurrent builds can hiccup
  (cd "$1" && go build -trimpath -o "$2" "$3") || { log "go build $3 failed; retrying once"; (cd "$1" && go build -trimpath -o "$2" "$3"); }
}
gobuild "$ROOT" "$TMP/myapi" ./cmd/myapi
gobuild "$SHARED/bench/baseline" "$TMP/baseline" .
gobuild "$ROOT" "$TMP/report" ./bench/report

# wait_quiet: with WAIT_FOR_QUIET > 0, wait up to that long for the CPUs to be QUIET_IDLE % idle
# (called before each target); prints the idle % it last saw.
wait_quiet() {
  local idle deadline=$(( $(date +%s) + WAIT_FOR_QUIET ))
  idle=$(idle_pct)
  while [ "$WAIT_FOR_QUIET" -gt 0 ] && [ "$idle" -lt "$QUIET_IDLE" ] && [ "$(date +%s)" -lt "$deadline" ]; do
    log "CPUs only $idle % idle (want $QUIET_IDLE %): waiting"; sleep 5; idle=$(idle_pct)
  done
  echo "$idle"
}
IDLE_AT_START=$(wait_quiet)
log "CPUs $IDLE_AT_START % idle before the sitting"

# --- the sitting's description ------------------------------------------------------------
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) || GIT_REV=""
if [ -n "$GIT_REV" ] && [ -n "$(git -C "$ROOT" status --porcelain -- . ':!bench' 2>/dev/null | head -1)" ]; then
  GIT_REV+=" (+ uncommitted changes outside bench/)"
fi
PYV=$(/usr/bin/python3 -c 'import fastapi,uvicorn,sqlalchemy,pydantic,sys;print("python",sys.version.split()[0],"fastapi",fastapi.__version__,"uvicorn",uvicorn.__version__,"sqlalchemy",sqlalchemy.__version__,"pydantic",pydantic.VERSION)' 2>/dev/null || echo "python: n/a")
knobs=$(jq -n --arg THREADS "$THREADS" --arg CONNS "$CONNS" --arg DURATION "$DURATION" --arg LOGIN_CONNS "$LOGIN_CONNS" \
  --arg LOGIN_DURATION "$LOGIN_DURATION" --arg WARMUP "$WARMUP" --arg WRK_TIMEOUT "$WRK_TIMEOUT" --arg N_ITEMS "$N_ITEMS" \
  --arg MIX_SECONDS "$MIX_SECONDS" --arg HEALTH_CONNS "$HEALTH_CONNS" --arg HEALTH_DELAY_MS "$HEALTH_DELAY_MS" \
  --arg BCRYPT_COST "$BCRYPT_COST" '$ARGS.named')
jq -n --arg date "$(date -u +%FT%TZ)" --arg host "$(uname -n)" --arg kernel "$(uname -sr)" --argjson nproc "$(nproc)" \
  --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
  --arg mem "$(free -h | awk '/^Mem:/{print $2}')" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
  --arg go "$(go version | cut -d' ' -f3-)" --arg wrk "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)" --arg py "$PYV" \
  --arg pg "$(psql "$PG_ADMIN_URL" -tAc 'SHOW server_version' 2>/dev/null | sed 's/^/PostgreSQL /' || echo 'PostgreSQL n/a')" \
  --arg redis "$(redis-server --version 2>/dev/null | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^v=/) print "Redis " substr($i, 3)}' || true)" \
  --arg rev "$GIT_REV" --arg cmd "$CMD" --argjson knobs "$knobs" --argjson idle "$IDLE_AT_START" \
  '{date_utc:$date, cpu_idle_pct_before:$idle, host:$host, kernel:$kernel, nproc:$nproc, cpu_model:$cpu, mem_total:$mem, loadavg_before:$load,
    go:$go, wrk:$wrk, python:$py, postgres:$pg, redis:$redis, git_rev:$rev, command:$cmd, knobs:$knobs}' >"$RES/meta.json"

log "timing one bcrypt verification at cost $BCRYPT_COST (one core)"
"$TMP/report" bcrypt -cost "$BCRYPT_COST" -n 5 >"$RES/bcrypt.json"

server_pid 0
: >"$RES/windows.tsv"
sampler >"$RES/cpu-samples.txt" 2>/dev/null &
SAMPLER_PID=$!

# --- (a) bare Go baseline -------------------------------------------------------------------
if has baseline; then
  [ "$WAIT_FOR_QUIET" -gt 0 ] && wait_quiet >/dev/null
  "$TMP/baseline" -addr "127.0.0.1:$BASELINE_PORT" >"$RES/go-baseline.log" 2>&1 &
  BPID=$!; server_pid "$BPID"
  wait_healthy "http://127.0.0.1:$BASELINE_PORT" "$BPID" 10 || die "baseline did not start (see $RES/go-baseline.log)"
  log "(a) Go baseline (pid $BPID): health only"
  run_bench "go-baseline (stdlib net/http, GOMAXPROCS=$(nproc))" "http://127.0.0.1:$BASELINE_PORT" "$RES/go-baseline.json" health
  kill -TERM "$BPID"; wait "$BPID" 2>/dev/null || true; BPID=""; server_pid 0
fi

# --- (b) FastAPI seed, 1 worker -------------------------------------------------------------
if has seed || has myapi; then
  "$ANCHOR/services.sh" >/dev/null # PostgreSQL (and the seed's Redis) up; idempotent
fi
if has seed; then
  [ "$WAIT_FOR_QUIET" -gt 0 ] && wait_quiet >/dev/null
  SEED_DIR=$ANCHOR
  # run.sh writes logs/ and run/ next to itself: if shared/ is read-only, use a scratch copy.
  if ! { mkdir -p "$ANCHOR/logs" "$ANCHOR/run" && [ -w "$ANCHOR/logs" ] && [ -w "$ANCHOR/run" ]; } 2>/dev/null; then
    cp -r "$ANCHOR" "$TMP/fastapi-seed"; chmod -R u+w "$TMP/fastapi-seed"; SEED_DIR=$TMP/fastapi-seed
  fi
  SEED_STOP=$SEED_DIR/stop.sh
  SPID=$(RESET_DB=1 "$SEED_DIR/run.sh" "$SEED_PORT") || die "the seed did not start"
  server_pid "$SPID"
  log "(b) FastAPI seed, 1 worker (pid $SPID)"
  run_bench "fastapi-seed uvicorn 1 worker (uvloop+httptools)" "http://127.0.0.1:$SEED_PORT" "$RES/fastapi-seed-1w.json"
  peak=$(proc_kb VmHWM "$SPID"); rss=$(proc_kb VmRSS "$SPID"); thr=$(proc_kb Threads "$SPID")
  SLOG=$SEED_DIR/logs/uvicorn-$SEED_PORT.log
  "$SEED_STOP" "$SEED_PORT" >/dev/null; SPID=""; server_pid 0
  # uvicorn's access log: ... "GET /health HTTP/1.1" 200 OK
  bystatus=$(grep -oE 'HTTP/1\.[01]" [0-9]{3}' "$SLOG" | awk '{c[$2]++} END{for(k in c) printf "%s %d\n", k, c[k]}' |
    jq -Rn '[inputs | split(" ") | {(.[0]): (.[1]|tonumber)}] | add // {}')
  jq -n --argjson peak "${peak:-0}" --argjson rss "${rss:-0}" --argjson thr "${thr:-0}" --arg f "$SLOG" \
    --argjson lines "$(wc -l <"$SLOG")" --argjson bytes "$(stat -c %s "$SLOG")" --argjson bs "$bystatus" \
    --argjson tb "$(grep -c '^Traceback' "$SLOG" || true)" --argjson err "$(grep -ci 'error' "$SLOG" || true)" \
    --rawfile probs <(grep -iE -m 20 'traceback|error|exception' "$SLOG" || true) \
    '{target:"fastapi-seed", peak_rss_kb:$peak, rss_end_kb:$rss, threads:$thr,
      log:{file:$f, lines:$lines, bytes:$bytes, by_level:{Traceback:$tb, "lines with error":$err}, by_status:$bs,
           problems:($probs | split("\n") | map(select(length>0)))}}' >"$RES/fastapi-seed-extra.json"
fi

# --- (c) myapi on PostgreSQL, (d) peak RSS, (e) health during logins ---------------------------
if has myapi; then
  [ "$WAIT_FOR_QUIET" -gt 0 ] && wait_quiet >/dev/null
  log "fresh database $BENCH_DB"
  psql "$PG_ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" -c "CREATE DATABASE $BENCH_DB" >/dev/null
  DB_URL="${PG_ADMIN_URL%/*}/$BENCH_DB?sslmode=disable"
  mkdir -p "$TMP/myapi-cwd"
  # start_myapi PIDVAR PORT LOG [K=V ...]: a clean environment (env -i; ENV_FILE points nowhere, so
  # no developer .env is read) with production settings, the K=V last (they win); sets the variable
  # named PIDVAR (MPID or MOPID: cleanup stops both) and points the CPU sampler at the new process.
  start_myapi() {
    local pidvar=$1 port=$2 logf=$3 pid; shift 3
    # shellcheck disable=SC2086
    (cd "$TMP/myapi-cwd" && exec env -i PATH="$PATH" HOME="$TMP" \
      HOST=127.0.0.1 PORT="$port" DATABASE_URL="$DB_URL" ENV_FILE="$TMP/no-such.env" \
      SECRET_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" ENVIRONMENT=production EMAIL_ENABLED=false \
      LOG_LEVEL=INFO BCRYPT_COST="$BCRYPT_COST" DOCS_ENABLED=false \
      RATE_LIMIT_PER_MINUTE="$MYAPI_RATE_LIMIT" LOGIN_RATE_LIMIT_PER_MINUTE="$MYAPI_RATE_LIMIT" ${MYAPI_EXTRA_ENV:-} "$@" \
      "$TMP/myapi" serve) >"$logf" 2>&1 &
    pid=$!; printf -v "$pidvar" '%s' "$pid"; server_pid "$pid"
    wait_healthy "http://127.0.0.1:$port" "$pid" 60 || { tail -20 "$logf" >&2; die "myapi did not start (see $logf)"; }
  }
  # stop_myapi PIDVAR: SIGTERM, wait, forget the PID
  stop_myapi() {
    local pid=${!1}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
    printf -v "$1" '%s' ""; server_pid 0
  }
  # shorten_log FILE: unless KEEP_LOGS=1, keep the first lines and the warnings/errors only
  shorten_log() {
    [ "$KEEP_LOGS" != 1 ] || return 0
    { head -5 "$1"; echo "... ($(wc -l <"$1") lines; KEEP_LOGS=1 keeps them all) ..."
      grep -vE '"level":"(INFO|DEBUG)"' "$1" | head -20; } >"$TMP/short.log" || true
    mv "$TMP/short.log" "$1"
  }
  MLOG=$RES/myapi.log
  start_myapi MPID "$MYAPI_PORT" "$MLOG"
  MBASE=http://127.0.0.1:$MYAPI_PORT
  log "(c) myapi on PostgreSQL (pid $MPID)"
  run_bench "myapi on PostgreSQL (production, LOG_LEVEL=INFO to a file, BCRYPT_COST=$BCRYPT_COST)" "$MBASE" "$RES/myapi-pg.json"

  U="probe$(date +%s)$RANDOM" PW="benchpassword123"
  code=$(curl -s -o "$TMP/reg" -w '%{http_code}' -X POST "$MBASE/auth/register" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$U@example.com\",\"username\":\"$U\",\"password\":\"$PW\"}")
  [ "$code" = 201 ] || die "register $U -> $code: $(cat "$TMP/reg")"
  attempt=0
  while :; do
    attempt=$((attempt + 1))
    [ "$WAIT_FOR_QUIET" -gt 0 ] && wait_quiet >/dev/null
    log "(e) paced GET /health: idle ${IDLE_SECONDS}s, then during ${MIX_SECONDS}s of logins"
    t_idle=$(date +%s)
    paced_health "$MBASE" "$IDLE_SECONDS" "$TMP/idle.out"
    t_login=$(date +%s)
    WRK_METHOD=POST WRK_BODY="username=$U&password=$PW" WRK_CTYPE=application/x-www-form-urlencoded WRK_AUTH="" \
      wrk -t"$(( LOGIN_CONNS < THREADS ? LOGIN_CONNS : THREADS ))" -c"$LOGIN_CONNS" -d"$((MIX_SECONDS + 2))s" \
      --timeout "$WRK_TIMEOUT" -s "$SCEN_LUA" "$MBASE/auth/login" >"$TMP/mixlogin.out" 2>&1 &
    WPIDS+=($!)
    sleep 1 # logins are running: probe inside their window
    t_mix=$(date +%s)
    paced_health "$MBASE" "$MIX_SECONDS" "$TMP/mixhealth.out"
    wait "${WPIDS[@]}" || true; WPIDS=()
    sleep 1
    noise=$(noise_of "$t_mix" "$MIX_SECONDS")
    if [ "$SPLIT_SCENARIOS" = 1 ] && [ "$attempt" -le "$RETRIES" ] && awk -v n="$noise" -v m="$NOISE_MAX" 'BEGIN{exit !(n > m)}'; then
      log "mixed run: other processes took $noise cores: again ($attempt of $RETRIES retries)"
      sleep 2 # the logins still queued were cancelled when wrk closed its connections
      continue
    fi
    break
  done
  window myapi-extra health_idle "$t_idle" "$IDLE_SECONDS"
  window myapi-extra mixed_login "$t_login" "$((MIX_SECONDS + 2))"
  window myapi-extra mixed_health "$t_mix" "$MIX_SECONDS"
  { echo "=== health probe idle"; cat "$TMP/idle.out"; echo "=== logins"; cat "$TMP/mixlogin.out"
    echo "=== health probe during logins"; cat "$TMP/mixhealth.out"; } >"$RES/myapi-mixed.raw.txt"

  # (d) VmHWM is the peak resident set of the process over its whole life.
  peak=$(proc_kb VmHWM "$MPID"); rss=$(proc_kb VmRSS "$MPID"); thr=$(proc_kb Threads "$MPID")
  t0=$(date +%s.%N)
  kill -TERM "$MPID"; set +e; wait "$MPID"; ec=$?; set -e; MPID=""; server_pid 0
  stop_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b - a}')

  bylevel=$(grep -oE '"level":"[A-Z]+"' "$MLOG" | cut -d'"' -f4 | sort | uniq -c |
    jq -Rn '[inputs | ltrimstr(" ") | capture("^ *(?<n>[0-9]+) (?<k>.+)$") | {(.k): (.n|tonumber)}] | add // {}')
  bystatus=$(grep -oE '"status":[0-9]{3}' "$MLOG" | cut -d: -f2 | sort | uniq -c |
    jq -Rn '[inputs | capture("^ *(?<n>[0-9]+) (?<k>.+)$") | {(.k): (.n|tonumber)}] | add // {}')
  jq -n --argjson peak "${peak:-0}" --argjson rss "${rss:-0}" --argjson thr "${thr:-0}" \
    --argjson idle "$(wrk_scenario health_idle "$HEALTH_CONNS" "${IDLE_SECONDS}s" "$TMP/idle.out")" \
    --argjson ml "$(wrk_scenario mixed_login "$LOGIN_CONNS" "$((MIX_SECONDS + 2))s" "$TMP/mixlogin.out")" \
    --argjson mh "$(wrk_scenario mixed_health "$HEALTH_CONNS" "${MIX_SECONDS}s" "$TMP/mixhealth.out")" \
    --arg f "$MLOG" --argjson lines "$(wc -l <"$MLOG")" --argjson bytes "$(stat -c %s "$MLOG")" \
    --argjson bl "$bylevel" --argjson bs "$bystatus" --argjson ec "$ec" --arg stop "$stop_s" \
    --rawfile probs <(grep -vE '"level":"(INFO|DEBUG)"' "$MLOG" | head -20 || true) \
    '{target:"myapi", peak_rss_kb:$peak, rss_end_kb:$rss, threads:$thr, health_idle:$idle, mixed_login:$ml, mixed_health:$mh,
      log:{file:$f, lines:$lines, bytes:$bytes, by_level:$bl, by_status:$bs, problems:($probs | split("\n") | map(select(length>0)))},
      exit_code:$ec, stop_seconds:($stop|tonumber? // null)}' >"$RES/myapi-extra.json"
  if [ "$KEEP_LOGS" != 1 ]; then
    { head -5 "$MLOG"; echo "... ($(wc -l <"$MLOG") lines; KEEP_LOGS=1 keeps them all) ..."; tail -5 "$MLOG"; } >"$MLOG.short"
    mv "$MLOG.short" "$MLOG"
  fi
  log "myapi: peak RSS $((peak / 1024)) MiB, exit $ec"

  # myapi caches GET /items/{id} and GET /items responses (CACHE_TTL_SECONDS, default 60 s, in
  # process without REDIS_URL): the runs above measure cache hits. The same two scenarios again
  # on a server with the cache off show the cost of the database path.
  if [ "$CACHE_OFF_PASS" = 1 ]; then
    [ "$WAIT_FOR_QUIET" -gt 0 ] && wait_quiet >/dev/null
    start_myapi MPID "$MYAPI_PORT" "$RES/myapi-nocache.log" CACHE_TTL_SECONDS=0
    log "(c') myapi with CACHE_TTL_SECONDS=0 (pid $MPID): item_get, items_list"
    run_bench "myapi on PostgreSQL, response cache off (CACHE_TTL_SECONDS=0)" "$MBASE" "$RES/myapi-pg-nocache.json" "item_get items_list"
    stop_myapi MPID
    shorten_log "$RES/myapi-nocache.log"
  fi

  # (c'') The same reads with REDIS_URL (issue 3, point 5): the response cache lives in a private
  # redis-server, and the rate limiter counts there on every limited request. GET /health is never
  # rate limited (internal/httpapi/limits.go), so its run is the control: Redis connected, unused.
  if [ "$REDIS_PASS" = 1 ]; then
    [ "$WAIT_FOR_QUIET" -gt 0 ] && wait_quiet >/dev/null
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >"$RES/redis.log" 2>&1 &
    RPID=$!
    for _ in $(seq 1 50); do
      if redis_ping "$REDIS_PORT" || ! kill -0 "$RPID" 2>/dev/null; then break; fi
      sleep 0.1
    done
    redis_ping "$REDIS_PORT" || { tail -5 "$RES/redis.log" >&2; die "redis-server did not answer on port $REDIS_PORT (see $RES/redis.log)"; }
    REDIS_URL_BENCH=redis://127.0.0.1:$REDIS_PORT/0
    start_myapi MPID "$MYAPI_PORT" "$RES/myapi-redis.log" REDIS_URL="$REDIS_URL_BENCH"
    log "(c'') myapi with REDIS_URL=$REDIS_URL_BENCH (pid $MPID; redis-server pid $RPID): health, item_get, items_list"
    # Before the runs: the second GET of an item (and of the list page wrk reads) is a cache hit.
    # The cache key of a list is its query, so check the very page of items_list.
    checks=()
    item_id=$(curl -fsS -m 5 "$MBASE/items?skip=0&limit=1" 2>/dev/null | jq -r '.[0].id // empty' 2>/dev/null || true)
    if [ -z "$item_id" ]; then
      # an empty database (a partial sitting): one user, one item
      U="rprobe$(date +%s)$RANDOM"
      curl -fsS -m 10 -o /dev/null -X POST "$MBASE/auth/register" -H 'Content-Type: application/json' \
        -d "{\"email\":\"$U@example.com\",\"username\":\"$U\",\"password\":\"$PW\"}" || true
      tok=$(curl -fsS -m 10 -X POST "$MBASE/auth/login" --data-urlencode "username=$U" --data-urlencode "password=$PW" |
        jq -r '.access_token // empty' || true)
      item_id=$(curl -fsS -m 10 -X POST "$MBASE/items" -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
        -d '{"title":"redis probe","price":1.5}' | jq -r '.id // empty' || true)
    fi
    for pair in "item_get /items/${item_id:-1}" "items_list /items?skip=0&limit=10"; do
      checks+=("$(xcache_check "${pair%% *}" "$MBASE" "${pair#* }")")
    done
    log "X-Cache check: $(printf '%s\n' "${checks[@]}" | jq -rs 'map("\(.path): \(.status | map(tostring) | join("/")) \(.x_cache | join(", then "))") | join("; ")')"
    run_bench "myapi on PostgreSQL, cache and rate limits in Redis (REDIS_URL)" "$MBASE" "$RES/myapi-pg-redis.json" "health item_get items_list"
    # After the runs: myapi's cache counters (hit, miss, bypass = Redis unavailable, error) and Redis's.
    mtext=$(curl -fsS -m 5 "$MBASE/metrics" 2>/dev/null) || mtext=""
    lookups=$(sed -nE 's/^myapi_cache_requests_total\{result="([a-z]+)"\} ([0-9.e+]+)$/\1 \2/p' <<<"$mtext" |
      jq -Rn '[inputs | split(" ") | {(.[0]): (.[1] | tonumber)}] | add // {}')
    rstats=$(redis_info "$REDIS_PORT")
    rpeak=$(proc_kb VmHWM "$MPID")
    # myapi's start-up line {"msg":"cache","store":"redis",...} says where the cache lived
    store=$(grep -m1 '"msg":"cache"' "$RES/myapi-redis.log" | jq -r '.store // empty' 2>/dev/null || true)
    stop_myapi MPID
    kill -TERM "$RPID" 2>/dev/null || true; wait "$RPID" 2>/dev/null || true; RPID=""
    printf '%s\n' "${checks[@]}" | jq -s --arg url "$REDIS_URL_BENCH" --argjson lk "$lookups" --argjson rs "$rstats" \
      --argjson peak "${rpeak:-0}" --arg v "$(redis-server --version | awk '{print $3}')" --arg store "$store" \
      '{target:"myapi-redis", redis_url:$url, redis_server:$v, cache_store:$store, xcache_check:., cache_lookups:$lk,
        redis_stats:$rs, peak_rss_kb:$peak}' >"$RES/myapi-redis-extra.json"
    shorten_log "$RES/myapi-redis.log"
  fi

  # (f) What metrics and the INFO access log cost on GET /health (issue 4, point 7): two processes
  # at once, the usual settings (ON) and METRICS_ENABLED=false LOG_LEVEL=WARNING (OFF), and the
  # health runs alternate between them (ON, OFF, then OFF, ON, ...) so that slow drift in the machine's
  # noise hits both alike. Every run is recorded (myapi-obs-on-1.json, myapi-obs-off-1.json, ...).
  if [ "$OBS_AB_ROUNDS" -gt 0 ]; then
    [ "$WAIT_FOR_QUIET" -gt 0 ] && wait_quiet >/dev/null
    ON_ENV="METRICS_ENABLED=true LOG_LEVEL=INFO" OFF_ENV="METRICS_ENABLED=false LOG_LEVEL=WARNING"
    # shellcheck disable=SC2086
    start_myapi MPID "$MYAPI_PORT" "$RES/myapi-obs-on.log" $ON_ENV
    # shellcheck disable=SC2086
    start_myapi MOPID "$MYAPI_PORT_OFF" "$RES/myapi-obs-off.log" $OFF_ENV
    OFF_BASE=http://127.0.0.1:$MYAPI_PORT_OFF
    on_m=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$MBASE/metrics" || true)
    off_m=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$OFF_BASE/metrics" || true)
    log "(f) GET /health ON (pid $MPID, :$MYAPI_PORT, $ON_ENV; GET /metrics $on_m) vs OFF (pid $MOPID, :$MYAPI_PORT_OFF, $OFF_ENV; GET /metrics $off_m), $OBS_AB_ROUNDS rounds"
    ab_runs=()
    for round in $(seq 1 "$OBS_AB_ROUNDS"); do
      # ON first in odd rounds, OFF first in even ones (ABBA): a steady drift in the machine's
      # noise then weighs on both arms alike.
      arms="on off"; [ $((round % 2)) = 0 ] && arms="off on"
      for arm in $arms; do
        if [ "$arm" = on ]; then pid=$MPID url=$MBASE; else pid=$MOPID url=$OFF_BASE; fi
        server_pid "$pid" # the CPU sampler follows the process under load
        # with SPLIT_SCENARIOS=1 run_bench waits for a quiet machine (and repeats a noisy run) itself
        if [ "$SPLIT_SCENARIOS" != 1 ] && [ "$WAIT_FOR_QUIET" -gt 0 ]; then wait_quiet >/dev/null; fi
        log "(f) round $round of $OBS_AB_ROUNDS: $arm"
        run_bench "myapi metrics + logging ${arm^^} (round $round)" "$url" "$RES/myapi-obs-$arm-$round.json" health
        ab_runs+=("$(jq -n --arg a "$arm" --argjson r "$round" --arg f "myapi-obs-$arm-$round.json" '{arm:$a, round:$r, file:$f}')")
      done
    done
    server_pid 0
    arm_json() { # ARM PORT SETTINGS METRICS_STATUS PID LOG
      jq -n --arg arm "$1" --argjson port "$2" --arg env "$3" --arg ms "$4" --argjson pid "$5" \
        --argjson lines "$(wc -l <"$6")" --argjson bytes "$(stat -c %s "$6")" --argjson peak "$(proc_kb VmHWM "$5")" \
        '{arm:$arm, port:$port, settings:$env, metrics_status:($ms | tonumber? // 0), pid:$pid, log_lines:$lines,
          log_bytes:$bytes, peak_rss_kb:($peak // 0)}'
    }
    printf '%s\n' "${ab_runs[@]}" | jq -s --argjson rounds "$OBS_AB_ROUNDS" \
      --argjson on "$(arm_json on "$MYAPI_PORT" "$ON_ENV" "$on_m" "$MPID" "$RES/myapi-obs-on.log")" \
      --argjson off "$(arm_json off "$MYAPI_PORT_OFF" "$OFF_ENV" "$off_m" "$MOPID" "$RES/myapi-obs-off.log")" \
      '{rounds:$rounds, scenario:"health", arms:{on:$on, off:$off}, runs:.}' >"$RES/myapi-obs-ab.json"
    stop_myapi MPID; stop_myapi MOPID
    shorten_log "$RES/myapi-obs-on.log"; shorten_log "$RES/myapi-obs-off.log"
  fi
fi

kill -TERM "$SAMPLER_PID" 2>/dev/null || true; wait "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=""

# --- report ---------------------------------------------------------------------------------
END_S=$(date +%s)
jq --arg fin "$(date -u +%FT%TZ)" --argjson el "$((END_S - START_S))" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
  '. + {finished_utc:$fin, elapsed_s:$el, loadavg_after:$load}' "$RES/meta.json" >"$TMP/meta.json" && mv "$TMP/meta.json" "$RES/meta.json"
"$TMP/report" summarize -dir "$RES" -o "$RESULTS_MD" -notes "$HERE/NOTES.md"
log "done in $((END_S - START_S)) s: $RESULTS_MD"
