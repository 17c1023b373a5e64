#!/usr/bin/env bash
# Runs an administrative command of mfa-recovery (staff, audit, migrate) against the demo that
# scripts/dev.sh started in this checkout, with its settings. Examples:
#   scripts/demo-admin.sh staff add --name sam --role support
#   scripts/demo-admin.sh audit verify
set -euo pipefail
cd "$(dirname "$0")/.."
settings=.services/dev/demo.env
[ -f "$settings" ] || { echo "demo-admin: no demo is running here: start scripts/dev.sh first" >&2; exit 1; }
# shellcheck disable=SC1090
source "$settings"
exec cargo run --quiet --locked --bin mfa-recovery -- "$@"
