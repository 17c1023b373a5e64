#!/usr/bin/env bash
# The lints, run before the tests by scripts/test.sh (so CI fails on any of them):
#   1. cargo fmt --check                  formatting
#   2. cargo clippy -D warnings           every target, warnings as errors
#   3. cargo deny check bans sources      deny.toml: refused crates, crates.io only
#   4. cargo deny check advisories        the RustSec advisory database: a vulnerable, unsound
#                                         or yanked crate fails. The database is a git
#                                         repository; where it cannot be fetched (a network that
#                                         reaches only package registries), a copy already in
#                                         $CARGO_HOME/advisory-dbs is used; with none, this step
#                                         says so loudly and is skipped, unless
#                                         REQUIRE_ADVISORIES=1.
# cargo-deny is installed from crates.io (pinned) on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DENY_VERSION=${CARGO_DENY_VERSION:-0.20.2}

echo "lint: cargo fmt --check" >&2
cargo fmt --all -- --check

echo "lint: cargo clippy --all-targets -D warnings" >&2
cargo clippy --locked --all-targets -- -D warnings

if [ "$(cargo deny --version 2>/dev/null)" != "cargo-deny $CARGO_DENY_VERSION" ]; then
  echo "lint: installing cargo-deny $CARGO_DENY_VERSION from crates.io" >&2
  cargo install --locked --quiet cargo-deny --version "$CARGO_DENY_VERSION"
fi

echo "lint: cargo deny check bans sources" >&2
# Errors only: the duplicate versions the AWS SDK brings are warnings (deny.toml says why).
cargo deny --locked --log-level error check bans sources

echo "lint: cargo deny check advisories" >&2
db=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/advisory-dbs/advisory-db-*/.git 2>/dev/null | head -n 1 || true)
if timeout 120 cargo deny fetch db >/dev/null 2>&1; then
  cargo deny --locked --offline check --hide-inclusion-graph advisories
elif [ -n "$db" ]; then
  echo "lint: the advisory database cannot be fetched; checking against the copy at ${db%/.git} ($(git -C "${db%/.git}" log -1 --format=%cs))" >&2
  cargo deny --locked --offline check --hide-inclusion-graph advisories
elif [ "${REQUIRE_ADVISORIES:-0}" = 1 ]; then
  echo "lint: the RustSec advisory database cannot be fetched, and REQUIRE_ADVISORIES=1" >&2
  exit 1
else
  echo "lint: WARNING: advisories NOT checked: the RustSec advisory database (a git repository on GitHub) cannot be fetched from this network, and there is no copy of it here" >&2
fi
