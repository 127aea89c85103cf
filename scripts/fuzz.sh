#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for FUZZ_SECONDS (default 30) each,
# starting from the committed seeds (fuzz/corpus/<target>) and the inputs
# that once crashed (fuzz/regressions/<target>). Fails when any target finds
# a crash, a timeout (an input slower than FUZZ_TIMEOUT seconds) or an input
# that needs more than FUZZ_RSS_MB of memory; the input is left in
# fuzz/artifacts/<target>/.
#
# CI has only the stable toolchain: cargo-fuzz needs nightly-only flags
# (-Zsanitizer=address, -Cpasses=sancov-module), which stable accepts with
# RUSTC_BOOTSTRAP=1; AddressSanitizer's runtime ships with stable's rust-std.
#
#   scripts/fuzz.sh                 every target, 30 s each
#   FUZZ_SECONDS=300 scripts/fuzz.sh nitf rss
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SECONDS_EACH="${FUZZ_SECONDS:-30}"
TIMEOUT="${FUZZ_TIMEOUT:-5}"
RSS_MB="${FUZZ_RSS_MB:-1024}"

# The sanitizer build of every dependency takes minutes; keep it in the
# cache outside the checkout (like Kafka's jars), so that fresh clones (CI) reuse it.
# What libFuzzer finds and its logs stay in fuzz/target/ (git-ignored).
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-${WIRESTREAM_CACHE:-$HOME/.cache/wirestream}/fuzz-target}"

CARGO_FUZZ="$(scripts/ensure-cargo-fuzz.sh | tail -n 1)"
export PATH="$(dirname "$CARGO_FUZZ"):$PATH"
export RUSTC_BOOTSTRAP=1

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
fi

echo "==> building ${#targets[@]} fuzz targets ($CARGO_TARGET_DIR)"
started=$(date +%s)
cargo fuzz build --fuzz-dir fuzz
echo "    built in $(($(date +%s) - started)) s"

failed=()
for target in "${targets[@]}"; do
  # libFuzzer adds what it finds to the first corpus folder only: keep that
  # one out of git, so the committed seeds stay as they are.
  work="fuzz/target/corpus/$target"
  mkdir -p "$work" "fuzz/artifacts/$target"
  seeds=("fuzz/corpus/$target")
  [ -d "fuzz/regressions/$target" ] && seeds+=("fuzz/regressions/$target")
  # Tokens the parsers look for help the mutations past the first checks.
  dict=()
  case "$target" in
    ninjs) dict=(-dict=fuzz/dict/json.dict) ;;
    newsml_g2 | newsml1 | nitf | rss | atom | document) dict=(-dict=fuzz/dict/xml.dict) ;;
  esac
  echo "==> fuzz $target for ${SECONDS_EACH} s (seeds: $(find "${seeds[@]}" -type f | wc -l) files)"
  log="fuzz/target/$target.log"
  if cargo fuzz run --fuzz-dir fuzz "$target" "$work" "${seeds[@]}" -- \
      -max_total_time="$SECONDS_EACH" -timeout="$TIMEOUT" -rss_limit_mb="$RSS_MB" \
      -max_len=65536 -print_final_stats=1 "${dict[@]}" >"$log" 2>&1; then
    runs=$(awk '/^stat::number_of_executed_units/ { print $2; exit }' "$log")
    slowest=$(awk '/^stat::slowest_unit_time_sec/ { print $2; exit }' "$log")
    echo "    ok: ${runs:-?} inputs, slowest ${slowest:-?} s, corpus $(find "$work" -type f | wc -l) files"
  else
    echo "    FAILED: see $log; the input is in fuzz/artifacts/$target/"
    grep -E 'ERROR: libFuzzer|panicked at|SUMMARY|Test unit written' "$log" | head -n 8 | sed 's/^/    /'
    failed+=("$target")
  fi
done

echo "==> fuzzing took $(($(date +%s) - started)) s"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz targets that failed: ${failed[*]}"
  echo "reproduce: CARGO_TARGET_DIR=$CARGO_TARGET_DIR RUSTC_BOOTSTRAP=1 $CARGO_FUZZ fuzz run --fuzz-dir fuzz <target> fuzz/artifacts/<target>/<file>"
  exit 1
fi
