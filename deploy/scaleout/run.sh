#!/usr/bin/env bash
# Scale-out test on loopback (issue 6): Debian's nginx with deploy/nginx.conf
# in front of TWO myapi processes sharing PostgreSQL and Redis.
#
#   deploy/scaleout/run.sh            (as root; .ci/run runs it)
#
# It installs what it lacks with apt-get (nginx, wrk), builds myapi with
# deploy/build.sh (or takes MYAPI_BIN), then, bounded by SCALEOUT_TIMEOUT
# seconds (default 225), checks:
#   - both instances started at once apply the migrations exactly once;
#   - register and log in through nginx (HTTPS), tokens good on both;
#   - a write through one instance is read fresh through the other;
#   - nginx: X-Request-ID, HTTP->HTTPS + ACME webroot, /metrics closed,
#     gzip, the 1 MiB body limit, client X-Forwarded-For not believed;
#   - rate limits count requests to both instances (Redis);
#   - SIGTERM to one instance under load through nginx: no failed request;
#   - SIGKILL to one instance under load: GETs keep succeeding;
#   - PostgreSQL stopped under load: 503s with a `detail`, none slower than
#     REQUEST_TIMEOUT; restarted: recovery without restarting myapi, and
#     every write acknowledged with a 2xx is still there.
# It prints a summary table and exits non-zero if any check failed. A check
# that needs a part still being built says PENDING (not a pass, not a fail).
#
# Only loopback addresses are used. The shared PostgreSQL at 127.0.0.1:5432
# (user postgres, trust) gets a fresh database, dropped at the end; Redis at
# 127.0.0.1:6379 is used in database SCALEOUT_REDIS_DB (default 13, flushed
# at start and end: keep it for this test). The PostgreSQL-outage phases run
# on a PRIVATE cluster (initdb in a temporary directory, its own port):
# the machine's cluster is never stopped. Everything started is stopped by
# the exit trap; SCALEOUT_KEEP=1 keeps the temporary directory (logs).
# shellcheck disable=SC2317  # functions called through traps and by name
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

TIME_LIMIT=${SCALEOUT_TIMEOUT:-300}
PG_HOST=127.0.0.1
PG_PORT=${SCALEOUT_PG_PORT:-5432}
PG_USER=postgres
REDIS_PORT=${SCALEOUT_REDIS_PORT:-6379}
REDIS_DB=${SCALEOUT_REDIS_DB:-13}

# Limits of the first phases (low on purpose; later phases turn them off).
RATE_LIMIT=30
LOGIN_LIMIT=5
REQUEST_TIMEOUT_S=5
SHUTDOWN_TIMEOUT_S=10
# SIGTERM first drains this long (readiness 503, Connection: close), so
# nginx stops reusing keep-alive connections before myapi closes them: a
# POST sent on one as it closed was a 502 (check 7). Check 7's SIGTERM
# comes 3 s into an 8 s load, so drain and exit happen under load.
SHUTDOWN_DRAIN_DELAY_S=2

log() { printf '%s  %s\n' "$(date +%T)" "$*"; }
die() { echo "scaleout: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }

# ---------------------------------------------------------------------------
# Outside the time limit: packages and the build.
if [ -z "${SCALEOUT_INNER:-}" ]; then
  [ "$(id -u)" = 0 ] || die "run as root (it installs packages and runs PostgreSQL as the postgres user)"
  need=()
  command -v nginx >/dev/null || need+=(nginx)
  command -v wrk >/dev/null || need+=(wrk)
  command -v jq >/dev/null || need+=(jq)
  command -v curl >/dev/null || need+=(curl)
  command -v openssl >/dev/null || need+=(openssl)
  command -v envsubst >/dev/null || need+=(gettext-base)
  command -v file >/dev/null || need+=(file)
  command -v redis-cli >/dev/null || need+=(redis-tools)
  command -v psql >/dev/null || need+=(postgresql-client)
  command -v ss >/dev/null || need+=(iproute2)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    # Debian's nginx package starts a system nginx on port 80 after
    # installing it; a policy-rc.d that says "no" stops that (only if the
    # machine has none: an existing one is left as it is).
    made_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
      chmod 755 /usr/sbin/policy-rc.d
      made_policy=1
    fi
    apt-get update -qq || die "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
      || { [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d; die "apt-get install ${need[*]}"; }
    [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
  fi
  ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"

  if [ -z "${MYAPI_BIN:-}" ]; then
    MYAPI_BIN=$(mktemp /tmp/myapi-scaleout-bin.XXXXXX)
    export PATH="$PATH:/usr/local/go/bin"
    log "building $MYAPI_BIN with deploy/build.sh"
    deploy/build.sh "$MYAPI_BIN" >/dev/null
    export SCALEOUT_REMOVE_BIN=1
  fi
  MYAPI_BIN=$(realpath "$MYAPI_BIN")
  # The rolling deploy (check 12) goes from MYAPI_BIN to a second build
  # stamped with another version, and back.
  MYAPI_BIN2=$(mktemp /tmp/myapi-scaleout-bin2.XXXXXX)
  log "building $MYAPI_BIN2 (version scaleout-v2) with deploy/build.sh"
  PATH="$PATH:/usr/local/go/bin" VERSION=scaleout-v2 COMMIT=scaleout-v2 deploy/build.sh "$MYAPI_BIN2" >/dev/null
  LOADGEN_BIN=$(mktemp /tmp/myapi-scaleout-loadgen.XXXXXX)
  PATH="$PATH:/usr/local/go/bin" go build -o "$LOADGEN_BIN" ./deploy/scaleout/loadgen
  export MYAPI_BIN MYAPI_BIN2 LOADGEN_BIN SCALEOUT_INNER=1
  log "running the scale-out test (at most ${TIME_LIMIT}s)"
  set +e
  # timeout sends SIGTERM to the test's whole process group at the limit;
  # the test's trap then stops everything it started.
  timeout -k 30 "$TIME_LIMIT" bash "$ROOT/deploy/scaleout/run.sh" "$@"
  rc=$?
  set -e
  rm -f "$LOADGEN_BIN" "$MYAPI_BIN2"
  [ -z "${SCALEOUT_REMOVE_BIN:-}" ] || rm -f "$MYAPI_BIN"
  [ $rc -ne 124 ] || echo "scaleout: FAILED: the time limit (${TIME_LIMIT}s) ran out" >&2
  exit $rc
fi

# ---------------------------------------------------------------------------
# The test itself.
T0=$(date +%s)
WORK=$(mktemp -d /tmp/myapi-scaleout.XXXXXX)
chmod 755 "$WORK"
SHARED_DB="myapi_scaleout_$$"
PG_BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)
PRIV_PGDATA="$WORK/pgdata"
PRIV_PG_PORT=""
NGINX_PID=""
LOAD_PIDS=()  # wrk and loadgen runs (bounded by their own -d/-duration)
declare -A INST_PID=() INST_PORT=() INST_BIN=()
SECRET_KEY=$(openssl rand -hex 32)

# --- results -----------------------------------------------------------------
CHECKS=() RESULTS=() NOTES=()
FAILED=0 PENDING=0
check() { # check NAME PASS|FAIL|PENDING NOTE
  CHECKS+=("$1") RESULTS+=("$2") NOTES+=("$3")
  case $2 in
    FAIL) FAILED=$((FAILED + 1)) ;;
    PENDING) PENDING=$((PENDING + 1)) ;;
  esac
  log "[$2] $1 — $3"
}
summary() {
  local i w=5
  for i in "${!CHECKS[@]}"; do [ ${#CHECKS[$i]} -le $w ] || w=${#CHECKS[$i]}; done
  echo
  echo "=== scale-out summary ($(( $(date +%s) - T0 ))s)"
  printf '%-3s %-*s  %-7s  %s\n' "#" "$w" "check" "result" "detail"
  printf '%-3s %-*s  %-7s  %s\n' "---" "$w" "$(printf '%*s' "$w" '' | tr ' ' -)" "-------" "------"
  for i in "${!CHECKS[@]}"; do
    printf '%-3s %-*s  %-7s  %s\n' "$((i + 1))" "$w" "${CHECKS[$i]}" "${RESULTS[$i]}" "${NOTES[$i]}"
  done
  local passed=$(( ${#CHECKS[@]} - FAILED - PENDING ))
  echo
  echo "scaleout: $passed passed, $FAILED failed, $PENDING pending"
}

# --- cleanup -----------------------------------------------------------------
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  for p in "${LOAD_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for n in "${!INST_PID[@]}"; do kill -TERM "${INST_PID[$n]}" 2>/dev/null; done
  [ -z "$NGINX_PID" ] || kill -TERM "$NGINX_PID" 2>/dev/null
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    alive=0
    for n in "${!INST_PID[@]}"; do kill -0 "${INST_PID[$n]}" 2>/dev/null && alive=1; done
    [ -n "$NGINX_PID" ] && kill -0 "$NGINX_PID" 2>/dev/null && alive=1
    [ $alive = 1 ] || break
    sleep 0.5
  done
  for n in "${!INST_PID[@]}"; do kill -KILL "${INST_PID[$n]}" 2>/dev/null; done
  [ -z "$NGINX_PID" ] || kill -KILL "$NGINX_PID" 2>/dev/null
  if [ -f "$PRIV_PGDATA/postmaster.pid" ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PRIV_PGDATA" -m immediate -w stop >/dev/null 2>&1
  fi
  psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "DROP DATABASE IF EXISTS $SHARED_DB WITH (FORCE)" >/dev/null 2>&1
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -n "$REDIS_DB" FLUSHDB >/dev/null 2>&1
  [ ${#CHECKS[@]} -eq 0 ] || summary
  if [ $rc -ne 0 ] || [ $FAILED -ne 0 ] || [ -n "${SCALEOUT_KEEP:-}" ]; then
    echo "scaleout: logs kept in $WORK"
  else
    rm -rf "$WORK"
  fi
  if [ $rc -eq 0 ] && [ $FAILED -ne 0 ]; then rc=1; fi
  exit $rc
}
# From here on, a fatal error is also a failed check in the table.
die() { check "test aborted" FAIL "$*"; exit 1; }
trap cleanup EXIT
trap 'echo "scaleout: interrupted" >&2; exit 130' INT
trap 'check "time limit" FAIL "stopped by SIGTERM (the ${TIME_LIMIT} s limit, SCALEOUT_TIMEOUT, or a user)"; exit 124' TERM

# --- helpers -------------------------------------------------------------------
USED_PORTS=" "
# Listening ports come from below the kernel's ephemeral range, so that no
# outgoing connection (pgx, wrk, nginx) holds one as its local port.
read -r EPHEMERAL_LOW _ < /proc/sys/net/ipv4/ip_local_port_range
PORT_LOW=15000 PORT_HIGH=$((EPHEMERAL_LOW - 1))
[ "$PORT_HIGH" -gt $((PORT_LOW + 1000)) ] || PORT_LOW=1025
pick_port() { # pick_port VAR: a loopback TCP port no socket uses
  local p
  for _ in $(seq 1 200); do
    p=$((PORT_LOW + RANDOM % (PORT_HIGH - PORT_LOW)))
    case $USED_PORTS in *" $p "*) continue ;; esac
    if [ -z "$(ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null)" ] \
      && ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      USED_PORTS+="$p "
      printf -v "$1" '%s' "$p"
      return 0
    fi
  done
  die "no free port"
}

# start_instance NAME DATABASE_URL [VAR=value...]: myapi serve on a spare
# port, settings only from what is given here (no .env, no inherited env).
start_instance() {
  local name=$1 dburl=$2 port dir
  shift 2
  if [ -z "${INST_PORT[$name]:-}" ]; then pick_port port; INST_PORT[$name]=$port; fi
  port=${INST_PORT[$name]}
  dir="$WORK/$name"
  mkdir -p "$dir"
  (cd "$dir" && exec env -i PATH=/usr/bin:/bin HOME="$dir" \
    ENVIRONMENT=production SECRET_KEY="$SECRET_KEY" HOST=127.0.0.1 PORT="$port" \
    DATABASE_URL="$dburl" REDIS_URL="redis://127.0.0.1:$REDIS_PORT/$REDIS_DB" \
    TRUSTED_PROXIES=127.0.0.1 LOG_FORMAT=json LOG_LEVEL=INFO BCRYPT_COST=4 EMAIL_ENABLED=false \
    DB_POOL_SIZE=4 DB_MAX_OVERFLOW=4 \
    REQUEST_TIMEOUT="${REQUEST_TIMEOUT_S}s" SHUTDOWN_TIMEOUT="${SHUTDOWN_TIMEOUT_S}s" \
    SHUTDOWN_DRAIN_DELAY="${SHUTDOWN_DRAIN_DELAY_S}s" \
    "$@" "${INST_BIN[$name]:-$MYAPI_BIN}" serve >>"$dir/myapi.log" 2>&1) &
  INST_PID[$name]=$!
}

wait_ready() { # wait_ready NAME [seconds]: /health/ready answers 200
  local name=$1 limit=${2:-30} i
  for ((i = 0; i < limit * 5; i++)); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:${INST_PORT[$name]}/health/ready")" = 200 ]; then
      return 0
    fi
    kill -0 "${INST_PID[$name]}" 2>/dev/null || { echo "myapi $name exited:"; tail -20 "$WORK/$name/myapi.log"; return 1; }
    sleep 0.2
  done
  echo "myapi $name not ready after ${limit}s:"; tail -20 "$WORK/$name/myapi.log"
  return 1
}

stop_instance() { # stop_instance NAME SIGNAL: waits for the exit, sets STOP_RC
  local name=$1 sig=$2 pid=${INST_PID[$1]}
  kill "-$sig" "$pid"
  set +e
  { wait "$pid"; } 2>/dev/null  # no "Killed" job message
  STOP_RC=$?
  set -e
  unset "INST_PID[$name]"
}

# HTTP through nginx (https, verified with the test CA) or to an instance.
NGX=""       # https://127.0.0.1:PORT, set below
NGX_HTTP=""  # http://127.0.0.1:PORT
inst() { echo "http://127.0.0.1:${INST_PORT[$1]}"; }
# req METHOD URL [curl args...]: prints the status; body in $WORK/body,
# headers in $WORK/headers.
req() {
  local method=$1 url=$2
  shift 2
  curl -s --cacert "$WORK/tls/fullchain.pem" --max-time 15 -X "$method" -o "$WORK/body" \
    -D "$WORK/headers" -w '%{http_code}' "$@" "$url" || echo 000
}
header() { grep -i "^$1:" "$WORK/headers" | head -1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'; }
body() { cat "$WORK/body"; }
jbody() { jq -r "$1" "$WORK/body" 2>/dev/null; }

psql_shared() { psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$SHARED_DB" -tAqc "$1"; }
psql_priv() { psql -h 127.0.0.1 -p "$PRIV_PG_PORT" -U postgres -d myapi -tAqc "$1"; }

# ---------------------------------------------------------------------------
log "work directory $WORK; myapi $("$MYAPI_BIN" version)"

# 1. The binary is static (the Dockerfile's build command, run outside Docker).
if file "$MYAPI_BIN" | grep -q 'statically linked' && ! ldd "$MYAPI_BIN" >/dev/null 2>&1; then
  check "static binary (deploy/build.sh)" PASS "file: statically linked; ldd: not a dynamic executable"
else
  check "static binary (deploy/build.sh)" FAIL "$(file -b "$MYAPI_BIN" | cut -c1-80)"
fi

# --- services: shared PostgreSQL (fresh database), Redis (own DB number)
pg_isready -q -h "$PG_HOST" -p "$PG_PORT" || die "PostgreSQL is not answering at $PG_HOST:$PG_PORT"
psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "CREATE DATABASE $SHARED_DB" >/dev/null
[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] || die "Redis is not answering at 127.0.0.1:$REDIS_PORT"
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -n "$REDIS_DB" FLUSHDB >/dev/null
SHARED_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$SHARED_DB?sslmode=disable"

# --- TLS certificate for 127.0.0.1 (self-signed, this run only), ACME webroot
mkdir -p "$WORK/tls" "$WORK/acme/.well-known/acme-challenge" "$WORK/nginx"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$WORK/tls/privkey.pem" -out "$WORK/tls/fullchain.pem" 2>/dev/null
echo "acme-token-$$" > "$WORK/acme/.well-known/acme-challenge/scaleout-token"

# --- 2. two instances started at the same moment on a fresh database
pick_port A_PORT; INST_PORT[a]=$A_PORT
pick_port B_PORT; INST_PORT[b]=$B_PORT
limits=("RATE_LIMIT_PER_MINUTE=$RATE_LIMIT" "LOGIN_RATE_LIMIT_PER_MINUTE=$LOGIN_LIMIT" AUTO_MIGRATE=true)
start_instance a "$SHARED_URL" "${limits[@]}"
start_instance b "$SHARED_URL" "${limits[@]}"
wait_ready a || die "instance a did not start"
wait_ready b || die "instance b did not start"

expected_migrations=$(find migrations/postgres -name '*.sql' | wc -l)
rows=$(psql_shared "SELECT count(*) FROM goose_db_version WHERE version_id > 0")
distinct=$(psql_shared "SELECT count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0")
# Count only myapi's own (goose) files: River's queue migrations are logged
# as "river NNN …" and versioned in River's own table.
applied_a=$(grep '"migration applied"' "$WORK/a/myapi.log" | grep -c '"source":"[0-9]*_.*\.sql"' || true)
applied_b=$(grep '"migration applied"' "$WORK/b/myapi.log" | grep -c '"source":"[0-9]*_.*\.sql"' || true)
if [ "$rows" = "$expected_migrations" ] && [ "$distinct" = "$rows" ] && [ $((applied_a + applied_b)) = "$expected_migrations" ]; then
  check "migrations applied once (2 instances at once)" PASS "goose_db_version: $rows row(s), no duplicate; applied by a: $applied_a, b: $applied_b"
else
  check "migrations applied once (2 instances at once)" FAIL "files: $expected_migrations, rows: $rows, distinct: $distinct, applied by a: $applied_a, b: $applied_b"
fi

# --- nginx: render deploy/nginx.conf for loopback ports and these 2 instances
render_nginx() { # render_nginx [NAME...]: upstream of those instances (default a b)
  local names=("$@") n
  [ $# -gt 0 ] || names=(a b)
  (
    NGINX_UPSTREAM_SERVERS=""
    for n in "${names[@]}"; do
      NGINX_UPSTREAM_SERVERS+="server 127.0.0.1:${INST_PORT[$n]} max_fails=0;
        "
    done
    export NGINX_UPSTREAM_SERVERS
    export NGINX_HTTP_PORT=$NGX_HTTP_PORT NGINX_HTTPS_PORT=$NGX_HTTPS_PORT SERVER_NAME=localhost
    export TLS_CERT_DIR="$WORK/tls" ACME_WEBROOT="$WORK/acme"
    # The load generators run from 127.0.0.1: exempt from the per-IP edge
    # limits, which check 11 tests from another loopback address.
    export NGINX_LIMIT_EXEMPT="127.0.0.1 1;"
    # shellcheck disable=SC2016  # envsubst's list of names, not expansions
    envsubst '${NGINX_HTTP_PORT} ${NGINX_HTTPS_PORT} ${SERVER_NAME} ${NGINX_UPSTREAM_SERVERS} ${TLS_CERT_DIR} ${ACME_WEBROOT} ${NGINX_LIMIT_EXEMPT}' \
      < deploy/nginx.conf > "$WORK/nginx/nginx.conf"
    # nginx before 1.25.1 (Debian 12 has 1.22) knows HTTP/2 only as a
    # parameter of listen, not as the `http2 on;` directive compose's 1.28
    # reads.
    if ! nginx_at_least 1.25.1; then
      sed -i -e '/^ *http2 on;$/d' -e 's/^\( *listen [^;]* ssl\) default_server;/\1 http2 default_server;/' "$WORK/nginx/nginx.conf"
    fi
  )
}
nginx_at_least() { # nginx_at_least VERSION: the installed nginx is VERSION or later
  local have
  have=$(nginx -v 2>&1 | sed 's/.*nginx\///; s/ .*//')
  [ "$(printf '%s\n%s\n' "$1" "$have" | sort -V | head -1)" = "$1" ]
}
pick_port NGX_HTTP_PORT
pick_port NGX_HTTPS_PORT
NGX="https://127.0.0.1:$NGX_HTTPS_PORT"
NGX_HTTP="http://127.0.0.1:$NGX_HTTP_PORT"
render_nginx
# Own prefix, pid and logs: the system's nginx (if any) is not touched.
NGINX_ARGS=(-p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log"
  -g "pid $WORK/nginx/nginx.pid; user www-data; daemon off;")
if nginx -t -q "${NGINX_ARGS[@]}" 2>"$WORK/nginx/test.log"; then
  check "deploy/nginx.conf renders, nginx -t" PASS "nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), upstream a :${INST_PORT[a]}, b :${INST_PORT[b]}"
else
  check "deploy/nginx.conf renders, nginx -t" FAIL "$(tr '\n' ' ' < "$WORK/nginx/test.log" | cut -c1-150)"
  exit 1
fi
nginx "${NGINX_ARGS[@]}" >>"$WORK/nginx/access.log" 2>>"$WORK/nginx/stderr.log" &
NGINX_PID=$!
for _ in $(seq 1 50); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/tls/fullchain.pem" "$NGX/health")" = 200 ] && break
  sleep 0.1
done

# --- 3. register and log in through nginx
st=$(req POST "$NGX/auth/register" -H 'Content-Type: application/json' \
  -d '{"email":"alice@example.com","username":"alice","password":"correct horse battery"}')
st2=$(req POST "$NGX/auth/login" --data-urlencode username=alice --data-urlencode 'password=correct horse battery')
TOKEN=$(jbody .access_token)
me_a=$(req GET "$(inst a)/users/me" -H "Authorization: Bearer $TOKEN")
me_b=$(req GET "$(inst b)/users/me" -H "Authorization: Bearer $TOKEN")
if [ "$st" = 201 ] && [ "$st2" = 200 ] && [ -n "$TOKEN" ] && [ "$TOKEN" != null ] && [ "$me_a" = 200 ] && [ "$me_b" = 200 ]; then
  check "register + login through nginx (HTTPS)" PASS "register 201, login 200; the token works on a and on b"
else
  check "register + login through nginx (HTTPS)" FAIL "register $st, login $st2, /users/me a: $me_a, b: $me_b"
fi
AUTH=(-H "Authorization: Bearer $TOKEN")
JSON=(-H 'Content-Type: application/json')

# --- 4. a write through one instance, read fresh through the other
fresh_fail=""
req GET "$(inst b)/items?skip=0&limit=100" >/dev/null           # b has read (and may cache) the list
st=$(req POST "$(inst a)/items" "${AUTH[@]}" "${JSON[@]}" -d '{"title":"scaleout lamp","price":49.5}')
ITEM=$(jbody .id)
[ "$st" = 201 ] || fresh_fail+="create on a: $st; "
st=$(req GET "$(inst b)/items/$ITEM"); [ "$st" = 200 ] && [ "$(jbody .title)" = "scaleout lamp" ] || fresh_fail+="get on b: $st $(body | cut -c1-80); "
req GET "$(inst b)/items?skip=0&limit=100" >/dev/null
jq -e --argjson id "$ITEM" 'map(.id) | index($id) != null' "$WORK/body" >/dev/null || fresh_fail+="list on b lacks the new item; "
req GET "$(inst a)/items/$ITEM" >/dev/null                       # a has read (and may cache) the item
st=$(req PUT "$(inst b)/items/$ITEM" "${AUTH[@]}" "${JSON[@]}" -d '{"title":"scaleout lamp v2"}')
[ "$st" = 200 ] || fresh_fail+="update on b: $st; "
st=$(req GET "$(inst a)/items/$ITEM"); [ "$(jbody .title)" = "scaleout lamp v2" ] || fresh_fail+="get on a after update on b: $st $(jbody .title); "
req GET "$(inst a)/items?skip=0&limit=100" >/dev/null
jq -e --argjson id "$ITEM" 'map(select(.id == $id))[0].title == "scaleout lamp v2"' "$WORK/body" >/dev/null || fresh_fail+="list on a shows the old title; "
st=$(req DELETE "$(inst a)/items/$ITEM" "${AUTH[@]}"); [ "$st" = 204 ] || fresh_fail+="delete on a: $st; "
st=$(req GET "$(inst b)/items/$ITEM"); [ "$st" = 404 ] || fresh_fail+="get on b after delete on a: $st; "
req GET "$(inst b)/items?skip=0&limit=100" >/dev/null
jq -e --argjson id "$ITEM" 'map(.id) | index($id) == null' "$WORK/body" >/dev/null || fresh_fail+="list on b still has the deleted item; "
if [ -z "$fresh_fail" ]; then
  check "write via one instance, fresh read via the other" PASS "create a→get/list b, update b→get/list a, delete a→get/list b (404)"
else
  check "write via one instance, fresh read via the other" FAIL "$fresh_fail"
fi

# --- 5. nginx behaviour
# X-Request-ID: kept when sent, generated by nginx when absent, and the one
# myapi logs.
st=$(req GET "$NGX/health" -H 'X-Request-ID: scaleout-rid-12345')
rid_kept=$(header X-Request-ID)
st=$(req GET "$NGX/items/999999999")
rid_gen=$(header X-Request-ID)
sleep 0.3
if [ "$rid_kept" = scaleout-rid-12345 ] && [[ $rid_gen =~ ^[0-9a-f]{32}$ ]] \
  && grep -qh "$rid_gen" "$WORK/a/myapi.log" "$WORK/b/myapi.log" && grep -q "$rid_gen" "$WORK/nginx/access.log"; then
  check "nginx: X-Request-ID kept / generated, same id in myapi's log" PASS "kept scaleout-rid-12345; generated $rid_gen"
else
  check "nginx: X-Request-ID kept / generated, same id in myapi's log" FAIL "kept: '$rid_kept', generated: '$rid_gen'"
fi

# HTTP: redirect to HTTPS, except the ACME challenge directory.
st_redirect=$(req GET "$NGX_HTTP/items?skip=0")
loc=$(header Location)
st_acme=$(req GET "$NGX_HTTP/.well-known/acme-challenge/scaleout-token")
acme_body=$(body)
if [ "$st_redirect" = 301 ] && [[ $loc == https://127.0.0.1/items\?skip=0 ]] && [ "$st_acme" = 200 ] && [ "$acme_body" = "acme-token-$$" ]; then
  check "nginx: HTTP to HTTPS redirect, certbot webroot served" PASS "301 → $loc; /.well-known/acme-challenge/ 200"
else
  check "nginx: HTTP to HTTPS redirect, certbot webroot served" FAIL "redirect $st_redirect → '$loc'; acme $st_acme"
fi

# /metrics: closed through nginx (every spelling), open on the instances.
metrics_bad=""
for p in /metrics /metrics/ '/metrics?x=1' //metrics /%6detrics /metrics/../metrics; do
  st=$(req GET "$NGX$p" --path-as-is)
  [ "$st" = 403 ] || metrics_bad+="$p → $st; "
done
st_direct=$(req GET "$(inst a)/metrics")
grep -q '^myapi_http_requests_total' "$WORK/body" || metrics_bad+="direct /metrics on a: $st_direct without myapi_http_requests_total; "
if [ -z "$metrics_bad" ]; then
  check "nginx: /metrics denied from outside" PASS "6 spellings → 403 via nginx; 200 direct on the instance"
else
  check "nginx: /metrics denied from outside" FAIL "$metrics_bad"
fi

# gzip of JSON and the 1 MiB body limit (413 as JSON with detail).
desc=$(printf 'x%.0s' $(seq 1 900))
for i in 1 2; do
  req POST "$NGX/items" "${AUTH[@]}" "${JSON[@]}" -d "{\"title\":\"gzip $i\",\"description\":\"$desc\",\"price\":1}" >/dev/null
done
st=$(req GET "$NGX/items?skip=0&limit=100" -H 'Accept-Encoding: gzip')
enc=$(header Content-Encoding)
head -c 1100000 /dev/zero | tr '\0' 'a' > "$WORK/big.json"
st_big=$(req POST "$NGX/items" "${AUTH[@]}" "${JSON[@]}" --data-binary "@$WORK/big.json")
big_detail=$(jbody .detail)
head -c 900000 /dev/zero | tr '\0' 'a' > "$WORK/ok.json"
st_ok=$(req POST "$NGX/items" "${AUTH[@]}" "${JSON[@]}" --data-binary "@$WORK/ok.json")
if [ "$st" = 200 ] && [ "$enc" = gzip ] && [ "$st_big" = 413 ] && [ -n "$big_detail" ] && [ "$big_detail" != null ] && [ "$st_ok" != 413 ]; then
  check "nginx: gzip JSON; body limit 1 MiB (413 + detail)" PASS "list gzip; 1.1 MB → 413 \"$big_detail\"; 0.9 MB reaches myapi ($st_ok)"
else
  check "nginx: gzip JSON; body limit 1 MiB (413 + detail)" FAIL "list $st enc '$enc'; 1.1 MB → $st_big ($big_detail); 0.9 MB → $st_ok"
fi

# HTTP/2 and IPv6 on the TLS listener; the per-IP edge limit of /auth/
# (2 r/s, burst 20) from a client that is not exempt (127.0.0.2).
st_h2=$(curl -s --http2 --cacert "$WORK/tls/fullchain.pem" -o /dev/null -w '%{http_version} %{http_code}' "$NGX/health" || true)
if [ -n "$(ip -6 addr show dev lo 2>/dev/null | grep '::1')" ]; then
  st_v6=$(curl -s -k -o /dev/null -w '%{http_code}' "https://[::1]:$NGX_HTTPS_PORT/health" || true)
else
  st_v6="no ::1 here"
fi
# 60 logins at once (the bucket holds 20): myapi's own login limit
# (LOGIN_LIMIT per IP) answers some 429s too; the edge's say "Too many
# requests from this address".
mkdir -p "$WORK/edge"
edge_pids=()
for i in $(seq 1 60); do
  curl -s --cacert "$WORK/tls/fullchain.pem" --max-time 15 --interface 127.0.0.2 -o "$WORK/edge/$i.json" \
    -w '%{http_code}' --data-urlencode "username=edge$i" --data-urlencode password=wrong-password \
    "$NGX/auth/login" >"$WORK/edge/$i.status" 2>/dev/null &
  edge_pids+=($!)
done
for p in "${edge_pids[@]}"; do wait "$p" || true; done
edge_429=0 app_429=0 edge_other="" edge_detail=""
for i in $(seq 1 60); do
  case $(cat "$WORK/edge/$i.status") in
    429)
      d=$(jq -r .detail "$WORK/edge/$i.json" 2>/dev/null)
      if [[ $d == Too\ many\ requests* ]]; then edge_detail=$d edge_429=$((edge_429 + 1)); else app_429=$((app_429 + 1)); fi
      ;;
    401) ;;
    *) edge_other+="$(cat "$WORK/edge/$i.status") " ;;
  esac
done
st_general=$(req GET "$NGX/items?skip=0&limit=1" --interface 127.0.0.2)
if [ "$st_h2" = "2 200" ] && { [ "$st_v6" = 200 ] || [ "$st_v6" = "no ::1 here" ]; } && [ "$edge_429" -ge 10 ] \
  && [ -z "$edge_other" ] && [ "$st_general" = 200 ]; then
  check "nginx: HTTP/2, IPv6, per-IP limit on /auth/" PASS "HTTP/$st_h2; [::1]: $st_v6; 60 logins from 127.0.0.2 at once: $edge_429 × nginx 429 \"$edge_detail\" (and $app_429 × myapi's), other routes still 200"
else
  check "nginx: HTTP/2, IPv6, per-IP limit on /auth/" FAIL "http2: '$st_h2'; [::1]: $st_v6; 429s: $edge_429 ($edge_detail); other statuses: $edge_other; GET /items: $st_general"
fi

# --- 6. rate limits shared by the instances
# The test talks to the instances directly from 127.0.0.1, a trusted proxy
# (TRUSTED_PROXIES), so X-Forwarded-For names the client: a fresh client
# per check, no traffic to that address.
# Rate-limit keys in Redis (internal/ratelimit/redis.go: "myapi:rl:..."); the
# cache's keys do not count.
redis_keys() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -n "$REDIS_DB" --scan --pattern '*rl:*' 2>/dev/null | wc -l; }
first_429() { # first_429 METHOD PATH MAXN ARGS-FN: alternates a, b; prints n of the first 429 (0: none)
  local method=$1 path=$2 max=$3 fn=$4 n st
  for ((n = 1; n <= max; n++)); do
    if ((n % 2)); then name=a; else name=b; fi
    # shellcheck disable=SC2046
    st=$(req "$method" "$(inst $name)$path" $($fn "$n"))
    if [ "$st" = 429 ]; then echo "$n"; return; fi
  done
  echo 0
}
limit_result() { # limit_result NAME LIMIT FIRST429 WHAT
  local name=$1 limit=$2 first=$3 what=$4
  if [ "$first" = $((limit + 1)) ]; then
    check "$name" PASS "$what: limit $limit, request $first (alternating a/b) got 429"
  elif [ "$first" = $((2 * limit + 1)) ] || [ "$first" = $((2 * limit + 2)) ]; then
    if [ "$(redis_keys)" = 0 ]; then
      check "$name" PENDING "$what: each instance counted alone (first 429 at $first, limit $limit); no rate-limit key in Redis DB $REDIS_DB: REDIS_URL is not wired into the limiter yet"
    else
      check "$name" FAIL "$what: each instance counted alone (first 429 at $first, limit $limit) although myapi wrote rate-limit keys to Redis"
    fi
  else
    check "$name" FAIL "$what: first 429 at request $first, limit $limit"
  fi
}
# Warm up first: each instance's first use of Redis (connection, script
# load) is not what is measured.
for n in a b; do
  for i in 1 2 3; do req GET "$(inst $n)/items?skip=0&limit=1" -H "X-Forwarded-For: 127.0.0.9$i" >/dev/null; done
done
# The limiter's window slides over whole minutes (httprate weighs the previous
# minute's count down as the current one passes): a burst that straddles a
# minute's start is allowed a few more. Start the burst early in a minute, so
# that on a slow machine it ends within it.
fresh_minute() { local s; s=$(date +%-S); if [ "$s" -gt 30 ]; then sleep $((61 - s)); fi; }
ip_args() { echo "-H X-Forwarded-For:127.0.0.77"; }
fresh_minute
n429=$(first_429 GET "/items?skip=0&limit=1" $((2 * RATE_LIMIT + 2)) ip_args)
limit_result "rate limit counts requests to both instances" "$RATE_LIMIT" "$n429" "anonymous GET /items per client IP"
[ "$n429" = 0 ] || [ "$(jbody .detail)" != null ] || check "429 carries a detail" FAIL "$(body | cut -c1-100)"

# Failed passwords count per username and client network (an IPv4 /24): new
# addresses in one /24 do not refill the budget, on either instance.
login_args() { echo "-H X-Forwarded-For:127.0.1.$1 --data-urlencode username=victim --data-urlencode password=wrong-password"; }
n429=$(first_429 POST /auth/login $((2 * LOGIN_LIMIT + 2)) login_args)
limit_result "failed logins per username and network count on both instances" "$LOGIN_LIMIT" "$n429" "POST /auth/login, wrong password for one username, a new IP of one /24 each time"

# Through nginx, a client's own X-Forwarded-For is replaced: it cannot pose as
# a fresh client (the limit per IP holds although each request names another).
nginx_first_429() {
  local n st
  for ((n = 1; n <= 2 * LOGIN_LIMIT + 2; n++)); do
    st=$(req POST "$NGX/auth/login" -H "X-Forwarded-For: 127.0.2.$n" -H "X-Real-IP: 127.0.3.$n" \
      --data-urlencode "username=spoof$n" --data-urlencode password=wrong-password)
    if [ "$st" = 429 ]; then echo "$n"; return; fi
  done
  echo 0
}
# Were the forged addresses believed, every attempt would be a new client
# (and a new username): never a 429.
n429=$(nginx_first_429)
if [ "$n429" != 0 ]; then
  check "nginx: client X-Forwarded-For / X-Real-IP not believed" PASS "login limit per IP hit at attempt $n429 although each named a new address"
else
  check "nginx: client X-Forwarded-For / X-Real-IP not believed" FAIL "no 429 in $((2 * LOGIN_LIMIT + 2)) attempts, each with a forged address"
fi

# ---------------------------------------------------------------------------
# The fault phases run on a private PostgreSQL cluster (it is stopped and
# started below), with rate limits off.
log "starting a private PostgreSQL cluster"
pick_port PRIV_PG_PORT
mkdir -p "$PRIV_PGDATA" "$WORK/pgrun"
chown postgres: "$PRIV_PGDATA" "$WORK/pgrun"
runuser -u postgres -- "$PG_BIN/initdb" -D "$PRIV_PGDATA" -U postgres --auth=trust -E UTF8 --no-sync >"$WORK/initdb.log" 2>&1 \
  || die "initdb failed: $(tail -3 "$WORK/initdb.log")"
priv_pg() { # priv_pg start|stop
  if [ "$1" = start ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PRIV_PGDATA" -l "$WORK/pgrun/postgresql.log" -w -t 30 \
      -o "-p $PRIV_PG_PORT -k $WORK/pgrun -c listen_addresses=127.0.0.1" start >/dev/null
  else
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PRIV_PGDATA" -m fast -w -t 30 stop >/dev/null
  fi
}
priv_pg start
psql -h 127.0.0.1 -p "$PRIV_PG_PORT" -U postgres -d postgres -qc "CREATE DATABASE myapi" >/dev/null
PRIV_URL="postgres://postgres@127.0.0.1:$PRIV_PG_PORT/myapi?sslmode=disable"

for n in a b; do stop_instance "$n" TERM; done
nolimits=(RATE_LIMIT_PER_MINUTE=0 LOGIN_RATE_LIMIT_PER_MINUTE=0)
start_instance a "$PRIV_URL" "${nolimits[@]}"
start_instance b "$PRIV_URL" "${nolimits[@]}"
wait_ready a || die "instance a did not start on the private cluster"
wait_ready b || die "instance b did not start on the private cluster"
req POST "$NGX/auth/register" "${JSON[@]}" -d '{"email":"carol@example.com","username":"carol","password":"correct horse battery"}' >/dev/null
req POST "$NGX/auth/login" --data-urlencode username=carol --data-urlencode 'password=correct horse battery' >/dev/null
TOKEN=$(jbody .access_token)
if [ -z "$TOKEN" ] || [ "$TOKEN" = null ]; then die "login on the private cluster failed: $(body)"; fi

# wrk through nginx; prints "failed requests" (non-2xx/3xx + socket errors).
wrk_failed() { # wrk_failed OUTPUT_FILE
  local non2xx sock
  non2xx=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$1")
  sock=$(sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' "$1")
  local sum=${non2xx:-0}
  for x in $sock; do sum=$((sum + x)); done
  echo "$sum"
}
wrk_requests() { sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$1"; }
upstream_hits() { # upstream_hits PORT: nginx log lines that went to that port
  grep -c "127.0.0.1:$1" "$WORK/nginx/access.log" || true
}

# start_load LABEL SECONDS CONNECTIONS: through nginx, in the background,
# wrk GETs on CONNECTIONS connections ($WORK/wrk-LABEL.txt, pid in WRK) and
# loadgen's writes and reads ($WORK/loadgen-LABEL.json, the ids of
# acknowledged items in $WORK/acked-LABEL.txt, pid in LG).
start_load() {
  wrk -t2 -c"$3" -d"$2s" --timeout 10s "$NGX/items?skip=0&limit=10" >"$WORK/wrk-$1.txt" 2>&1 &
  WRK=$!
  LOAD_PIDS+=("$WRK")
  "$LOADGEN_BIN" -base "$NGX" -cacert "$WORK/tls/fullchain.pem" -mode mixed -token "$TOKEN" \
    -concurrency 2 -duration "$2s" -pause 20ms -label "$1" \
    -ids "$WORK/acked-$1.txt" >"$WORK/loadgen-$1.json" 2>&1 &
  LG=$!
  LOAD_PIDS+=("$LG")
}

# --- 7. SIGTERM under load
log "SIGTERM to instance a under load"
hits_before=$(upstream_hits "${INST_PORT[a]}")
start_load sigterm 8 16
sleep 3
hits_mid=$(upstream_hits "${INST_PORT[a]}")
t_term=$(now_ms)
stop_instance a TERM
t_exit=$(now_ms)
wait $WRK || true
wait $LG || true
term_rc=$STOP_RC
wrk_fail=$(wrk_failed "$WORK/wrk-sigterm.txt")
wrk_n=$(wrk_requests "$WORK/wrk-sigterm.txt")
lg_fail=$(jq .failed "$WORK/loadgen-sigterm.json")
lg_n=$(jq .requests "$WORK/loadgen-sigterm.json")
drained=$(grep -c '"shutting down' "$WORK/a/myapi.log" || true)
if [ "$term_rc" = 0 ] && [ "$wrk_fail" = 0 ] && [ "$lg_fail" = 0 ] && [ "${wrk_n:-0}" -gt 0 ] && [ "$hits_mid" -gt "$hits_before" ] && [ "$drained" -ge 1 ]; then
  check "SIGTERM one instance under load: 0 failed" PASS "wrk GETs: $wrk_n, 0 failed; writes+reads: $lg_n, 0 failed; a drained and exited 0 in $((t_exit - t_term)) ms"
else
  check "SIGTERM one instance under load: 0 failed" FAIL "exit $term_rc; wrk $wrk_n req, $wrk_fail failed; loadgen $lg_n req, $lg_fail failed $(jq -c .samples "$WORK/loadgen-sigterm.json" | cut -c1-200); a served $((hits_mid - hits_before)) before"
fi
start_instance a "$PRIV_URL" "${nolimits[@]}"
wait_ready a || die "instance a did not restart"

# --- 8. SIGKILL under load
log "SIGKILL to instance b under load"
wrk -t2 -c16 -d6s --timeout 10s "$NGX/items?skip=0&limit=10" >"$WORK/wrk-sigkill.txt" 2>&1 &
WRK=$!
LOAD_PIDS+=("$WRK")
sleep 2
stop_instance b KILL
kill_rc=$STOP_RC
wait $WRK || true
after_ok=0
for _ in $(seq 1 20); do
  [ "$(req GET "$NGX/items?skip=0&limit=5")" = 200 ] && after_ok=$((after_ok + 1))
done
wrk_fail=$(wrk_failed "$WORK/wrk-sigkill.txt")
wrk_n=$(wrk_requests "$WORK/wrk-sigkill.txt")
wrk_total=$(( $(wrk_requests "$WORK/wrk-sigterm.txt") + wrk_n ))
if [ "$wrk_fail" = 0 ] && [ "${wrk_n:-0}" -gt 0 ] && [ "$after_ok" = 20 ] && [ "$kill_rc" = 137 ]; then
  check "SIGKILL one instance under load: GETs keep succeeding" PASS "wrk GETs: $wrk_n, 0 failed; then 20/20 GETs through nginx with b dead"
else
  check "SIGKILL one instance under load: GETs keep succeeding" FAIL "wrk $wrk_n req, $wrk_fail failed; $after_ok/20 GETs after; b exit $kill_rc"
fi

# nginx's access log: every 4xx/5xx line, 10 % of the successes (wrk's:
# no User-Agent), each line with the sample_rate it stands for.
A="$WORK/nginx/access.log"
wrk_lines=$(jq -c 'select(.uri == "/items" and .user_agent == "" and .status < 400)' "$A" 2>/dev/null | wc -l)
bad_rate=$(jq -c 'select((.status >= 400 and .sample_rate != 1) or (.status < 400 and .request_time < 1 and .sample_rate != 0.1))' "$A" 2>/dev/null | wc -l)
n4xx=$(jq -c 'select(.status >= 400)' "$A" 2>/dev/null | wc -l)
if [ "$wrk_total" -gt 1000 ] && [ "$bad_rate" = 0 ] && [ "$n4xx" -gt 0 ] \
  && [ $((wrk_lines * 100)) -ge $((wrk_total * 5)) ] && [ $((wrk_lines * 100)) -le $((wrk_total * 15)) ]; then
  check "nginx: access log keeps errors and a 10 % sample" PASS "$wrk_lines lines for $wrk_total wrk successes ($((wrk_lines * 1000 / wrk_total))‰), each sample_rate 0.1; $n4xx 4xx/5xx lines at 1"
else
  check "nginx: access log keeps errors and a 10 % sample" FAIL "$wrk_lines lines for $wrk_total wrk successes; $bad_rate lines with a wrong sample_rate; $n4xx 4xx/5xx lines"
fi
start_instance b "$PRIV_URL" "${nolimits[@]}"
wait_ready b || die "instance b did not restart"

# --- 9. PostgreSQL stopped under load, then restarted
log "PostgreSQL (private cluster) stopped under load"
pid_a=${INST_PID[a]} pid_b=${INST_PID[b]}
DOWN_S=8
"$LOADGEN_BIN" -base "$NGX" -cacert "$WORK/tls/fullchain.pem" -mode mixed -token "$TOKEN" \
  -concurrency 4 -duration 22s -pause 10ms -timeout 20s -label pgdown \
  -ids "$WORK/acked-pgdown.txt" >"$WORK/loadgen-pg.json" 2>&1 &
LG=$!
LOAD_PIDS+=("$LG")
sleep 4
t_stop=$(now_ms)
priv_pg stop
sleep 1
# While it is down: a GET through nginx and readiness on each instance.
probe_bad=""
t=$(now_ms); st=$(req GET "$NGX/items?skip=0&limit=3"); dt=$(( $(now_ms) - t ))
[ "$st" = 503 ] && [ "$(jbody .detail)" != null ] || probe_bad+="GET /items via nginx: $st $(body | cut -c1-80); "
[ $dt -lt $((REQUEST_TIMEOUT_S * 1000 + 1000)) ] || probe_bad+="GET /items took ${dt} ms; "
for n in a b; do
  st=$(req GET "$(inst $n)/health/ready")
  [ "$st" = 503 ] && grep -q database "$WORK/body" || probe_bad+="ready on $n: $st $(body | cut -c1-80); "
done
ready_body=$(body | tr -d '\n' | cut -c1-90)
sleep $((DOWN_S - 2))
t_start=$(now_ms)
priv_pg start
t_started=$(now_ms)
# Recovery: both instances ready again by themselves.
recovered_ms=""
for _ in $(seq 1 100); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$(inst a)/health/ready")" = 200 ] \
    && [ "$(curl -s -o /dev/null -w '%{http_code}' "$(inst b)/health/ready")" = 200 ]; then
    recovered_ms=$(( $(now_ms) - t_started ))
    break
  fi
  sleep 0.1
done
wait $LG || true
J="$WORK/loadgen-pg.json"
statuses=$(jq -c .status "$J")
others=$(jq '[.status | to_entries[] | select((.key | test("^2")) or .key == "503" | not) | .value] | add // 0' "$J")
n503=$(jq '.status["503"] // 0' "$J")
nodetail=$(jq .non2xx_without_detail "$J")
maxlat=$(jq .max_latency_ms "$J")
if [ -z "$probe_bad" ] && [ "$n503" -gt 0 ] && [ "$others" = 0 ] && [ "$nodetail" = 0 ] \
  && awk "BEGIN { exit !($maxlat < $REQUEST_TIMEOUT_S * 1000 + 1000) }"; then
  check "PostgreSQL down under load: 503 + detail, no hang" PASS "$statuses; slowest ${maxlat} ms (REQUEST_TIMEOUT ${REQUEST_TIMEOUT_S}s); ready: $ready_body"
else
  check "PostgreSQL down under load: 503 + detail, no hang" FAIL "$probe_bad statuses $statuses, without detail $nodetail, slowest ${maxlat} ms; $(jq -c .samples "$J" | cut -c1-250)"
fi

last_fail=$(jq .last_fail_unix_ms "$J")
end_ms=$(jq .end_unix_ms "$J")
ok_after=$(jq --argjson t "$((t_started + 3000))" --argjson s "$(jq .start_unix_ms "$J")" \
  '[.timeline[] | select(.start_ms + $s >= $t) | .ok] | add // 0' "$J")
fail_after=$(jq --argjson t "$((t_started + 3000))" --argjson s "$(jq .start_unix_ms "$J")" \
  '[.timeline[] | select(.start_ms + $s >= $t) | .fail] | add // 0' "$J")
same_pids=no
kill -0 "$pid_a" 2>/dev/null && kill -0 "$pid_b" 2>/dev/null && [ "${INST_PID[a]}" = "$pid_a" ] && [ "${INST_PID[b]}" = "$pid_b" ] && same_pids=yes
if [ -n "$recovered_ms" ] && [ "$same_pids" = yes ] && [ "$fail_after" = 0 ] && [ "$ok_after" -gt 0 ]; then
  check "PostgreSQL restarted: recovery, myapi not restarted" PASS "both ready ${recovered_ms} ms after PostgreSQL was back (down $(( (t_start - t_stop) / 1000 )) s); from 3 s after: $ok_after ok, 0 failed; same PIDs"
else
  check "PostgreSQL restarted: recovery, myapi not restarted" FAIL "ready after: ${recovered_ms:-never}; same PIDs: $same_pids; from 3 s after: $ok_after ok, $fail_after failed (last failure $(( last_fail - t_started )) ms after restart, load ended $(( end_ms - t_started )) ms after)"
fi

# Both loads that wrote (SIGTERM and PostgreSQL phases) ran on this cluster.
cat "$WORK/acked-sigterm.txt" "$WORK/acked-pgdown.txt" > "$WORK/acked-ids.txt"
acked=$(wc -l < "$WORK/acked-ids.txt")
if [ "$acked" -gt 0 ]; then
  ids=$(paste -sd, "$WORK/acked-ids.txt")
  present=$(psql_priv "SELECT count(*) FROM items WHERE id = ANY('{$ids}'::bigint[])")
else
  present=0
fi
if [ "$acked" -gt 0 ] && [ "$present" = "$acked" ]; then
  check "every 2xx write still there after the restart" PASS "$acked item(s) created with a 2xx (SIGTERM + PostgreSQL phases), $present found in PostgreSQL"
else
  check "every 2xx write still there after the restart" FAIL "$acked acknowledged, $present found"
fi

# shellcheck source=deploy/scaleout/rollout-phase.sh
. "$ROOT/deploy/scaleout/rollout-phase.sh"
exit 0
