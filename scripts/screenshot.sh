#!/usr/bin/env bash
# A screenshot of the local Prometheus graph of articles/s per stage, taken
# with headless Chromium, saved as docs/img/prometheus-articles.png (or $1).
# Run it during `make demo`, while the corpus flows. As root, it installs
# Debian's `chromium` package when missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/docs/img/prometheus-articles.png}"
say() { echo "==> $*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

PROMETHEUS_URL="$("$ROOT/scripts/prometheus.sh" status | sed -n 's/^PROMETHEUS_URL=//p')"
[ -n "$PROMETHEUS_URL" ] || die "the local Prometheus is not running: start it with WIRESTREAM_PROMETHEUS=1 make up"

CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$CHROMIUM" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Chromium from Debian's packages"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >&2
    CHROMIUM="$(command -v chromium)"
  else
    die "Chromium is missing: install Debian's 'chromium' package (apt-get install chromium)"
  fi
fi

URL="$("$ROOT/scripts/prometheus.sh" graph-url)"
PROFILE="$(mktemp -d)"
trap 'rm -rf "$PROFILE"' EXIT
mkdir -p "$(dirname "$OUT")"
say "taking a screenshot of $PROMETHEUS_URL's articles/s graph"
# The network flags keep Chromium from calling home (this machine has no
# network beyond loopback); the virtual-time budget lets the page's scripts
# query Prometheus and draw the graph before the shot.
"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --virtual-time-budget=10000 \
  --user-data-dir="$PROFILE" --window-size=1400,900 --screenshot="$OUT" "$URL" >"$PROFILE/chromium.log" 2>&1 \
  || { tail -n 20 "$PROFILE/chromium.log" >&2; die "Chromium failed to take the screenshot"; }
[ -s "$OUT" ] || die "no screenshot was written to $OUT"
# Keep the committed PNG small when pngquant or optipng are at hand.
if command -v pngquant >/dev/null 2>&1; then
  pngquant --force --skip-if-larger --output "$OUT" -- "$OUT" || true
elif command -v optipng >/dev/null 2>&1; then
  optipng -quiet -o2 "$OUT" || true
fi
echo "$OUT"
