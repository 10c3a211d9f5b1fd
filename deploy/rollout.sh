#!/usr/bin/env bash
# Rolling deploy and rollback of the api replicas by image tag, with no
# request lost (docker compose v2, from the directory of docker-compose.yml
# and .env):
#
#   deploy/rollout.sh TAG          deploy MYAPI_IMAGE:TAG
#   deploy/rollout.sh --rollback   deploy the tag that ran before the last deploy
#   deploy/rollout.sh --status     print the current and previous tags
#
# New replicas start beside the old ones, migrations first; once all are
# healthy (their HEALTHCHECK: GET /health/ready) and nginx has seen them
# (it re-resolves `api` every 5 s), the old ones are stopped one by one
# (SIGTERM: they drain for SHUTDOWN_DRAIN_DELAY, then finish in-flight
# requests) and removed. If the new ones do not become healthy within
# ROLLOUT_READY_TIMEOUT seconds (120), they are removed and the old keep
# serving. .env records MYAPI_TAG (now running) and MYAPI_PREVIOUS_TAG, so
# plain `docker compose up -d` keeps the deployed tag. Rolling back does not
# undo migrations: they are written to keep the previous release working
# (README, Upgrades). The steps themselves are deploy/rollout-lib.sh, which
# the loopback scale-out test runs too.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=deploy/rollout-lib.sh
. deploy/rollout-lib.sh

[ -f .env ] || { echo "rollout: no .env here (cp .env.production.example .env)" >&2; exit 2; }

env_get() { sed -n "s/^$1=//p" .env | tail -1; }
env_set() { # env_set NAME VALUE: replaces or appends NAME=VALUE in .env
  if grep -q "^$1=" .env; then
    sed -i "s|^$1=.*|$1=$2|" .env
  else
    printf '%s=%s\n' "$1" "$2" >>.env
  fi
}
compose() { docker compose "$@"; }

driver_replicas() { compose ps -q --status running api; }
driver_pull() {
  # A tag built on this host (docker compose build) is used as it is.
  MYAPI_TAG=$1 compose pull --quiet api 2>/dev/null \
    || docker image inspect "${MYAPI_IMAGE:-$(env_get MYAPI_IMAGE)}:$1" >/dev/null 2>&1 \
    || docker image inspect "myapi:$1" >/dev/null 2>&1
}
driver_migrate() { MYAPI_TAG=$1 compose run --rm migrate >&2; }
driver_start() { # ROLLOUT_NEW: the ids of the new containers
  local before
  before=$(compose ps -q api | sort)
  MYAPI_TAG=$1 compose up -d --no-deps --no-recreate --no-build \
    --scale "api=$(($(wc -w <<<"$before") + $2))" api >&2 || return 0
  mapfile -t ROLLOUT_NEW < <(comm -13 <(printf '%s\n' "$before") <(compose ps -q api | sort))
}
driver_ready() { [ "$(docker inspect -f '{{.State.Health.Status}}' "$1" 2>/dev/null)" = healthy ]; }
driver_settle() { sleep 7; } # nginx's resolver: valid=5s
driver_stop() { docker stop -t 30 "$1" >/dev/null; } # stop_grace_period
driver_remove() { docker rm "$1" >/dev/null; }
driver_finish() { MYAPI_TAG=$1 compose up -d --no-deps --no-recreate --no-build --scale "api=$2" api >&2; }
driver_record() {
  local prev
  prev=$(env_get MYAPI_TAG)
  if [ -n "$prev" ] && [ "$prev" != "$1" ]; then env_set MYAPI_PREVIOUS_TAG "$prev"; fi
  env_set MYAPI_TAG "$1"
}
driver_previous() { env_get MYAPI_PREVIOUS_TAG; }

case ${1:-} in
  --rollback)
    prev=$(driver_previous)
    [ -n "$prev" ] || { echo "rollout: no MYAPI_PREVIOUS_TAG in .env: nothing to roll back to" >&2; exit 1; }
    rollout_run "$prev"
    ;;
  --status) echo "current: $(env_get MYAPI_TAG)  previous: $(driver_previous)" ;;
  "" | -*) echo "usage: deploy/rollout.sh TAG | --rollback | --status" >&2; exit 2 ;;
  *) rollout_run "$1" ;;
esac
