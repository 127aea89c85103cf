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

say "feeding the seed article and the Reuters corpus (18,001 items)"
"$BIN/wirestream" feed "$SHARED/corpus/seed-article-fr.txt" "$SHARED/corpus/reuters21578.ndjson"

say "waiting until every item is accounted for"
"$BIN/wirestream" report --expect 18001 --timeout 900

PSQL="psql $DATABASE_URL"
cat <<TXT

The seed article, as stored:
$($PSQL -qAt -c "SELECT language || ' | ' || headline FROM articles WHERE source = 'cli' AND format = 'text' ORDER BY received_at DESC LIMIT 1" 2>/dev/null || true)

Query it yourself:
  $PSQL -c "SELECT uri, verdict, language, headline FROM articles ORDER BY received_at DESC LIMIT 10"
  $PSQL -c "SELECT headline FROM articles WHERE search @@ websearch_to_tsquery('english', 'cocoa prices') LIMIT 5"
Metrics: http://127.0.0.1:18080/metrics  http://127.0.0.1:18081/metrics  http://127.0.0.1:18082/metrics
The services keep running; stop everything with: make down
TXT
