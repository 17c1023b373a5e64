#!/usr/bin/env bash
# Installs what the tests and the local demo need, from package registries only:
# PostgreSQL 15 server, Chromium and chromedriver (Debian packages), moto's AWS emulator
# (PyPI, in ./.venv) and the OpenID provider the staff console's tests sign in with
# (oidc-provider from the npm registry, pinned by tests/oidc/package-lock.json, with the
# machine's Node.js), and axe-core for the browser tests' accessibility checks (npm, pinned by
# tests/browser/package-lock.json), and `cryptography` (PyPI, in ./.venv), the one package
# scripts/verify_audit.py needs besides Python. No browser or driver is downloaded from anywhere else.
# Idempotent: does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
MOTO_VERSION=${MOTO_VERSION:-5.2.5}
SCHEMATHESIS_VERSION=${SCHEMATHESIS_VERSION:-4.32.5}
CRYPTOGRAPHY_VERSION=${CRYPTOGRAPHY_VERSION:-50.0.2}

packages=()
[ -x "$PG_BIN/initdb" ] || packages+=(postgresql-15 postgresql-client-15)
# The browser tests drive Debian's Chromium through Debian's chromedriver (same version).
command -v chromium >/dev/null || packages+=(chromium)
command -v chromedriver >/dev/null || packages+=(chromium-driver)
if [ ${#packages[@]} -gt 0 ]; then
  echo "install-deps: installing ${packages[*]} from Debian packages" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root (or sudo) to apt-get install ${packages[*]}" >&2
    exec sudo "$0" "$@"
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ] \
  || ! .venv/bin/python -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null \
  || [ "$(.venv/bin/schemathesis --version 2>/dev/null)" != "schemathesis, version $SCHEMATHESIS_VERSION" ] \
  || ! .venv/bin/python -c "import cryptography, sys; sys.exit(cryptography.__version__ != '$CRYPTOGRAPHY_VERSION')" 2>/dev/null; then
  echo "install-deps: installing moto $MOTO_VERSION, schemathesis $SCHEMATHESIS_VERSION and cryptography $CRYPTOGRAPHY_VERSION into .venv" >&2
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check \
    "moto[server,cognitoidp]==$MOTO_VERSION" "schemathesis==$SCHEMATHESIS_VERSION" \
    "cryptography==$CRYPTOGRAPHY_VERSION"
fi

# The staff console's OpenID provider: exactly the lock file's versions.
if ! cmp -s tests/oidc/package-lock.json tests/oidc/node_modules/.installed 2>/dev/null; then
  echo "install-deps: installing oidc-provider into tests/oidc/node_modules (npm ci)" >&2
  (cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp tests/oidc/package-lock.json tests/oidc/node_modules/.installed
fi

# axe-core, which the browser tests inject into each page: exactly the lock file's version.
if ! cmp -s tests/browser/package-lock.json tests/browser/node_modules/.installed 2>/dev/null; then
  echo "install-deps: installing axe-core into tests/browser/node_modules (npm ci)" >&2
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp tests/browser/package-lock.json tests/browser/node_modules/.installed
fi
