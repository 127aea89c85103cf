#!/usr/bin/env bash
# `make demo`: the local stack, the three services, and the sample corpus
# end to end. The services keep running afterwards; `make down` stops them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${WIRESTREAM_SHARED:-$ROOT/../shared}"
DEV="$ROOT/.dev"
BIN="$ROOT/target/release"
say() { echo "==> $*" >&2; }

[ -f "$SHARED/corpus/reuters21578.ndjson" ] || { echo "error: the sample corpus is not at $SHARED/corpus (set WIRESTREAM_SHARED)" >&2; exit 1; }

say "building wirestream in release mode"
"$ROOT/scripts/ensure-build-deps.sh"
cargo build --release --bins --manifest-path "$ROOT/Cargo.toml"

WIRESTREAM_CLI="$BIN/wirestream" "$ROOT/scripts/stack.sh" up >/dev/null
eval "$("$ROOT/scripts/stack.sh" status | grep -E '^(DATABASE_URL|KAFKA_BROKERS)=')"
export WIRESTREAM_DATABASE__URL="$DATABASE_URL" WIRESTREAM_KAFKA__BROKERS="$KAFKA_BROKERS"

for service in ingest worker sink; do
  pidfile="$DEV/pids/$service.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    say "$service already running"
    continue
  fi
  say "starting $service"
  nohup "$BIN/wirestream-$service" >>"$DEV/logs/$service.log" 2>&1 &
  echo $! >"$pidfile"
done

for port in 18080 18081 18082; do
  for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break
    sleep 0.2
  done
  curl -fsS "http://127.0.0.1:$port/ready" >/dev/null || { echo "error: the service on port $port is not ready (see $DEV/logs)" >&2; exit 1; }
done

# Where to watch the flow: printed before feeding, so the graphs can be opened
# while the corpus goes through, and again at the end.
metrics_info() {
  echo "Metrics: http://127.0.0.1:18080/metrics  http://127.0.0.1:18081/metrics  http://127.0.0.1:18082/metrics"
  local prometheus_url
  prometheus_url="$("$ROOT/scripts/stack.sh" status | sed -n 's/^PROMETHEUS_URL=//p')"
  if [ -n "$prometheus_url" ]; then
    echo "Prometheus: $prometheus_url (alerts: $prometheus_url/alerts)"
    echo "Articles/s per stage: $("$ROOT/scripts/prometheus.sh" graph-url)"
    echo "Screenshot of that graph: scripts/screenshot.sh (saves docs/img/prometheus-articles.png)"
  else
    echo "Prometheus: not running (WIRESTREAM_PROMETHEUS=0, or not root and Debian's prometheus package missing)"
  fi
  echo "Grafana dashboard and alert rules: deploy/grafana, deploy/prometheus; metric reference: docs/metrics.md"
}
metrics_info >&2
cat >&2 <<TXT

Watch it flow: in another terminal, run
  $BIN/wirestream top
(q quits, ? help; \`wirestream top --once\` prints one snapshot)

TXT

ITEMS=18001
# This run's summary counts what was stored from here on, not the database's
# whole history; copies of items an earlier run stored change no row, so the
# wait also ends when the worker and the sink have nothing left to consume.
START="$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)"
START_S="$(date +%s.%N)"
say "feeding the seed article and the Reuters corpus ($ITEMS items)"
"$BIN/wirestream" feed "$SHARED/corpus/seed-article-fr.txt" "$SHARED/corpus/reuters21578.ndjson"

say "waiting until every item is accounted for"
REPORT="$("$BIN/wirestream" report --expect "$ITEMS" --since "$START" --until-drained --timeout 900)" \
  || { echo "$REPORT"; echo "error: not every item was accounted for (see $DEV/logs)" >&2; exit 1; }
TOOK="$(python3 -c "import time; print(time.time() - $START_S)")"

SEED="$(psql "$DATABASE_URL" -qAt -c "SELECT language, headline FROM articles WHERE format = 'text' ORDER BY received_at DESC LIMIT 1" 2>/dev/null || true)"
cat <<TXT

This run: $ITEMS items fed, all accounted for $(printf '%.1f' "$TOOK") s after the feed began ($(python3 -c "print(round($ITEMS / max($TOOK, 1e-9)))") items/s end to end).
$REPORT

The seed article, as stored (language | headline):
  $SEED

Query it yourself:
  psql $DATABASE_URL -c "SELECT uri, verdict, language, headline FROM articles ORDER BY received_at DESC LIMIT 10"
  psql $DATABASE_URL -c "SELECT headline FROM articles WHERE search @@ websearch_to_tsquery('english', 'cocoa prices') LIMIT 5"
  (more in docs/queries.md)
TXT
metrics_info
echo "The services keep running; stop everything with: make down"
