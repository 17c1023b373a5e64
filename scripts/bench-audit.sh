#!/usr/bin/env bash
# The audit log at scale: seeds N chained events (default 10,000,000: about 15 minutes and 8 GB of
# disk) and prints how long auditors' queries and verification from a checkpoint take through
# the API, against the query as it was before (see scripts/bench_audit.py).
#   scripts/bench-audit.sh [--events N] [--reps 30] [--full-walk]   release build
#   scripts/bench-audit.sh --smoke                                  the debug build, 20,000 events:
#                                                                   checks that it works, not its numbers
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
profile=${PROFILE:-release}
args=()
for arg in "$@"; do
  if [ "$arg" = --smoke ]; then profile=debug; args+=(--events 20000 --reps 3); else args+=("$arg"); fi
done
[ "$profile" = dev ] && profile=debug
if [ "$profile" = release ]; then
  cargo build --locked --release --bin mfa-recovery
else
  cargo build --locked --bin mfa-recovery
fi

export SERVICES_DIR=$PWD/.services/bench-audit
trap 'scripts/services.sh stop' EXIT
PG_FSYNC=on scripts/services.sh start-postgres
scripts/services.sh start-emulator
# shellcheck disable=SC1091
source "$SERVICES_DIR/env"
echo "bench-audit: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $profile build"
.venv/bin/python scripts/bench_audit.py --binary "target/$profile/mfa-recovery" "${args[@]}"
