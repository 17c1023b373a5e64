#!/usr/bin/env bash
# The benchmark: the service against a baseline program (benches/baseline) on this machine, in
# one run, alternated, with PostgreSQL durable (fsync on) and the emulator; prints a table of
# medians, ranges and ratios (see scripts/bench.py for what is measured).
#   scripts/bench.sh [--rounds 3] [--seconds 10] [--connections 64]   release build
#   scripts/bench.sh --smoke                                            the debug build, 1 short round:
#                                                                       checks that it works, not its numbers
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
if ! command -v wrk >/dev/null; then
  echo "bench: installing wrk from Debian packages" >&2
  [ "$(id -u)" -eq 0 ] || { echo "bench: need root (or sudo) to apt-get install wrk" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
fi

profile=release
args=()
for arg in "$@"; do
  if [ "$arg" = --smoke ]; then profile=debug; args+=(--rounds 1 --seconds 2 --connections 8); else args+=("$arg"); fi
done
if [ "$profile" = release ]; then
  cargo build --locked --release --bin mfa-recovery --example baseline
else
  cargo build --locked --bin mfa-recovery --example baseline
fi

export SERVICES_DIR=$PWD/.services/bench
trap 'scripts/services.sh stop' EXIT
PG_FSYNC=on scripts/services.sh start-postgres
scripts/services.sh start-emulator
# shellcheck disable=SC1091
source "$SERVICES_DIR/env"
echo "bench: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $profile build"
.venv/bin/python scripts/bench.py --binary "target/$profile/mfa-recovery" \
  --baseline "target/$profile/examples/baseline" "${args[@]}"
