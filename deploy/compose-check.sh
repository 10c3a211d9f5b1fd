#!/usr/bin/env bash
# Renders docker-compose.yml with the example env files and asserts the
# settings production actually gets (no Docker engine needed):
#
#   bash deploy/compose-check.sh        (.ci/run runs it)
#
#  1. .env.production.example with its REQUIRED values filled: every
#     service rotates its logs, has CPU and memory limits, drops all
#     capabilities, no-new-privileges, a read-only root (except postgres,
#     certbot); only nginx is on the published frontend network; the
#     replicas get ENVIRONMENT=production, the 5 s drain, no CORS origin, the
#     SMTP, Sentry and OTel settings and the image tag of the file;
#     Prometheus's storage is bounded by size; every image is pinned.
#  2. The development .env.example copied as .env (the mistake the
#     production template exists to prevent): ENVIRONMENT and the drain are
#     still production's, no localhost origin; and myapi itself, given the
#     replicas' rendered environment, refuses to start because SMTP_HOST is
#     empty, while it accepts the production template's.
# Tools: Debian's docker-compose (v1 renders the same Compose
# Specification; COMPOSE="docker compose" uses v2, as GitHub's runners
# do), python3-yaml (docker-compose's own dependency), jq, go.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "compose-check: FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# render ENV_FILE OUT_JSON: docker-compose config as JSON.
render() {
  # shellcheck disable=SC2086  # COMPOSE is a command of one or two words
  ${COMPOSE:-docker-compose} --env-file "$1" config >"$tmp/rendered.yml" || fail "compose config with $1"
  python3 -c 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)' <"$tmp/rendered.yml" >"$2"
}
secrets() {
  printf '%s\n' "SECRET_KEY=$(openssl rand -hex 32)" "POSTGRES_PASSWORD=$(openssl rand -hex 24)" \
    "REDIS_PASSWORD=$(openssl rand -hex 24)" GRAFANA_ADMIN_PASSWORD=ci-grafana
}
# expect JSON FILTER WHAT: the jq FILTER is true on JSON.
expect() {
  jq -e "$2" "$1" >/dev/null || fail "$3 (jq: $2)"
}

# --- 1. the production template ---------------------------------------------
prod="$tmp/prod.env"
{ cat .env.production.example; secrets; echo MYAPI_TAG=v1.2.3; echo SENTRY_DSN=https://key@sentry.example.com/1
  echo OTEL_EXPORTER_OTLP_ENDPOINT=http://otel.example.com:4318; } >"$prod"
render "$prod" "$tmp/prod.json"
P="$tmp/prod.json"
expect "$P" '.services | length >= 12' "fewer services than expected"
expect "$P" '[.services[] | .logging.driver == "json-file" and .logging.options["max-size"] != null and .logging.options["max-file"] != null] | all' \
  "a service without log rotation: $(jq -c '[.services | to_entries[] | select(.value.logging.options["max-size"] == null) | .key]' "$P")"
expect "$P" '[.services | to_entries[] | select(.key != "certbot") | .value.deploy.resources.limits | (.cpus != null and .memory != null)] | all' \
  "a service without CPU and memory limits: $(jq -c '[.services | to_entries[] | select(.value.deploy.resources.limits.memory == null) | .key]' "$P")"
expect "$P" '[.services[] | (.cap_drop == ["ALL"]) and ((.security_opt // []) | index("no-new-privileges:true") != null)] | all' \
  "a service keeps its capabilities or may gain privileges: $(jq -c '[.services | to_entries[] | select(.value.cap_drop != ["ALL"]) | .key]' "$P")"
expect "$P" '[.services | to_entries[] | select(.key != "postgres" and .key != "certbot") | .value.read_only == true] | all' \
  "a service with a writable root filesystem: $(jq -c '[.services | to_entries[] | select(.value.read_only != true) | .key]' "$P")"
expect "$P" '[.services | to_entries[] | select(.value.networks | has("frontend")) | .key] == ["nginx"]' \
  "only nginx may be on the frontend network"
expect "$P" '.networks.frontend.enable_ipv6 == true' "the frontend network has no IPv6"
expect "$P" '[.services[] | .image | test(":(latest)?$") | not] | all' "an image without a pinned tag"
for svc in api migrate; do
  expect "$P" ".services.$svc.image == \"ghcr.io/example/myapi:v1.2.3\"" "$svc runs $(jq -r ".services.$svc.image" "$P"), not MYAPI_IMAGE:MYAPI_TAG"
  expect "$P" ".services.$svc.environment | .ENVIRONMENT == \"production\" and .SHUTDOWN_DRAIN_DELAY == \"5s\" and .SHUTDOWN_TIMEOUT == \"20s\" and .AUTO_MIGRATE == \"false\"" \
    "$svc: ENVIRONMENT, drain, shutdown or AUTO_MIGRATE not production's"
  expect "$P" ".services.$svc.environment | .ALLOWED_ORIGINS == \"[]\" and .ACCESS_LOG_SAMPLE_RATE == \"0.1\"" "$svc: CORS origins or log sampling"
  expect "$P" ".services.$svc.environment | .SMTP_HOST == \"smtp.example.com\" and .SMTP_PORT == \"587\" and .SMTP_TLS == \"starttls\" and .EMAIL_ENABLED == \"true\"" "$svc: SMTP settings not passed"
  expect "$P" ".services.$svc.environment | .SENTRY_DSN == \"https://key@sentry.example.com/1\" and .SENTRY_RELEASE == \"v1.2.3\" and .OTEL_EXPORTER_OTLP_ENDPOINT == \"http://otel.example.com:4318\"" "$svc: Sentry or OTel settings not passed"
done
expect "$P" '.services.api.stop_grace_period == "30s"' "api: stop_grace_period must stay above drain + shutdown (25 s)"
expect "$P" '.services.prometheus.command | tostring | test("retention.size=5GB")' "Prometheus storage not bounded by size"
expect "$P" '.services.alertmanager.environment | .SMTP_HOST == "smtp.example.com" and .ALERT_EMAIL_TO == "oncall@example.com"' "Alertmanager does not get the SMTP and alert settings"

# --- 2. the development file copied as .env --------------------------------
dev="$tmp/dev.env"
{ cat .env.example; secrets; echo DOMAIN=api.example.com; echo MYAPI_TAG=v1.2.3; } >"$dev"
render "$dev" "$tmp/dev.json"
D="$tmp/dev.json"
expect "$D" '.services.api.environment | .ENVIRONMENT == "production" and .SHUTDOWN_DRAIN_DELAY == "5s" and .ALLOWED_ORIGINS == "[]"' \
  ".env.example as .env weakens production: $(jq -c '.services.api.environment | {ENVIRONMENT, SHUTDOWN_DRAIN_DELAY, ALLOWED_ORIGINS}' "$D")"

# myapi with each rendered environment of the replicas: the check runs
# before any connection, so the production one gets as far as the database
# (the host "postgres" does not resolve here) and the development one stops
# at SMTP_HOST.
go build -o "$tmp/myapi" ./cmd/myapi
run_with() { # run_with JSON: myapi migrate status with the api service's environment
  local -a vars
  mapfile -t vars < <(jq -r '.services.api.environment | to_entries[] | "\(.key)=\(.value)"' "$1")
  (cd "$tmp" && env -i PATH=/usr/bin:/bin ENV_FILE=/dev/null "${vars[@]}" \
    DATABASE_URL="postgres://myapi@127.0.0.1:1/myapi?sslmode=disable&connect_timeout=2" "$tmp/myapi" migrate status 2>&1) || true
}
out=$(run_with "$P")
echo "  myapi with the production template's settings: ${out:0:160}"
case $out in *SMTP_HOST* | *SECRET_KEY* | *configuration*) fail "myapi refuses the production template's settings: $out" ;; esac
out=$(run_with "$D")
echo "  myapi with .env.example's settings: ${out:0:160}"
case $out in *"SMTP_HOST: production"*) ;; *) fail "myapi started in production without SMTP_HOST: $out" ;; esac
echo "compose-check: production template and .env.example both render to production settings; myapi refuses production without SMTP_HOST"
