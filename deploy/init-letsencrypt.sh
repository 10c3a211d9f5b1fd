#!/bin/sh
# Obtains the first Let's Encrypt certificate for the compose deployment.
#
#   deploy/init-letsencrypt.sh [--staging] [--force]
#
# Needs DOMAIN and LETSENCRYPT_EMAIL (environment or .env), DNS of DOMAIN
# pointing at this host, and ports 80/443 reachable. nginx cannot start
# without a certificate, so: (1) a throw-away self-signed one is written where
# certbot will put the real one, (2) nginx starts (with the whole stack),
# (3) certbot proves the domain with the webroot method
# (http://DOMAIN/.well-known/acme-challenge/, served by nginx from the
# certbot-www volume), (4) nginx reloads with the real certificate.
# --staging uses Let's Encrypt's staging CA (no rate limits, untrusted
# certificate): try it first, then run again with --force for the real one.
#
# Renewal afterwards, e.g. from the host's crontab:
#   17 3,15 * * * cd /srv/myapi && docker compose run --rm certbot renew --webroot -w /var/www/certbot --quiet && docker compose exec nginx nginx -s reload
set -eu
cd "$(dirname "$0")/.."

compose=${COMPOSE:-docker compose}
fromenv() { if [ -f .env ]; then sed -n "s/^$1=//p" .env | tail -1 | tr -d '"'"'"; fi; }
DOMAIN=${DOMAIN:-$(fromenv DOMAIN)}
EMAIL=${LETSENCRYPT_EMAIL:-$(fromenv LETSENCRYPT_EMAIL)}
[ -n "$DOMAIN" ] || { echo "init-letsencrypt: set DOMAIN (in .env)" >&2; exit 1; }
[ -n "$EMAIL" ] || { echo "init-letsencrypt: set LETSENCRYPT_EMAIL (in .env): Let's Encrypt's expiry notices go there" >&2; exit 1; }
staging="" force=""
for arg in "$@"; do
  case $arg in
    --staging) staging=--staging ;;
    --force) force=1 ;;
    *) echo "usage: deploy/init-letsencrypt.sh [--staging] [--force]" >&2; exit 2 ;;
  esac
done
live=/etc/letsencrypt/live/$DOMAIN

certbot_sh() { $compose run --rm --no-deps --entrypoint sh certbot -c "$1"; }

if [ -z "$force" ] && certbot_sh "test -f '$live/fullchain.pem' && test ! -f '$live/.self-signed'"; then
  echo "init-letsencrypt: $live already holds a certificate; renew with 'certbot renew' (see above), or replace it with --force"
  exit 0
fi

echo "### 1/4 temporary self-signed certificate for $DOMAIN"
certbot_sh "mkdir -p '$live' && openssl req -x509 -nodes -newkey rsa:2048 -days 1 \
  -keyout '$live/privkey.pem' -out '$live/fullchain.pem' -subj '/CN=$DOMAIN' && touch '$live/.self-signed'"

echo "### 2/4 starting the stack (nginx on the temporary certificate)"
$compose up -d nginx

echo "### 3/4 certbot --webroot for $DOMAIN"
certbot_sh "rm -rf '$live' '/etc/letsencrypt/archive/$DOMAIN' '/etc/letsencrypt/renewal/$DOMAIN.conf'"
# shellcheck disable=SC2086  # $staging is empty or one word
$compose run --rm --no-deps certbot certonly --webroot -w /var/www/certbot \
  -d "$DOMAIN" --email "$EMAIL" --agree-tos --no-eff-email --non-interactive $staging

echo "### 4/4 reloading nginx"
$compose exec nginx nginx -s reload
echo "init-letsencrypt: https://$DOMAIN/ serves the Let's Encrypt certificate"
