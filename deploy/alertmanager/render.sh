#!/bin/sh
# Writes Alertmanager's configuration from the environment (Alertmanager
# cannot read environment variables itself):
#
#   deploy/alertmanager/render.sh OUTPUT
#
# docker-compose.yml runs it in the alertmanager container at every start
# (POSIX sh: the image's busybox), with the SMTP settings myapi uses, so
# alerts go out through the same mail server:
#   SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_FROM, SMTP_TLS
#   ALERT_EMAIL_TO      where alert emails go (with SMTP_HOST)
#   ALERT_WEBHOOK_URL   receives every page and ticket as Alertmanager's
#                       webhook JSON (a chat or on-call service's endpoint)
#   ALERT_WATCHDOG_URL  a dead man's switch outside this host: the Watchdog
#                       alert is posted there every minute, and it alerts
#                       when that stops
#   RUNBOOK_BASE_URL    prefixed to each alert's runbook_url
#                       (docs/runbooks.md#...), e.g. the repository's URL
#                       ending in /blob/main/
# At least one of email (SMTP_HOST with ALERT_EMAIL_TO) and
# ALERT_WEBHOOK_URL must be set: alerts that reach nobody are refused.
# .ci/run renders it with example values and checks it with amtool.
set -eu

out=${1:?usage: render.sh OUTPUT}

# q VALUE: VALUE as a YAML single-quoted string.
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }

email=""
if [ -n "${SMTP_HOST:-}" ] && [ -n "${ALERT_EMAIL_TO:-}" ]; then
  email=1
fi
webhook=${ALERT_WEBHOOK_URL:-}
watchdog=${ALERT_WATCHDOG_URL:-}
if [ -z "$email" ] && [ -z "$webhook" ]; then
  echo "alertmanager: no receiver: set ALERT_EMAIL_TO (with SMTP_HOST) and/or ALERT_WEBHOOK_URL" >&2
  exit 1
fi

# Alertmanager sends implicit TLS on port 465 by itself; require_tls is
# STARTTLS on a plain connection.
case ${SMTP_TLS:-starttls} in
  starttls) require_tls=true ;;
  tls | none) require_tls=false ;;
  *) echo "alertmanager: SMTP_TLS: want starttls, tls or none" >&2; exit 1 ;;
esac

# webhook URL SEND_RESOLVED: a receiver's webhook_configs.
webhook() {
  cat <<YAML
    webhook_configs:
      - url: $(q "$1")
        send_resolved: $2
YAML
}

# receiver NAME SUBJECT_PREFIX: a receiver with every configured channel.
receiver() {
  echo "  - name: $1"
  if [ -n "$email" ]; then
    cat <<YAML
    email_configs:
      - to: $(q "$ALERT_EMAIL_TO")
        send_resolved: true
        headers:
          Subject: '[$2] {{ .Status | toUpper }}: {{ .CommonLabels.alertname }} {{ .CommonAnnotations.summary }}'
        text: '{{ template "myapi.text" . }}'
YAML
  fi
  if [ -n "$webhook" ]; then webhook "$webhook" true; fi
}

{
  echo "# Rendered by deploy/alertmanager/render.sh; edit that script, not this file."
  echo "global:"
  echo "  resolve_timeout: 5m"
  if [ -n "$email" ]; then
    echo "  smtp_smarthost: $(q "$SMTP_HOST:${SMTP_PORT:-587}")"
    echo "  smtp_from: $(q "${SMTP_FROM:-alertmanager@localhost}")"
    echo "  smtp_require_tls: $require_tls"
    if [ -n "${SMTP_USER:-}" ]; then
      echo "  smtp_auth_username: $(q "$SMTP_USER")"
      echo "  smtp_auth_password: $(q "${SMTP_PASSWORD:-}")"
    fi
  fi
  cat <<YAML
templates:
  - myapi.tmpl
route:
  receiver: ticket
  group_by: [alertname, job]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 12h
  routes:
    - matchers: ['alertname="Watchdog"']
      receiver: watchdog
      group_wait: 0s
      group_interval: 1m
      repeat_interval: 1m
    - matchers: ['severity="page"']
      receiver: page
      repeat_interval: 1h
    - matchers: ['severity="ticket"']
      receiver: ticket
inhibit_rules:
  # Every replica down pages once, not once per replica as well.
  - source_matchers: ['alertname="MyapiNoInstanceUp"']
    target_matchers: ['alertname="MyapiInstanceDown"']
    equal: [job]
  # A fast burn is already paging: no ticket for the same budget.
  - source_matchers: ['alertname="MyapiAvailabilityBurnRateFast"']
    target_matchers: ['alertname="MyapiAvailabilityBurnRateSlow"']
    equal: [job]
  - source_matchers: ['alertname="MyapiLatencyBurnRateFast"']
    target_matchers: ['alertname="MyapiLatencyBurnRateSlow"']
    equal: [job]
receivers:
YAML
  receiver page PAGE
  receiver ticket TICKET
  echo "  - name: watchdog"
  if [ -n "$watchdog" ]; then webhook "$watchdog" false; fi
} >"$out"

# The email body (myapi.tmpl beside OUTPUT, where the templates line above
# finds it): every alert with its summary, description, labels and runbook
# link.
tmpl="$(dirname "$out")/myapi.tmpl"
{
  printf '{{ define "myapi.text" }}'
  printf '{{ range .Alerts }}[{{ .Status | toUpper }}] {{ .Labels.alertname }} ({{ .Labels.severity }})\n'
  printf '{{ .Annotations.summary }}\n{{ with .Annotations.description }}{{ . }}\n{{ end }}'
  printf 'Runbook: %s{{ .Annotations.runbook_url }}\n' "$(printf '%s' "${RUNBOOK_BASE_URL:-}" | sed 's/[{}]//g')"
  printf 'Labels:{{ range .Labels.SortedPairs }} {{ .Name }}={{ .Value }}{{ end }}\n'
  printf 'Since: {{ .StartsAt }}\n\n{{ end }}{{ end }}\n'
} >"$tmpl"
