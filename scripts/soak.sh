#!/usr/bin/env bash
# The soak: many recoveries at once against several instances of the service on one
# PostgreSQL, while instances are killed (SIGKILL) and PostgreSQL is crashed at random; then a
# count of what was requested, emailed, confirmed and reset, and of anything duplicated, lost or
# left half done (all must be 0), and the audit chain's verification. Exit 0 only if all hold.
#   scripts/soak.sh [--seconds 180] [--people 6] [--instances 2] [--seed N]
# It starts its own PostgreSQL (one that keeps acknowledged commits through a crash) and AWS
# emulator in .services/soak, and uses the debug build (the one the tests build).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
export SERVICES_DIR=$PWD/.services/soak
trap 'scripts/services.sh stop' EXIT
scripts/services.sh start-postgres
scripts/services.sh start-emulator
# shellcheck disable=SC1091
source "$SERVICES_DIR/env"
cargo build --locked --bin mfa-recovery
.venv/bin/python scripts/soak.py --binary target/debug/mfa-recovery "$@"
