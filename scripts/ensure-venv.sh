#!/usr/bin/env bash
# ensure-venv.sh NAME PACKAGE==VERSION...: a Python virtualenv with pinned
# packages from PyPI, made once per machine under ~/.cache/wirestream/NAME
# (put the versions in NAME, so a new pin makes a new venv). Installs
# Debian's python3-venv when running as root and venv is missing. Prints
# the venv's folder on stdout's last line.
set -euo pipefail

NAME="$1"
shift
CACHE="${WIRESTREAM_CACHE:-$HOME/.cache/wirestream}"
VENV="$CACHE/$NAME"

if [ -f "$VENV/.complete" ]; then
  echo "$VENV"
  exit 0
fi
command -v python3 >/dev/null || { echo "error: python3 is missing (Debian's python3 and python3-venv packages)" >&2; exit 1; }
mkdir -p "$CACHE"
exec 9>"$CACHE/.$NAME.lock"
flock 9
if [ ! -f "$VENV/.complete" ]; then
  echo "==> installing $* into $VENV (once per machine)" >&2
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
  "$VENV/bin/pip" install -q --disable-pip-version-check "$@" >&2
  touch "$VENV/.complete"
fi
echo "$VENV"
