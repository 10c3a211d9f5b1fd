# shellcheck shell=bash
# The rolling deploy's steps, apart from how replicas are started and
# stopped: deploy/rollout.sh drives them with docker compose, and the
# loopback scale-out test (deploy/scaleout/run.sh) with processes behind a
# real nginx, so the order below is what both exercise.
#
# rollout_run TAG:
#   1. the running replicas are the old ones (driver_replicas);
#   2. the image is fetched (driver_pull) and its migrations applied
#      (driver_migrate) while the old replicas serve: a migration must keep
#      the previous release working;
#   3. as many new replicas start beside the old (driver_start, which
#      leaves their ids in ROLLOUT_NEW: it runs in this shell, so that a
#      driver may start processes it later stops);
#   4. until every new one is ready (driver_ready, at most
#      ROLLOUT_READY_TIMEOUT seconds, default 120). If one is not, the new
#      ones are stopped and removed, the old keep serving, and it fails;
#   5. the proxy learns the new replicas (driver_settle);
#   6. the old stop one after the other (driver_stop: SIGTERM, which drains
#      for SHUTDOWN_DRAIN_DELAY, then finishes in-flight requests), and are
#      removed (driver_remove);
#   7. the deployment is reconciled (driver_finish) and TAG recorded as
#      current, the one before as previous (driver_record), which
#      `rollout_run "$(driver_previous)"` rolls back to.

rollout_log() { printf 'rollout: %s\n' "$*" >&2; }

# rollout_wait_ready ID...: 0 once every replica is ready.
rollout_wait_ready() {
  local deadline=$((SECONDS + ${ROLLOUT_READY_TIMEOUT:-120})) id pending
  while :; do
    pending=""
    for id in "$@"; do
      driver_ready "$id" || pending+=" $id"
    done
    [ -n "$pending" ] || return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      rollout_log "not ready after ${ROLLOUT_READY_TIMEOUT:-120}s:$pending"
      return 1
    fi
    sleep 1
  done
}

rollout_run() {
  local tag=$1 id n
  local -a old=() new=()
  [ -n "$tag" ] || { rollout_log "no tag to deploy"; return 2; }
  mapfile -t old < <(driver_replicas)
  n=${#old[@]}
  [ "$n" -gt 0 ] || n=${ROLLOUT_REPLICAS:-2}
  rollout_log "deploying $tag: $n new replica(s) beside ${#old[@]} running"
  driver_pull "$tag" || { rollout_log "cannot fetch $tag; nothing changed"; return 1; }
  driver_migrate "$tag" || { rollout_log "migrations of $tag failed; nothing changed"; return 1; }
  ROLLOUT_NEW=()
  driver_start "$tag" "$n"
  new=("${ROLLOUT_NEW[@]}")
  if [ "${#new[@]}" -ne "$n" ] || ! rollout_wait_ready "${new[@]}"; then
    rollout_log "$tag did not become ready: removing its replicas (${new[*]}); the old keep serving"
    for id in "${new[@]}"; do
      driver_stop "$id" || true
      driver_remove "$id" || true
    done
    return 1
  fi
  driver_settle
  rollout_log "new replicas ready (${new[*]}); draining the old (${old[*]})"
  for id in "${old[@]}"; do
    driver_stop "$id"
    driver_remove "$id"
  done
  driver_finish "$tag" "$n" "${new[@]}"
  driver_record "$tag"
  rollout_log "$tag deployed"
}
