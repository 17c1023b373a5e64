#!/usr/bin/env bash
# Runs every test: unit tests, and integration tests against a real PostgreSQL server and the
# AWS emulator, both installed if needed and started here on 127.0.0.1, stopped at the end.
#   scripts/test.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
export SERVICES_DIR=$PWD/.services/test
trap 'scripts/services.sh stop' EXIT
scripts/services.sh start
# shellcheck disable=SC1091
source "$SERVICES_DIR/env"

cargo test --locked "$@"
