#!/usr/bin/env bash
# A Python virtualenv with kafka-python (and lz4, for our compressed
# batches), cached once per machine: the contract test reads our topics with
# a Kafka client we did not write (tests/contract/check_topics.py). Prints
# the venv's python on stdout's last line.
set -euo pipefail

KAFKA_PYTHON_VERSION="${KAFKA_PYTHON_VERSION:-3.0.12}"
LZ4_VERSION="${LZ4_VERSION:-4.4.5}"
CACHE="${WIRESTREAM_CACHE:-$HOME/.cache/wirestream}"
VENV="$CACHE/kafka-python-$KAFKA_PYTHON_VERSION"

if [ -f "$VENV/.complete" ]; then
  echo "$VENV/bin/python"
  exit 0
fi
command -v python3 >/dev/null || { echo "error: python3 is missing (Debian's python3 and python3-venv packages)" >&2; exit 1; }
mkdir -p "$CACHE"
exec 9>"$CACHE/.kafka-python.lock"
flock 9
if [ ! -f "$VENV/.complete" ]; then
  echo "==> installing kafka-python $KAFKA_PYTHON_VERSION into $VENV (once per machine)" >&2
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
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    "kafka-python==$KAFKA_PYTHON_VERSION" "lz4==$LZ4_VERSION" >&2
  touch "$VENV/.complete"
fi
echo "$VENV/bin/python"
