#!/usr/bin/env bash
# Installs cargo-fuzz once, into a cache outside the checkout, so that fresh
# clones (CI) reuse it instead of rebuilding. Idempotent.
# Prints the path of the cargo-fuzz binary on stdout's last line.
set -euo pipefail

CARGO_FUZZ_VERSION="${CARGO_FUZZ_VERSION:-0.13.2}"
CACHE="${WIRESTREAM_CACHE:-$HOME/.cache/wirestream}"
ROOT="$CACHE/cargo-fuzz-$CARGO_FUZZ_VERSION"
BIN="$ROOT/bin/cargo-fuzz"

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

echo "==> building cargo-fuzz $CARGO_FUZZ_VERSION into $ROOT (once per machine, a few minutes)" >&2
# Keep the target dir in the cache too: an interrupted build resumes.
CARGO_TARGET_DIR="$CACHE/cargo-fuzz-target" \
  cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION" --root "$ROOT" >&2
rm -rf "$CACHE/cargo-fuzz-target"
echo "$BIN"
