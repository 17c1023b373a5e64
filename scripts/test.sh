#!/usr/bin/env bash
# Runs the lints (scripts/lint.sh: rustfmt, clippy -D warnings, cargo-deny), then every test:
# unit tests, and integration tests against a real PostgreSQL server and the AWS emulator, both
# installed if needed and started here on 127.0.0.1, stopped at the end; then a 30 s soak
# (scripts/soak.sh) and the benchmarks' smoke runs (scripts/bench.sh --smoke, and
# scripts/bench-audit.sh --smoke: the audit log's queries and verification on 20,000 events).
#   scripts/test.sh [extra cargo test arguments: then only those tests, without lints or soak]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
[ $# -gt 0 ] || scripts/lint.sh
export SERVICES_DIR=$PWD/.services/test
trap 'scripts/services.sh stop' EXIT
scripts/services.sh start
# shellcheck disable=SC1091
source "$SERVICES_DIR/env"

cargo test --locked "$@"
# Then the soak, in its short form (the whole suite only): recoveries at once while the service
# is killed and PostgreSQL crashed at random; it fails on anything duplicated, lost or half done.
# And the benchmarks' smoke runs (that they work, not their numbers).
if [ $# -eq 0 ]; then
  scripts/soak.sh --seconds "${SOAK_SECONDS:-30}"
  scripts/bench.sh --smoke
  scripts/bench-audit.sh --smoke
fi
