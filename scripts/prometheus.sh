#!/usr/bin/env bash
# The local Prometheus, on by default: it scrapes the local services with
# deploy/prometheus/prometheus.yml and evaluates the alert rules, so that one
# machine can watch the graphs. Our own instance, on our port, with our
# config; data in .dev/prometheus, log in .dev/logs. Debian's package also
# installs a systemd service: it is kept from starting and never relied on.
#
#   scripts/prometheus.sh up       start it (idempotent), installing Debian's
#                                  `prometheus` package first when root and
#                                  the binary is missing
#   scripts/prometheus.sh down     stop it, by pid
#   scripts/prometheus.sh status   PROMETHEUS_URL=... when it runs
#   scripts/prometheus.sh graph-url   a URL of the articles/s graph
#   scripts/prometheus.sh promtool    print promtool's path, installing it as
#                                  root when missing (for `make test`)
#
# WIRESTREAM_PROMETHEUS=0 never starts it (and a missing binary is then no
# error); without root, a missing binary is reported and skipped. Port: WIRESTREAM_PROMETHEUS_PORT
# (19090, to stay clear of a system Prometheus on 9090).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEV="$ROOT/.dev"
PIDS="$DEV/pids"
LOGS="$DEV/logs"
PORT="${WIRESTREAM_PROMETHEUS_PORT:-19090}"
WANT="${WIRESTREAM_PROMETHEUS:-1}"
URL="http://127.0.0.1:$PORT"

say() { echo "==> $*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

alive() {
  [ -f "$PIDS/prometheus.pid" ] && kill -0 "$(cat "$PIDS/prometheus.pid")" 2>/dev/null
}

# Installs Debian's prometheus package (prometheus and promtool) as root.
# The package's own service is not wanted: policy-rc.d keeps it from starting.
apt_install_prometheus() {
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
  say "installing Prometheus from Debian's packages"
  local policy=/usr/sbin/policy-rc.d created=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && created=1
  fi
  local ok=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; } >&2 || ok=1
  [ -n "$created" ] && rm -f "$policy"
  return "$ok"
}

cmd_promtool() {
  if ! command -v promtool >/dev/null 2>&1; then
    apt_install_prometheus || true
  fi
  command -v promtool >/dev/null 2>&1 \
    || die "promtool is missing and could not be installed: install Debian's 'prometheus' package (apt-get install prometheus), which has promtool"
  command -v promtool
}

cmd_up() {
  [ "$WANT" = 0 ] && return 0
  if alive; then
    say "Prometheus already running on $URL"
    return 0
  fi
  if ! command -v prometheus >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      apt_install_prometheus || die "Prometheus is not installed and could not be: install Debian's 'prometheus' package"
    else
      say "no prometheus binary and not root: skipping the local Prometheus (apt-get install prometheus, as root, adds it)"
      return 0
    fi
  fi
  mkdir -p "$DEV/prometheus" "$PIDS" "$LOGS"
  say "starting Prometheus on $URL (scraping ports 18080-18082)"
  # --web.enable-lifecycle lets a config edit be applied with POST /-/reload.
  nohup prometheus \
    --config.file="$ROOT/deploy/prometheus/prometheus.yml" \
    --storage.tsdb.path="$DEV/prometheus" \
    --storage.tsdb.retention.time=2d \
    --web.listen-address="127.0.0.1:$PORT" \
    --web.enable-lifecycle \
    >>"$LOGS/prometheus.log" 2>&1 &
  echo $! >"$PIDS/prometheus.pid"
  local i
  for ((i = 0; i < 150; i++)); do
    curl -fsS "$URL/-/ready" >/dev/null 2>&1 && return 0
    alive || break
    sleep 0.2
  done
  tail -n 20 "$LOGS/prometheus.log" >&2 || true
  die "Prometheus did not become ready on $URL (see $LOGS/prometheus.log)"
}

cmd_down() {
  alive || { rm -f "$PIDS/prometheus.pid"; return 0; }
  local pid i
  pid="$(cat "$PIDS/prometheus.pid")"
  say "stopping Prometheus (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDS/prometheus.pid"
}

cmd_status() {
  if alive; then
    echo "PROMETHEUS_URL=$URL"
  fi
  echo "PROMETHEUS_RUNNING=$(alive && echo yes || echo no)"
}

# The articles/s per stage as one Prometheus graph (one line per stage,
# named by a `stage` label), as a URL of Prometheus's graph page.
cmd_graph_url() {
  python3 - "$URL" <<'PY'
import sys, urllib.parse
stages = [
    ("1 ingest received", "wirestream_ingest_items_received_total"),
    ("2 worker consumed", "wirestream_worker_items_consumed_total"),
    ("3 sink stored", 'wirestream_sink_rows_stored_total{table="articles"}'),
]
expr = " or ".join(
    f'label_replace(sum(rate({metric}[30s])), "stage", "{name}", "", "")' for name, metric in stages
)
params = {"g0.expr": expr, "g0.tab": "0", "g0.range_input": "5m", "g0.stacked": "0"}
print(f"{sys.argv[1]}/graph?" + urllib.parse.urlencode(params))
PY
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  graph-url) cmd_graph_url ;;
  promtool) cmd_promtool ;;
  *) echo "usage: $0 up|down|status|graph-url|promtool" >&2; exit 2 ;;
esac
