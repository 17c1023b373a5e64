#!/usr/bin/env bash
# Benchmark (not a test): do response times tell known, unknown and TOTP-less users apart?
# Starts PostgreSQL and the emulator, seeds users, runs the service (release build unless
# PROFILE=dev) and prints per-group medians and p95 of both public endpoints.
#   scripts/bench-enumeration.sh [rounds, default 40]
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${1:-40}
PROFILE=${PROFILE:-release}
scripts/install-deps.sh
export SERVICES_DIR=$PWD/.services/bench
trap 'kill "${SERVICE_PID:-}" 2>/dev/null || true; scripts/services.sh stop' EXIT
scripts/services.sh start
# shellcheck disable=SC1091
source "$SERVICES_DIR/env"

if [ "$PROFILE" = release ]; then cargo build --locked --release; BIN=target/release/mfa-recovery
else cargo build --locked; BIN=target/debug/mfa-recovery; fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SEEDED=.services/bench/bench-pool.env
export SES_FROM_ADDRESS=no-reply@bench.local
(cd scripts && ../.venv/bin/python bench_enumeration.py "http://127.0.0.1:$PORT" "$TEST_AWS_ENDPOINT" \
  "$SES_FROM_ADDRESS" "$ROUNDS" "../$SEEDED") &
BENCH_PID=$!
while [ ! -s "$SEEDED" ]; do sleep 0.2; done
# shellcheck disable=SC1090
source "$SEEDED"
# Limits high enough that the benchmark measures the work, not the refusals.
DATABASE_URL=$TEST_DATABASE_URL AWS_ENDPOINT_URL=$TEST_AWS_ENDPOINT BIND_ADDR=127.0.0.1:$PORT \
RECOVERY_REQUESTS_PER_IP_PER_HOUR=1000000 RECOVERY_MAX_ATTEMPTS=1000000 \
RECOVERY_FAILED_CONFIRMS_PER_ACCOUNT_PER_DAY=1000000 RECOVERY_FAILED_CONFIRM_DELAY_SECONDS=0 \
RUST_LOG=error "$BIN" serve &
SERVICE_PID=$!
wait "$BENCH_PID"
