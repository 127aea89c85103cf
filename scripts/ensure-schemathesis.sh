#!/usr/bin/env bash
# A Python virtualenv with schemathesis, cached once per machine: the
# OpenAPI check (tests/e2e/openapi.rs) sends it generated requests against
# a running ingest, with docs/openapi.yaml as the description to hold the
# answers to. Prints the venv's `schemathesis` on stdout's last line.
set -euo pipefail

SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
CACHE="${WIRESTREAM_CACHE:-$HOME/.cache/wirestream}"
VENV="$CACHE/schemathesis-$SCHEMATHESIS_VERSION"

if [ -f "$VENV/.complete" ]; then
  echo "$VENV/bin/schemathesis"
  exit 0
fi
command -v python3 >/dev/null || { echo "error: python3 is missing (Debian's python3 and python3-venv packages)" >&2; exit 1; }
mkdir -p "$CACHE"
exec 9>"$CACHE/.schemathesis.lock"
flock 9
if [ ! -f "$VENV/.complete" ]; then
  echo "==> installing schemathesis $SCHEMATHESIS_VERSION into $VENV (once per machine)" >&2
  rm -rf "$VENV"
  if ! python3 -m venv "$VENV" >&2; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
      python3 -m venv "$VENV" >&2
    else
      echo "error: python3 -m venv failed: install Debian's python3-venv package" >&2
      exit 1
    fi
  fi
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
  touch "$VENV/.complete"
fi
echo "$VENV/bin/schemathesis"
