#!/usr/bin/env bash
# Runs every test: unit tests, and integration tests against a real PostgreSQL server and the
# AWS emulator, both installed if needed and started here on 127.0.0.1, stopped at the end;
# then a 30 s soak (scripts/soak.sh) and the benchmark's smoke run (scripts/bench.sh --smoke).
#   scripts/test.sh [extra cargo test arguments: then without the soak]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
export SERVICES_DIR=$PWD/.services/test
trap 'scripts/services.sh stop' EXIT
scripts/services.sh start
# shellcheck disable=SC1091
source "$SERVICES_DIR/env"

cargo test --locked "$@"
# Then the soak, in its short form (the whole suite only): recoveries at once while the service
# is killed and PostgreSQL crashed at random; it fails on anything duplicated, lost or half done.
# And the benchmark's smoke run (that it works, not its numbers).
if [ $# -eq 0 ]; then
  scripts/soak.sh --seconds "${SOAK_SECONDS:-30}"
  scripts/bench.sh --smoke
fi
