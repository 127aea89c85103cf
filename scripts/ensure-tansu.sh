#!/usr/bin/env bash
# Installs the tansu Kafka-protocol broker once, into a cache outside the
# checkout, so that fresh clones (CI) reuse it instead of rebuilding.
# Prints the path of the tansu binary on stdout's last line.
set -euo pipefail

TANSU_VERSION="${TANSU_VERSION:-0.6.0}"
CACHE="${WIRESTREAM_CACHE:-$HOME/.cache/wirestream}"
ROOT="$CACHE/tansu-$TANSU_VERSION"
BIN="$ROOT/bin/tansu"

if [ -x "$BIN" ]; then
  echo "$BIN"
  exit 0
fi

mkdir -p "$ROOT"
# A lock so that two `make` targets started together do not build twice.
exec 9>"$ROOT/.lock"
flock 9
if [ -x "$BIN" ]; then
  echo "$BIN"
  exit 0
fi

{
  echo "==> building tansu $TANSU_VERSION (the Kafka-protocol broker) into $ROOT"
  echo "==> this is done once per machine and takes about 12 to 20 minutes on two cores"
} >&2
# Keep the target dir in the cache too: an interrupted build resumes.
CARGO_TARGET_DIR="$CACHE/tansu-target" \
  cargo install tansu --locked --version "$TANSU_VERSION" \
  --features libsql,dynostore --root "$ROOT" >&2
rm -rf "$CACHE/tansu-target"
echo "$BIN"
