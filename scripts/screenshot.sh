#!/usr/bin/env bash
# The two screenshots of docs/metrics.md, taken for real while the pipeline
# runs (start `make demo` in another terminal and run this while the corpus
# flows):
#   docs/img/wirestream-top.png        `wirestream top` in a 100x30 tmux
#                                      window, captured with its colours
#                                      (capture-pane -e), turned into HTML
#                                      by aha and rendered by headless Chromium
#   docs/img/prometheus-articles.png   the local Prometheus's graph of
#                                      articles/s per stage, by headless Chromium
#
#   scripts/screenshot.sh [all|top|prometheus]     (default: all)
#
# WIRESTREAM_SHOT_WAIT (default 40 s): how long `wirestream top` watches
# before the capture, so that its rates and trends have filled in. As root,
# tmux, aha and chromium are installed from Debian's packages when missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMG="$ROOT/docs/img"
WHAT="${1:-all}"
WAIT="${WIRESTREAM_SHOT_WAIT:-40}"
say() { echo "==> $*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

"$ROOT/scripts/ensure-debian.sh" tmux aha chromium
CHROMIUM="$(command -v chromium)"
WORK="$(mktemp -d)"
SOCKET="wirestream-shot-$$"
cleanup() {
  tmux -L "$SOCKET" kill-server 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$IMG"

# Headless Chromium, kept off the network (this machine has none beyond
# loopback); the virtual-time budget lets a page's scripts finish first.
shoot() {
  local url="$1" out="$2" size="$3"
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --virtual-time-budget=10000 \
    --user-data-dir="$WORK/profile" --window-size="$size" --screenshot="$out" "$url" >"$WORK/chromium.log" 2>&1 \
    || { tail -n 20 "$WORK/chromium.log" >&2; die "Chromium failed to take $out"; }
  [ -s "$out" ] || die "no screenshot was written to $out"
  if command -v pngquant >/dev/null 2>&1; then
    pngquant --force --skip-if-larger --output "$out" -- "$out" || true
  fi
  echo "$out"
}

shot_top() {
  local cli="${WIRESTREAM_CLI:-}"
  if [ -z "$cli" ]; then
    for candidate in "$ROOT/target/release/wirestream" "$ROOT/target/debug/wirestream"; do
      [ -x "$candidate" ] && { cli="$candidate"; break; }
    done
  fi
  [ -n "$cli" ] || die "no wirestream binary: cargo build --release -p wirestream-cli"
  "$cli" top --once >/dev/null || die "wirestream top --once reaches no service: is \`make demo\` running?"
  say "watching the pipeline with wirestream top for ${WAIT}s (tmux, 100x30)"
  tmux -L "$SOCKET" new-session -d -s shot -x 100 -y 30 -e TERM=xterm-256color "$cli" top
  sleep "$WAIT"
  tmux -L "$SOCKET" capture-pane -p -e -t shot >"$WORK/top.ansi"
  tmux -L "$SOCKET" send-keys -t shot q
  # aha writes the colours as inline styles; the font and size are ours.
  aha --black --title "wirestream top" <"$WORK/top.ansi" \
    | sed 's|</head>|<style>body{margin:8px} pre{font:15px/1.25 "DejaVu Sans Mono",monospace}</style></head>|' \
    >"$WORK/top.html"
  shoot "file://$WORK/top.html" "$IMG/wirestream-top.png" 920,600
}

shot_prometheus() {
  local url
  url="$("$ROOT/scripts/prometheus.sh" status | sed -n 's/^PROMETHEUS_URL=//p')"
  [ -n "$url" ] || die "the local Prometheus is not running (scripts/stack.sh up starts it)"
  say "taking $url's graph of articles/s per stage"
  shoot "$("$ROOT/scripts/prometheus.sh" graph-url)" "$IMG/prometheus-articles.png" 1400,900
}

case "$WHAT" in
  all) shot_top; shot_prometheus ;;
  top) shot_top ;;
  prometheus) shot_prometheus ;;
  *) die "usage: $0 [all|top|prometheus]" ;;
esac
