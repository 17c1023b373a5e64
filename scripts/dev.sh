#!/usr/bin/env bash
# Runs the service locally against a throwaway PostgreSQL and the AWS emulator, with a demo
# user pool holding one user ("demo", password "Demo-Passw0rd!") who has a TOTP authenticator.
# Everything stops with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
export SERVICES_DIR=$PWD/.services/dev
trap 'scripts/services.sh stop' EXIT
scripts/services.sh start
# shellcheck disable=SC1091
source "$SERVICES_DIR/env"

export SES_FROM_ADDRESS=no-reply@recovery.local
eval "$(.venv/bin/python scripts/emulator_seed.py demo "$TEST_AWS_ENDPOINT" "$SES_FROM_ADDRESS")"
export DATABASE_URL=$TEST_DATABASE_URL
export AWS_ENDPOINT_URL=$TEST_AWS_ENDPOINT
export APP_ENV=local
export BIND_ADDR=${BIND_ADDR:-127.0.0.1:8080}

cat <<MSG

mfa-recovery is starting on http://$BIND_ADDR (user pool $COGNITO_USER_POOL_ID, MFA required).
Walk through a recovery for the demo user, who "lost their phone":

  1. Open http://$BIND_ADDR/recover in a browser and enter the username: demo

  2. Read the email (the emulator keeps what SES sent; the code looks like 1234 5678):
     curl -s $TEST_AWS_ENDPOINT/_harness/ses/messages | python3 -m json.tool

  3. Type the code and the password, Demo-Passw0rd!  The lost authenticator is removed, read
     back, every session signed out, and the page shows a new authenticator's QR code and key.

  4. Scan the QR code with an authenticator app, or let the emulator's helper play the app:
     .venv/bin/python scripts/emulator_seed.py totp KEY-FROM-THE-PAGE
     Type the 6 digits: the last page says you are all set, and a second email told the user
     what happened. The same steps work through the JSON API (README, "The API at a glance").

MSG
cargo run --locked -- serve
