# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154  # INST_PORT, INST_BIN: run.sh's arrays
# Check 12 of deploy/scaleout/run.sh (sourced by it, with its helpers):
# deploy/rollout-lib.sh's rolling deploy, driven with processes instead of
# containers, under load through nginx: MYAPI_BIN (tag v1, instances a, b)
# to MYAPI_BIN2 (tag v2, version and commit stamped scaleout-v2) on c, d; a deploy of a tag
# that never becomes ready (refused, v2 keeps serving); then --rollback's
# path back to v1 on a, b. Zero failed requests throughout.
#
# nginx lists the four ports from the start, as Docker's DNS would list the
# replicas: a port nobody listens on refuses the connection at once and
# nginx moves the request to the next (a POST too: it was not sent).

# shellcheck source=deploy/rollout-lib.sh
. "$ROOT/deploy/rollout-lib.sh"

declare -A TAG_BIN=([v1]="$MYAPI_BIN" [v2]="$MYAPI_BIN2" [broken]="$MYAPI_BIN2")
ROLL_TAG=v1 ROLL_PREV=""
ROLL_LIVE=(a b)
pick_port C_PORT; INST_PORT[c]=$C_PORT
pick_port D_PORT; INST_PORT[d]=$D_PORT
export ROLLOUT_READY_TIMEOUT=10

roll_env() { # the settings every replica of this phase shares
  echo ENVIRONMENT=production SECRET_KEY="$SECRET_KEY" DATABASE_URL="$PRIV_URL" EMAIL_ENABLED=false \
    RATE_LIMIT_PER_MINUTE=0 LOGIN_RATE_LIMIT_PER_MINUTE=0
}
driver_replicas() { printf '%s\n' "${ROLL_LIVE[@]}"; }
driver_pull() { [ -x "${TAG_BIN[$1]:-}" ]; }
driver_migrate() {
  # shellcheck disable=SC2046  # roll_env's words are VAR=value pairs
  (cd "$WORK" && env -i PATH=/usr/bin:/bin HOME="$WORK" $(roll_env) LOG_FORMAT=json \
    "${TAG_BIN[$1]}" migrate up >>"$WORK/rollout-migrate.log" 2>&1)
}
driver_start() { # the free pair of slots: c d while a b serve, and back
  local n names=(c d)
  [ "${ROLL_LIVE[0]}" = a ] || names=(a b)
  for n in "${names[@]:0:$2}"; do
    ROLLOUT_NEW+=("$n")
    INST_BIN[$n]=${TAG_BIN[$1]}
    if [ "$1" = broken ]; then
      # A release that cannot start: its database is a port nobody serves.
      start_instance "$n" "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2" RATE_LIMIT_PER_MINUTE=0
    else
      start_instance "$n" "$PRIV_URL" RATE_LIMIT_PER_MINUTE=0 LOGIN_RATE_LIMIT_PER_MINUTE=0 AUTO_MIGRATE=false
    fi
  done
}
driver_ready() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$(inst "$1")/health/ready")" = 200 ]
}
driver_settle() { :; }
driver_stop() {
  [ -n "${INST_PID[$1]:-}" ] || return 0
  if kill -0 "${INST_PID[$1]}" 2>/dev/null; then
    stop_instance "$1" TERM
  else # exited by itself (the broken release): reap it
    wait "${INST_PID[$1]}" 2>/dev/null || true
    unset "INST_PID[$1]"
  fi
}
driver_remove() { :; }
driver_finish() { shift 2; ROLL_LIVE=("$@"); }
driver_record() { ROLL_PREV=$ROLL_TAG ROLL_TAG=$1; }
driver_previous() { echo "$ROLL_PREV"; }

build_versions() { # build_versions NAME...: the build each runs (myapi_build_info's commit stamp)
  local n
  for n in "$@"; do
    curl -s --max-time 2 "$(inst "$n")/metrics" | sed -n 's/^myapi_build_info{.*commit="\([^"]*\)".*/\1/p'
  done | sort -u | paste -sd, -
}

log "rolling deploy (deploy/rollout-lib.sh) under load"
render_nginx a b c d
kill -HUP "$NGINX_PID"
sleep 1
v1_version=$(build_versions a b)
start_load rollout 40 8
sleep 2
roll_notes=""
rc_v2=0 rc_broken=0 rc_back=0
rollout_run v2 2>>"$WORK/rollout.log" || rc_v2=$?
after_v2="${ROLL_LIVE[*]}:$(build_versions "${ROLL_LIVE[@]}")"
rollout_run broken 2>>"$WORK/rollout.log" || rc_broken=$?
after_broken="${ROLL_LIVE[*]}:$(build_versions "${ROLL_LIVE[@]}")"
rollout_run "$(driver_previous)" 2>>"$WORK/rollout.log" || rc_back=$?
after_back="${ROLL_LIVE[*]}:$(build_versions "${ROLL_LIVE[@]}")"
wait "$WRK" || true
wait "$LG" || true
wrk_fail=$(wrk_failed "$WORK/wrk-rollout.txt")
wrk_n=$(wrk_requests "$WORK/wrk-rollout.txt")
lg_fail=$(jq .failed "$WORK/loadgen-rollout.json")
lg_n=$(jq .requests "$WORK/loadgen-rollout.json")
[ "$rc_v2" = 0 ] && [ "$after_v2" = "c d:scaleout-v2" ] || roll_notes+="v1→v2: rc $rc_v2, live $after_v2; "
[ "$rc_broken" = 1 ] && [ "$after_broken" = "c d:scaleout-v2" ] || roll_notes+="broken: rc $rc_broken, live $after_broken; "
[ "$rc_back" = 0 ] && [ -n "$v1_version" ] && [ "$after_back" = "a b:$v1_version" ] && [ "$ROLL_TAG" = v1 ] || roll_notes+="rollback: rc $rc_back, live $after_back, tag $ROLL_TAG; "
if [ -z "$roll_notes" ] && [ "$wrk_fail" = 0 ] && [ "$lg_fail" = 0 ] && [ "${wrk_n:-0}" -gt 0 ] && [ "${lg_n:-0}" -gt 0 ]; then
  check "rolling deploy v1→v2, refused broken tag, rollback: 0 failed" PASS "$v1_version→scaleout-v2 (c d), broken tag removed (v2 kept), back to $v1_version (a b); wrk GETs $wrk_n, writes+reads $lg_n, 0 failed"
else
  check "rolling deploy v1→v2, refused broken tag, rollback: 0 failed" FAIL "${roll_notes}wrk $wrk_n req, $wrk_fail failed; loadgen $lg_n req, $lg_fail failed $(jq -c .samples "$WORK/loadgen-rollout.json" 2>/dev/null | cut -c1-200); see $WORK/rollout.log"
fi
