#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL 15 cluster, the AWS emulator and an OpenID Connect
# provider (for the staff console) on 127.0.0.1.
#   scripts/services.sh start            -> writes $SERVICES_DIR/env with the addresses to source
#   scripts/services.sh stop
#   scripts/services.sh start-postgres   -> PostgreSQL only, keeping every acknowledged commit
#                                           through a crash (tests that crash their own server)
#   scripts/services.sh start-emulator   -> the emulator alongside (after start-postgres)
#   scripts/services.sh crash-postgres   -> stops it as a crash would (immediate: no checkpoint,
#                                           every connection cut; it recovers from its WAL)
#   scripts/services.sh resume-postgres  -> starts it again on the same port
# Both listen on free loopback ports and keep all their state in $SERVICES_DIR (default
# .services/default). The tests, the demo and the benchmark each use a directory of their own,
# so that running the tests does not stop a demo in the same checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
STATE=$(realpath -m "${SERVICES_DIR:-$PWD/.services/default}")

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# PostgreSQL refuses to run as root: as root, run it as the postgres user.
as_pg() {
  # From /, which it can always enter (the checkout may be out of its reach); paths are absolute.
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

stop() {
  # The cluster lives in $STATE/pg, or where `pgdir` says (see start).
  local pgdir="$STATE/pg"
  [ -f "$STATE/pgdir" ] && pgdir=$(cat "$STATE/pgdir")
  if [ -f "$pgdir/PG_VERSION" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$pgdir" -m immediate stop >/dev/null 2>&1 || true
  fi
  local pid
  for pid in moto.pid oidc.pid; do
    if [ -f "$STATE/$pid" ]; then
      kill "$(cat "$STATE/$pid")" 2>/dev/null || true
    fi
  done
  [ "$pgdir" = "$STATE/pg" ] || rm -rf "$(dirname "$pgdir")"
  rm -rf "$STATE"
}

pg_start() {
  local pgdir
  pgdir=$(cat "$STATE/pgdir")
  as_pg "$PG_BIN/pg_ctl" -D "$pgdir" -l "$pgdir/server.log" -w -t 60 -o "$(cat "$STATE/pgopts")" start >/dev/null
}

start_postgres() {
  stop
  mkdir -p "$STATE"
  local pg_port
  pg_port=$(free_port)

  local pgdir="$STATE/pg" sockdir="$STATE/pgsock"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$STATE"
    # The postgres user must be able to reach the cluster: a checkout under a directory it
    # cannot enter (root's home, mode 700) gets its cluster in a directory of its own in /tmp.
    if ! runuser -u postgres -- test -x "$STATE"; then
      pgdir=$(mktemp -d /tmp/mfa-recovery-pg.XXXXXX)
      sockdir="$pgdir/sock"
      pgdir="$pgdir/data"
      echo "services: $STATE is out of the postgres user's reach; the cluster lives in ${pgdir%/data}" >&2
    fi
  fi
  echo "$pgdir" >"$STATE/pgdir"
  mkdir -p "$pgdir" "$sockdir"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$pgdir" "$sockdir" "$(dirname "$pgdir")"
  fi
  as_pg "$PG_BIN/initdb" -D "$pgdir" -U postgres -A trust --no-sync >"$STATE/initdb.log" 2>&1 \
    || { cat "$STATE/initdb.log" >&2; exit 1; }
  # A test server, on loopback only. It survives its own crash (crash-postgres) with every
  # acknowledged commit, as a production server does: commits wait for their WAL to be written
  # (synchronous_commit). Only a crash of the machine would lose data (fsync off, for speed),
  # and the test servers never see one. The suite's shared server (`start`) trades even that
  # for speed (synchronous_commit off): it is never crashed.
  local commit=off
  [ "${1:-}" = durable ] && commit=on
  # PG_FSYNC=on (the benchmark): durable against a machine crash too, as in production.
  local fsync=${PG_FSYNC:-off}
  echo "-c listen_addresses=127.0.0.1 -p $pg_port -k $sockdir -c fsync=$fsync -c synchronous_commit=$commit -c full_page_writes=$fsync -c max_connections=400" >"$STATE/pgopts"
  pg_start

  cat >"$STATE/env" <<ENV
export TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$pg_port/postgres
export TEST_PG_BIN=$PG_BIN
ENV
  echo "services: PostgreSQL on 127.0.0.1:$pg_port" >&2
}

# Waits (up to 20 s) until $1 answers; else says that $2 did not start, with its log $3.
wait_until_up() {
  local url=$1 name=$2 log=$3
  for _ in $(seq 1 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('$url', timeout=1)" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "services: $name did not start" >&2
  cat "$log" >&2
  exit 1
}

start_emulator() {
  local moto_port
  moto_port=$(free_port)
  .venv/bin/python tests/emulator/moto_server.py "$moto_port" >"$STATE/moto.log" 2>&1 &
  echo $! >"$STATE/moto.pid"
  wait_until_up "http://127.0.0.1:$moto_port/_harness/ses/messages" "the emulator" "$STATE/moto.log"

  cat >>"$STATE/env" <<ENV
export TEST_AWS_ENDPOINT=http://127.0.0.1:$moto_port
export TEST_SCHEMATHESIS=$PWD/.venv/bin/schemathesis
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1
ENV
  echo "services: AWS emulator on 127.0.0.1:$moto_port" >&2
}

# oidc-provider (tests/oidc/provider.mjs): the staff console's tests sign in through it.
start_oidc() {
  local oidc_port
  oidc_port=$(free_port)
  node tests/oidc/provider.mjs "$oidc_port" >"$STATE/oidc.log" 2>&1 &
  echo $! >"$STATE/oidc.pid"
  wait_until_up "http://127.0.0.1:$oidc_port/.well-known/openid-configuration" \
    "the OpenID provider" "$STATE/oidc.log"
  cat >>"$STATE/env" <<ENV
export TEST_OIDC_ISSUER=http://127.0.0.1:$oidc_port
ENV
  echo "services: OpenID provider on 127.0.0.1:$oidc_port" >&2
}

start() {
  start_postgres
  start_emulator
  start_oidc
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  start-postgres) start_postgres durable ;;
  start-emulator) start_emulator ;;
  crash-postgres) as_pg "$PG_BIN/pg_ctl" -D "$(cat "$STATE/pgdir")" -m immediate -w stop >/dev/null ;;
  resume-postgres) pg_start ;;
  *) echo "usage: $0 start|stop|start-postgres|start-emulator|crash-postgres|resume-postgres" >&2; exit 2 ;;
esac
