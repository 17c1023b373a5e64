#!/usr/bin/env bash
# Runs the service locally against a throwaway PostgreSQL and the AWS emulator, with a demo
# user pool holding one user ("demo", password "Demo-Passw0rd!") who has a TOTP authenticator.
# Everything stops with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
trap 'scripts/services.sh stop' EXIT
scripts/services.sh start
# shellcheck disable=SC1091
source .services/env

export SES_FROM_ADDRESS=no-reply@recovery.local
eval "$(.venv/bin/python scripts/emulator_seed.py demo "$TEST_AWS_ENDPOINT" "$SES_FROM_ADDRESS")"
export DATABASE_URL=$TEST_DATABASE_URL
export AWS_ENDPOINT_URL=$TEST_AWS_ENDPOINT
export APP_ENV=local
export BIND_ADDR=${BIND_ADDR:-127.0.0.1:8080}

cat <<MSG

mfa-recovery is starting on http://$BIND_ADDR (user pool $COGNITO_USER_POOL_ID, MFA required).
Walk through a recovery for the demo user, who "lost their phone":

  1. Ask for a recovery (the answer is the same for every username):
     curl -s -X POST http://$BIND_ADDR/v1/recovery -H 'content-type: application/json' \\
          -d '{"username":"demo"}'

  2. Read the email (the emulator keeps what SES sent; the code looks like 1234 5678):
     curl -s $TEST_AWS_ENDPOINT/_harness/ses/messages | python3 -m json.tool

  3. Confirm with the code and the password:
     curl -s -X POST http://$BIND_ADDR/v1/recovery/confirm -H 'content-type: application/json' \\
          -d '{"username":"demo","code":"1234 5678","password":"Demo-Passw0rd!"}'

     {"status":"mfa_reset"} means the authenticator was removed and read back; the next sign-in
     asks the user to enrol a new one. A second email tells the user what happened.

MSG
cargo run --locked -- serve
