#!/usr/bin/env bash
# Runs the service locally against a throwaway PostgreSQL and the AWS emulator, with a demo
# user pool holding one user ("demo", password "Demo-Passw0rd!") who has a TOTP authenticator.
#   scripts/dev.sh          Ctrl-C stops the service, the database and the emulator (their state
#                           is thrown away)
#   scripts/dev.sh --keep   Ctrl-C stops the service only: the database and the emulator keep
#                           running with the demo's state, for scripts/demo-admin.sh; stop them
#                           with `SERVICES_DIR=.services/dev scripts/services.sh stop`
# While it runs, scripts/demo-admin.sh runs the administrative commands against the demo.
set -euo pipefail
cd "$(dirname "$0")/.."

keep=false
for arg in "$@"; do
  case "$arg" in
    --keep) keep=true ;;
    *) echo "usage: $0 [--keep]" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
export SERVICES_DIR=$PWD/.services/dev
service=
finish() {
  [ -n "$service" ] && kill "$service" 2>/dev/null && wait "$service" 2>/dev/null
  if $keep; then
    echo "dev: the database and the emulator keep running (SERVICES_DIR=.services/dev scripts/services.sh stop)" >&2
  else
    scripts/services.sh stop
  fi
}
trap finish EXIT
scripts/services.sh start
# shellcheck disable=SC1091
source "$SERVICES_DIR/env"

export SES_FROM_ADDRESS=no-reply@recovery.local
eval "$(.venv/bin/python scripts/emulator_seed.py demo "$TEST_AWS_ENDPOINT" "$SES_FROM_ADDRESS")"
export DATABASE_URL=$TEST_DATABASE_URL
export AWS_ENDPOINT_URL=$TEST_AWS_ENDPOINT
export AWS_REGION=${AWS_REGION:-us-east-1}
export APP_ENV=local
export BIND_ADDR=${BIND_ADDR:-127.0.0.1:8080}
export ADMIN_BIND_ADDR=${ADMIN_BIND_ADDR:-127.0.0.1:9090}
# What scripts/demo-admin.sh needs to reach the same database and pool.
{
  for name in DATABASE_URL AWS_ENDPOINT_URL AWS_REGION COGNITO_USER_POOL_ID COGNITO_CLIENT_ID \
              SES_FROM_ADDRESS APP_ENV; do
    printf 'export %s=%q\n' "$name" "${!name}"
  done
} > "$SERVICES_DIR/demo.env"

cargo build --locked --bin mfa-recovery
target/debug/mfa-recovery serve &
service=$!
echo "dev: waiting for the service to answer on http://$BIND_ADDR ..." >&2
until curl -fsS -o /dev/null "http://$ADMIN_BIND_ADDR/readyz" 2>/dev/null; do
  kill -0 "$service" 2>/dev/null || { echo "dev: the service stopped; its log is above" >&2; exit 1; }
  sleep 0.5
done

if $keep; then
  at_exit="Ctrl-C stops the service; the database and the emulator keep the demo's state (--keep)."
else
  at_exit="Ctrl-C stops the service, the database and the emulator, and throws their state away
(scripts/dev.sh --keep leaves the database and the emulator running)."
fi
cat <<MSG

mfa-recovery answers on http://$BIND_ADDR (user pool $COGNITO_USER_POOL_ID, MFA required;
the AWS emulator is on $TEST_AWS_ENDPOINT). Walk through a recovery for the demo user, who
"lost their phone":

  1. Open http://$BIND_ADDR/recover in a browser and enter the username: demo

  2. Read the email (the emulator keeps what SES sent; the code looks like 1234 5678):
     curl -s $TEST_AWS_ENDPOINT/_harness/ses/messages | python3 -m json.tool

  3. Type the code and the password, Demo-Passw0rd!  The lost authenticator is removed, read
     back, every session signed out, and the page shows a new authenticator's QR code and key.

  4. Scan the QR code with an authenticator app, or let the emulator's helper play the app:
     .venv/bin/python scripts/emulator_seed.py totp KEY-FROM-THE-PAGE
     Type the 6 digits: the last page says you are all set, and a second email told the user
     what happened. The same steps work through the JSON API (docs/INTEGRATION.md).

  Each account gets at most 3 codes an hour (RECOVERY_REQUESTS_PER_USER_PER_HOUR), 2 of them
  for requests from one address: past that, a request is still answered "accepted" (the answer
  never tells who exists) but no email goes out. The support desk's own requests still do.

Administrative commands against this demo (in another terminal):
  scripts/demo-admin.sh staff add --name sam --role support     # prints a staff key once
  scripts/demo-admin.sh staff add --name ada --role auditor
  scripts/demo-admin.sh audit verify
  scripts/demo-admin.sh audit export --format jsonl

$at_exit

MSG
wait "$service"
