#!/usr/bin/env bash
# Checks deploy/ end to end, on loopback only:
#   1. installs Debian's prometheus (it brings promtool) and
#      prometheus-alertmanager (amtool) when missing;
#   2. promtool check config / check rules / test rules on deploy/prometheus;
#      every alert has a severity, a summary, a runbook_url naming its
#      section of docs/runbooks.md (which exists), and a unit test;
#      amtool check-config on deploy/alertmanager/render.sh's output;
#   3. validates the Grafana dashboard and provisioning files with jq;
#   4. builds myapi and starts it on a spare loopback port (SQLite in a
#      temporary directory);
#   5. starts Prometheus on a spare loopback port, with its own data
#      directory and a rendered copy of deploy/prometheus/prometheus.yml
#      scraping that myapi every second;
#   6. makes a few requests and polls Prometheus's HTTP API until myapi's
#      request counter shows up (at most CHECK_TIMEOUT seconds, default 60);
#   7. checks the alert rules are loaded and every dashboard query is valid
#      PromQL that Prometheus accepts;
#   8. Alertmanager on loopback with the rendered configuration: the
#      Watchdog goes from Prometheus to the watchdog webhook, and a page
#      reaches a real SMTP server (mailpit) as an email with its runbook
#      link, and the webhook.
# Everything it starts is stopped, and its temporary directory removed, on
# exit. Exit status: 0 when every check passed.
#
# Usage: bash deploy/observability-check.sh   (from anywhere; as root, or
# with prometheus already installed)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
timeout_s=${CHECK_TIMEOUT:-60}

say() { printf '\n== %s\n' "$*"; }
fail() {
  printf 'observability-check: FAIL: %s\n' "$*" >&2
  exit 1
}

# --- 1. tools ---------------------------------------------------------------
say "tools"
if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null || ! command -v amtool >/dev/null; then
  echo "installing Debian's prometheus (brings promtool) and prometheus-alertmanager (amtool)"
  export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1
  apt-get update -qq || fail "apt-get update failed"
  apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null \
    || fail "apt-get install prometheus prometheus-alertmanager failed"
fi
if ! command -v mailpit >/dev/null; then
  PATH="$PATH:$(go env GOPATH)/bin"
  command -v mailpit >/dev/null || go install github.com/axllent/mailpit@v1.33.1 || fail "go install mailpit"
fi
for tool in promtool prometheus amtool prometheus-alertmanager mailpit python3 jq curl go; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
prometheus --version 2>&1 | head -n 1

# --- 2. promtool ------------------------------------------------------------
say "promtool check config / check rules / test rules"
promtool check config "$root/deploy/prometheus/prometheus.yml" || fail "promtool check config"
promtool check rules "$root/deploy/prometheus/alerts.yml" || fail "promtool check rules"
(cd "$root/deploy/prometheus" && promtool test rules alerts_test.yml) || fail "promtool test rules"
promtool check rules "$root/deploy/prometheus/backup-alerts.yml" || fail "promtool check rules (backups)"
(cd "$root/deploy/prometheus" && promtool test rules backup-alerts_test.yml) || fail "promtool test rules (backups)"
yaml_json() { python3 -c 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)' "$1"; }
# The backups' rules (backup-alerts.yml) follow the same rules.
alerts_json=$({ yaml_json "$root/deploy/prometheus/alerts.yml"; yaml_json "$root/deploy/prometheus/backup-alerts.yml"; } | jq -s '{groups: (map(.groups) | add)}')
tested=$({ yaml_json "$root/deploy/prometheus/alerts_test.yml"; yaml_json "$root/deploy/prometheus/backup-alerts_test.yml"; } \
  | jq -rs '[.[].tests[].alert_rule_test[]? | select(.exp_alerts | length > 0) | .alertname] | unique[]')
mapfile -t alerts < <(jq -r '.groups[].rules[] | select(.alert) | .alert' <<<"$alerts_json")
[ "${#alerts[@]}" -ge 15 ] || fail "only ${#alerts[@]} alerts in alerts.yml"
for alert in "${alerts[@]}"; do
  rule=$(jq -c --arg a "$alert" '.groups[].rules[] | select(.alert == $a)' <<<"$alerts_json")
  jq -e '.labels.severity | IN("page", "ticket", "none")' <<<"$rule" >/dev/null || fail "$alert: severity must be page, ticket or none"
  jq -e '.annotations.summary | length > 0' <<<"$rule" >/dev/null || fail "$alert has no summary"
  anchor=$(tr '[:upper:]' '[:lower:]' <<<"$alert")
  jq -e --arg u "docs/runbooks.md#$anchor" '.annotations.runbook_url == $u' <<<"$rule" >/dev/null || fail "$alert: runbook_url must be docs/runbooks.md#$anchor"
  grep -qx "## $alert" "$root/docs/runbooks.md" || fail "docs/runbooks.md has no section \"## $alert\""
  grep -qx "$alert" <<<"$tested" || fail "$alert has no unit test that makes it fire in alerts_test.yml"
done
echo "${#alerts[@]} alerts: each with severity, summary, a runbook section and a firing test"

say "amtool check-config on deploy/alertmanager/render.sh's output"
am_dir=$(mktemp -d -t myapi-am.XXXXXX)
env -i PATH="$PATH" SMTP_HOST=smtp.example.com SMTP_USER=alerts SMTP_PASSWORD="it's a secret" ALERT_EMAIL_TO=ops@example.com \
  ALERT_WEBHOOK_URL=https://hooks.example.com/x ALERT_WATCHDOG_URL=https://hc.example.com/ping/1 \
  RUNBOOK_BASE_URL=https://github.com/example/myapi/blob/main/ sh "$root/deploy/alertmanager/render.sh" "$am_dir/alertmanager.yml" \
  || fail "render.sh with email, webhook and watchdog"
amtool check-config "$am_dir/alertmanager.yml" || fail "amtool check-config (email, webhook, watchdog)"
env -i PATH="$PATH" ALERT_WEBHOOK_URL=https://hooks.example.com/x sh "$root/deploy/alertmanager/render.sh" "$am_dir/alertmanager.yml" \
  || fail "render.sh with only a webhook"
amtool check-config "$am_dir/alertmanager.yml" >/dev/null || fail "amtool check-config (webhook only)"
if env -i PATH="$PATH" SMTP_HOST=smtp.example.com sh "$root/deploy/alertmanager/render.sh" "$am_dir/alertmanager.yml" 2>/dev/null; then
  fail "render.sh accepted a configuration that reaches nobody (no ALERT_EMAIL_TO, no ALERT_WEBHOOK_URL)"
fi
rm -rf "$am_dir"

# --- 3. Grafana files -------------------------------------------------------
say "Grafana dashboard and provisioning"
dash="$root/deploy/grafana/dashboards/myapi.json"
jq -e . "$dash" >/dev/null || fail "$dash is not valid JSON"
jq -e '
  (.uid | type == "string" and length > 0) and
  (.title | type == "string" and length > 0) and
  (.schemaVersion | type == "number") and
  (.panels | type == "array" and length > 0) and
  ([.panels[].id] | length == (unique | length)) and
  all(.panels[]; .gridPos.x >= 0 and .gridPos.w > 0 and (.gridPos.x + .gridPos.w) <= 24 and .gridPos.h > 0) and
  all(.panels[] | select(.type != "row");
      (.datasource.uid == "${datasource}") and
      (.targets | type == "array" and length > 0) and
      all(.targets[]; (.expr | type == "string" and length > 0) and (.refId | length > 0)))
' "$dash" >/dev/null || fail "$dash: every panel needs a unique id, a grid position within 24 columns, the \${datasource} variable and queries"
exprs=$(jq -r '.panels[] | select(.type != "row") | .targets[].expr' "$dash")
for needed in \
  'myapi_http_requests_total' \
  'myapi_http_request_duration_seconds_bucket' \
  'histogram_quantile(0.5,' 'histogram_quantile(0.95,' 'histogram_quantile(0.99,' \
  'sum by (route, le)' \
  'myapi_db_pool_in_use_connections' 'myapi_db_pool_max_connections' \
  'myapi_cache_requests_total' 'result="hit"' \
  'myapi_rate_limit_rejections_total' \
  'myapi:slo_errors:ratio_rate1h' 'myapi:slo_slow:ratio_rate1h' 'ALERTS{alertstate="firing"}' \
  'probe_success' 'probe_ssl_earliest_cert_expiry' 'pg_stat_database_numbackends' 'redis_memory_used_bytes' \
  'node_filesystem_avail_bytes'; do
  grep -qF -- "$needed" <<<"$exprs" || fail "the dashboard has no query with $needed"
done
for title in 'Request rate by route' 'Error ratio' 'p50 latency by route' 'p95 latency by route' \
  'p99 latency by route' 'Pool connections' 'Cache hit ratio' 'Rate-limited (429)' \
  'Availability budget burn rate' 'Latency budget burn rate' 'Firing alerts' 'Public probe' \
  'Certificate expires in' 'Dependencies up' 'PostgreSQL connections' 'Redis memory' 'Disk free'; do
  jq -e --arg t "$title" 'any(.panels[]; .title == $t)' "$dash" >/dev/null || fail "the dashboard has no panel \"$title\""
done
grep -q 'url: http://prometheus:9090' "$root/deploy/grafana/provisioning/datasources/prometheus.yml" \
  || fail "the datasource provisioning does not point at http://prometheus:9090"
grep -q 'uid: prometheus' "$root/deploy/grafana/provisioning/datasources/prometheus.yml" \
  || fail "the datasource provisioning lacks uid: prometheus (the dashboard's default)"
grep -q 'path: /var/lib/grafana/dashboards' "$root/deploy/grafana/provisioning/dashboards/myapi.yml" \
  || fail "the dashboard provisioning does not load /var/lib/grafana/dashboards"
echo "$(jq '[.panels[] | select(.type != "row")] | length' "$dash") panels, $(wc -l <<<"$exprs") queries"

# --- 4. myapi on loopback -------------------------------------------------
tmp=$(mktemp -d -t myapi-obs.XXXXXX)
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ]; then
    for log in "$tmp"/myapi.log "$tmp"/prometheus.log "$tmp"/alertmanager.log "$tmp"/hooks.log; do
      [ -s "$log" ] && { echo "--- last lines of $log"; tail -n 30 "$log"; } >&2
    done
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# spare_port prints a loopback TCP port no socket uses. It is chosen below
# the kernel's ephemeral range: a port in it may be the local end of some
# outgoing connection (pgx, Redis, a browser), which nobody listens on but
# which still makes a later bind fail ("address already in use").
read -r EPHEMERAL_LOW _ < /proc/sys/net/ipv4/ip_local_port_range
PORT_LOW=15000 PORT_HIGH=$((EPHEMERAL_LOW - 1))
[ "$PORT_HIGH" -gt $((PORT_LOW + 1000)) ] || PORT_LOW=1025
spare_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((PORT_LOW + RANDOM % (PORT_HIGH - PORT_LOW)))
    if [ -z "$(ss -Htan "( sport = :$port or dport = :$port )" 2>/dev/null)" ] \
      && ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  fail "no spare port found"
}

# wait_http URL: until URL answers 2xx, at most timeout_s seconds.
wait_http() {
  local deadline=$((SECONDS + timeout_s))
  until curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

say "build and start myapi"
(cd "$root" && go build -o "$tmp/myapi" ./cmd/myapi) || fail "go build ./cmd/myapi"
api_port=$(spare_port)
mkdir -p "$tmp/run"
(
  cd "$tmp/run" # no ./.env of the developer's is read
  exec env HOST=127.0.0.1 PORT="$api_port" \
    DATABASE_URL="sqlite:///$tmp/run/myapi.db" \
    ENVIRONMENT=development LOG_FORMAT=json LOG_LEVEL=WARNING \
    RATE_LIMIT_PER_MINUTE=0 LOGIN_RATE_LIMIT_PER_MINUTE=0 \
    OTEL_EXPORTER_OTLP_ENDPOINT= OTEL_EXPORTER_OTLP_TRACES_ENDPOINT= SENTRY_DSN= \
    "$tmp/myapi" serve
) >"$tmp/myapi.log" 2>&1 &
pids+=($!)
api="http://127.0.0.1:$api_port"
wait_http "$api/health" || fail "myapi did not answer on $api/health within ${timeout_s}s"
echo "myapi answers on $api"

# --- 5. Prometheus scraping it ---------------------------------------------
say "start Prometheus scraping myapi"
prom_port=$(spare_port)
while [ "$prom_port" = "$api_port" ]; do prom_port=$(spare_port); done
mkdir -p "$tmp/prometheus" "$tmp/prometheus-data"
cp "$root/deploy/prometheus/alerts.yml" "$tmp/prometheus/alerts.yml"
cp "$root/deploy/prometheus/backup-alerts.yml" "$tmp/prometheus/backup-alerts.yml"
echo "[]" >"$tmp/prometheus/blackbox-targets.yml" # no public URL to probe here

# Alertmanager with render.sh's configuration: email to a real SMTP server
# (mailpit), webhooks to a listener that writes each POST body to
# $tmp/hooks/<path>.<n>.json. Only the timings are shortened.
hook_port=$(spare_port) am_port=$(spare_port) smtp_port=$(spare_port) mail_port=$(spare_port)
mkdir -p "$tmp/hooks" "$tmp/am" "$tmp/am-data"
python3 - "$hook_port" "$tmp/hooks" >"$tmp/hooks.log" 2>&1 <<'PY' &
import http.server, itertools, os, sys
port, out = int(sys.argv[1]), sys.argv[2]
seq = itertools.count()
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        name = self.path.strip("/").replace("/", "_") or "root"
        with open(os.path.join(out, "%s.%d.json" % (name, next(seq))), "wb") as f:
            f.write(body)
        self.send_response(200)
        self.end_headers()
http.server.HTTPServer(("127.0.0.1", port), Hook).serve_forever()
PY
pids+=($!)
mailpit --smtp "127.0.0.1:$smtp_port" --listen "127.0.0.1:$mail_port" --database "$tmp/mailpit.db" >"$tmp/mailpit.log" 2>&1 &
pids+=($!)
env -i PATH="$PATH" SMTP_HOST=127.0.0.1 SMTP_PORT="$smtp_port" SMTP_TLS=none SMTP_FROM=alerts@example.com \
  ALERT_EMAIL_TO=oncall@example.com ALERT_WEBHOOK_URL="http://127.0.0.1:$hook_port/page" \
  ALERT_WATCHDOG_URL="http://127.0.0.1:$hook_port/watchdog" RUNBOOK_BASE_URL=https://runbooks.example.com/myapi/ \
  sh "$root/deploy/alertmanager/render.sh" "$tmp/am/alertmanager.yml" || fail "render.sh"
sed -i -e 's/group_wait: 30s/group_wait: 1s/' -e 's/group_interval: [0-9]*m/group_interval: 1s/' "$tmp/am/alertmanager.yml"
amtool check-config "$tmp/am/alertmanager.yml" >/dev/null || fail "amtool check-config (loopback)"
prometheus-alertmanager --config.file="$tmp/am/alertmanager.yml" --storage.path="$tmp/am-data" \
  --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= >"$tmp/alertmanager.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$am_port/-/ready" || fail "Alertmanager was not ready within ${timeout_s}s"
wait_http "http://127.0.0.1:$mail_port/api/v1/messages" || fail "mailpit did not answer within ${timeout_s}s"
echo "Alertmanager on 127.0.0.1:$am_port, mailpit SMTP :$smtp_port, webhooks :$hook_port"
# The same file with compose's service discovery (the dns_sd_configs block,
# up to its refresh_interval line) swapped for the loopback target, and the
# intervals shortened.
sed -e "/^    dns_sd_configs:/,/refresh_interval:/c\\
    static_configs:\\
      - targets: [\"127.0.0.1:$api_port\"]" \
    -e 's/^\(  scrape_interval:\).*/\1 1s/' \
    -e 's/^\(  evaluation_interval:\).*/\1 1s/' \
    -e "s/alertmanager:9093/127.0.0.1:$am_port/" -e "s|/run/prometheus/blackbox-targets.yml|$tmp/prometheus/blackbox-targets.yml|" \
    "$root/deploy/prometheus/prometheus.yml" >"$tmp/prometheus/prometheus.yml"
grep -q "targets: \[\"127.0.0.1:$api_port\"\]" "$tmp/prometheus/prometheus.yml" \
  || fail "could not render the scrape target (is the dns_sd_configs block of prometheus.yml still there?)"
! grep -q dns_sd_configs "$tmp/prometheus/prometheus.yml" || fail "the rendered configuration still uses DNS discovery"
grep -q 'scrape_interval: 1s' "$tmp/prometheus/prometheus.yml" || fail "could not render the scrape interval"
promtool check config "$tmp/prometheus/prometheus.yml" >/dev/null || fail "the rendered configuration is invalid"
prometheus \
  --config.file="$tmp/prometheus/prometheus.yml" \
  --storage.tsdb.path="$tmp/prometheus-data" \
  --web.listen-address="127.0.0.1:$prom_port" \
  --log.level=warn >"$tmp/prometheus.log" 2>&1 &
pids+=($!)
prom="http://127.0.0.1:$prom_port"
wait_http "$prom/-/ready" || fail "Prometheus was not ready on $prom within ${timeout_s}s"
echo "Prometheus ready on $prom"

# --- 6. requests, then the counter in Prometheus ---------------------------
say "requests to myapi"
for _ in 1 2 3; do
  curl -fsS -o /dev/null "$api/health"
  curl -fsS -o /dev/null "$api/items"
  curl -sS -o /dev/null "$api/items/999999" # 404
  curl -sS -o /dev/null "$api/no/such/path" # unmatched
done
# Read whole, then match: grep -q stops reading at its first match, and
# under pipefail curl's failed write (exit 23) would fail the check.
metrics=$(curl -fsS "$api/metrics") || fail "myapi's /metrics did not answer"
grep -q '^myapi_http_requests_total{' <<<"$metrics" || fail "myapi's /metrics lacks myapi_http_requests_total"

# query EXPR: prints Prometheus's JSON answer to an instant query.
query() {
  curl -fsS --max-time 5 --get --data-urlencode "query=$1" "$prom/api/v1/query"
}

say "poll Prometheus for myapi_http_requests_total (at most ${timeout_s}s)"
deadline=$((SECONDS + timeout_s))
while :; do
  answer=$(query 'myapi_http_requests_total{job="myapi",route="/health"}' 2>/dev/null || true)
  if [ -n "$answer" ] && jq -e '.status == "success" and (.data.result | length > 0) and (.data.result[0].value[1] | tonumber >= 3)' <<<"$answer" >/dev/null; then
    break
  fi
  [ "$SECONDS" -lt "$deadline" ] || fail "myapi_http_requests_total{route=\"/health\"} did not reach 3 in Prometheus within ${timeout_s}s (last answer: ${answer:-none})"
  sleep 1
done
jq -r '.data.result[] | "  \(.metric.__name__){method=\"\(.metric.method)\",route=\"\(.metric.route)\",status=\"\(.metric.status)\"} \(.value[1])"' <<<"$answer"
series=$(query 'myapi_http_requests_total{job="myapi"}' | jq '.data.result | length')
echo "  $series series of myapi_http_requests_total in all"
jq -e '.data.result | length > 0 and all(.[]; .value[1] == "1")' <<<"$(query 'up{job="myapi"}')" >/dev/null \
  || fail "up{job=\"myapi\"} is not 1"
query 'myapi_http_requests_total{job="myapi",route="/items/{item_id}",status="404"}' \
  | jq -e '.data.result | length == 1' >/dev/null || fail "the 404s are not labelled with their route template"
query 'myapi_http_request_duration_seconds_bucket{job="myapi",route="/health"}' \
  | jq -e '.data.result | length > 0' >/dev/null || fail "no latency histogram for /health"

# --- 7. rules loaded, dashboard queries valid -------------------------------
say "alert rules loaded"
rules=$(curl -fsS "$prom/api/v1/rules")
for alert in "${alerts[@]}"; do
  jq -e --arg a "$alert" '[.data.groups[].rules[] | select(.type == "alerting") | .name] | index($a) != null' <<<"$rules" >/dev/null \
    || fail "Prometheus did not load the alert $alert"
  echo "  $alert: $(jq -r --arg a "$alert" '.data.groups[].rules[] | select(.name == $a) | .health' <<<"$rules")"
done
jq -e '[.data.groups[].rules[] | select(.health != "ok" and .health != "unknown")] | length == 0' <<<"$rules" >/dev/null \
  || fail "an alert rule is unhealthy: $(jq -c '[.data.groups[].rules[] | {name, health, lastError}]' <<<"$rules")"

say "dashboard queries accepted by Prometheus"
n=0
while IFS= read -r expr; do
  # Grafana's variables, with the values they take for this job.
  rendered=${expr//"\$__rate_interval"/1m}
  rendered=${rendered//"\$job"/myapi}
  rendered=${rendered//"\$instance"/.*}
  answer=$(curl -sS --max-time 5 --get --data-urlencode "query=$rendered" "$prom/api/v1/query")
  jq -e '.status == "success"' <<<"$answer" >/dev/null || fail "dashboard query rejected: $rendered: $(jq -r '.error // .' <<<"$answer")"
  n=$((n + 1))
done <<<"$exprs"
echo "  $n queries valid"
answer=$(query 'sum by (route) (rate(myapi_http_requests_total{job=~"myapi",instance=~".*"}[1m]))')
jq -e '.data.result | length > 0' <<<"$answer" >/dev/null || fail "the request-rate panel's query returns nothing"

# --- 8. alerts reach a person ----------------------------------------------
say "Watchdog: Prometheus -> Alertmanager -> the watchdog webhook"
deadline=$((SECONDS + timeout_s))
until compgen -G "$tmp/hooks/watchdog.*.json" >/dev/null; do
  [ "$SECONDS" -lt "$deadline" ] || fail "no Watchdog notification reached the watchdog webhook within ${timeout_s}s"
  sleep 1
done
jq -e '.status == "firing" and any(.alerts[]; .labels.alertname == "Watchdog")' "$(compgen -G "$tmp/hooks/watchdog.*.json" | head -1)" >/dev/null \
  || fail "the watchdog webhook got something else: $(head -c 300 "$(compgen -G "$tmp/hooks/watchdog.*.json" | head -1)")"
echo "  the Watchdog reached the dead man's switch's URL"

say "a page: Alertmanager -> email (mailpit) and webhook"
amtool alert add --alertmanager.url="http://127.0.0.1:$am_port" MyapiNoInstanceUp severity=page job=myapi \
  --annotation=summary="no myapi instance is up" --annotation=runbook_url="docs/runbooks.md#myapinoinstanceup" \
  || fail "amtool alert add"
deadline=$((SECONDS + timeout_s))
while :; do
  msgs=$(curl -fsS "http://127.0.0.1:$mail_port/api/v1/messages" 2>/dev/null || true)
  id=$(jq -r '[.messages[]? | select(.Subject | startswith("[PAGE] FIRING: MyapiNoInstanceUp"))][0].ID // empty' <<<"$msgs")
  [ -z "$id" ] || break
  [ "$SECONDS" -lt "$deadline" ] || fail "no page email reached mailpit within ${timeout_s}s: $(jq -c '[.messages[]?.Subject]' <<<"$msgs")"
  sleep 1
done
text=$(curl -fsS "http://127.0.0.1:$mail_port/api/v1/message/$id" | jq -r .Text)
grep -qF "Runbook: https://runbooks.example.com/myapi/docs/runbooks.md#myapinoinstanceup" <<<"$text" \
  || fail "the page email lacks its runbook link: $text"
deadline=$((SECONDS + timeout_s))
until grep -ls '"MyapiNoInstanceUp"' "$tmp"/hooks/page.*.json >/dev/null 2>&1; do
  [ "$SECONDS" -lt "$deadline" ] || fail "the page did not reach the webhook within ${timeout_s}s"
  sleep 1
done
echo "  email \"$(jq -r --arg id "$id" '.messages[] | select(.ID == $id) | .Subject' <<<"$msgs")\" to oncall@example.com, with its runbook link; webhook called"

echo
echo "observability check passed"
