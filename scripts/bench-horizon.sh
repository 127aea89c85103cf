#!/usr/bin/env bash
# Memory over a long replay: BENCH_HORIZON_ITEMS items (default 1,000,000)
# through ingest, worker and sink, with the corpus repeated and each
# repetition's article times moved past the last one's
# (`wirestream-bench corpus --shift-rounds`), so that the stream spans many
# dedup horizons (one pass of the Reuters corpus is about three).
#
# While it runs it samples, every BENCH_HORIZON_SAMPLE seconds (default 10):
# the items stored, the article time the dedup state has reached, the RSS of
# each service, and the rows and size of PostgreSQL's dedup tables. Once
# article time has passed one horizon the state should stop growing: expiry
# deletes as much as comes in. Step 8 of `make bench` (scripts/bench.sh
# calls it with its broker); runnable on its own.
#
# Environment: DATABASE_URL (an admin URL; default the stack's),
# BENCH_KAFKA_BROKERS (default the stack's broker), BENCH_BIN (release
# binaries; default target/release), WIRESTREAM_SHARED (the corpus),
# BENCH_HORIZON_ITEMS, BENCH_HORIZON_SAMPLE, BENCH_KEEP=1 (keep the
# database and the items).
#
# Output: a markdown table of the samples (about ten rows) and name=value
# lines: horizon_items, horizon_span_days, horizon_max_rss_mib (the peak RSS
# of the three services), horizon_worker_rss_end_vs_mid and
# horizon_dedup_rows_end_vs_mid (the last sample over the one at half the
# items: 1.0 is flat), horizon_dedup_rows_peak, horizon_late_items.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${WIRESTREAM_SHARED:-$ROOT/../shared}"
CORPUS="$SHARED/corpus/reuters21578.ndjson"
ITEMS="${BENCH_HORIZON_ITEMS:-1000000}"
SAMPLE="${BENCH_HORIZON_SAMPLE:-10}"
BIN="${BENCH_BIN:-$ROOT/target/release}"
ADMIN_URL="${DATABASE_URL:-postgres://wirestream@127.0.0.1:15432/wirestream}"
BROKERS="${BENCH_KAFKA_BROKERS:-127.0.0.1:19092}"
RUN="wshorizon_$(date +%Y%m%d_%H%M%S)_$$"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/$RUN.XXXX")"
say() { echo "==> $*" >&2; }

[ -f "$CORPUS" ] || { echo "error: the corpus is not at $CORPUS (set WIRESTREAM_SHARED)" >&2; exit 1; }
for bin in wirestream wirestream-ingest wirestream-worker wirestream-sink wirestream-bench; do
  [ -x "$BIN/$bin" ] || { echo "error: $BIN/$bin is missing (cargo build --release --bins)" >&2; exit 1; }
done

declare -A PID PORT=([ingest]=28180 [worker]=28181 [sink]=28182)
export WIRESTREAM_DATABASE__URL="${ADMIN_URL%/*}/$RUN"
export WIRESTREAM_KAFKA__BROKERS="$BROKERS"
export WIRESTREAM_KAFKA__RAW_TOPIC="$RUN.raw" WIRESTREAM_KAFKA__ARTICLES_TOPIC="$RUN.articles"
export WIRESTREAM_KAFKA__DEAD_LETTER_TOPIC="$RUN.dead-letters"
export WIRESTREAM_INGEST__LISTEN="127.0.0.1:${PORT[ingest]}" WIRESTREAM_WORKER__LISTEN="127.0.0.1:${PORT[worker]}"
export WIRESTREAM_SINK__LISTEN="127.0.0.1:${PORT[sink]}"
export WIRESTREAM_WORKER__GROUP_ID="$RUN-worker" WIRESTREAM_SINK__GROUP_ID="$RUN-sink"
export WIRESTREAM_LOG__FORMAT=json
# The worker keeps its default horizon and allowed lateness: this is a
# replay in article-time order, as a user's archive would be.

cleanup() {
  local service
  for service in "${!PID[@]}"; do kill -TERM "${PID[$service]}" 2>/dev/null || true; done
  for service in "${!PID[@]}"; do wait "${PID[$service]}" 2>/dev/null || true; done
  [ "${BENCH_KEEP:-0}" = 1 ] && return 0
  rm -f "$WORK/items.ndjson"
  psql "$ADMIN_URL" -qAt -c "DROP DATABASE IF EXISTS $RUN WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

sql() { psql "$WIRESTREAM_DATABASE__URL" -qAt -c "$1"; }
rss_mib() { awk '/^VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo 0; }
peak_mib() { awk '/^VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo 0; }

say "8 horizon: writing $ITEMS items, each repetition of the corpus later than the last"
"$BIN/wirestream-bench" corpus --corpus "$CORPUS" --items "$ITEMS" --shift-rounds --out "$WORK/items.ndjson" >/dev/null
psql "$ADMIN_URL" -qAt -c "CREATE DATABASE $RUN" >/dev/null
"$BIN/wirestream" migrate >/dev/null
"$BIN/wirestream" topics --wait 120s >/dev/null
for service in ingest worker sink; do
  "$BIN/wirestream-$service" >>"$WORK/$service.log" 2>&1 &
  PID[$service]=$!
  for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:${PORT[$service]}/ready" >/dev/null 2>&1 && continue 2
    sleep 0.2
  done
  echo "error: $service did not become ready (see $WORK/$service.log)" >&2
  exit 1
done

say "8 horizon: feeding $ITEMS items (samples every ${SAMPLE}s in $WORK/samples.csv)"
"$BIN/wirestream" feed --quiet --url "http://127.0.0.1:${PORT[ingest]}" "$WORK/items.ndjson" >"$WORK/feed.txt" 2>&1 &
FEED=$!

# One sample: stored rows (from the statistics: cheap at a million rows),
# the article time the dedup state has reached (the 1,000th newest, as the
# worker's watermark: undated items carry their receipt time), each
# service's RSS, the dedup tables' rows and total size.
sample() {
  local stored state
  stored=$(sql "SELECT coalesce(sum(n_tup_ins), 0) FROM pg_stat_user_tables WHERE relname IN ('articles', 'dead_letters')")
  state=$(sql "SELECT (SELECT count(*) FROM dedup_hashes) + (SELECT count(*) FROM dedup_sketches)
                    + (SELECT count(*) FROM dedup_bands) + (SELECT count(*) FROM dedup_decisions),
                      (SELECT pg_size_pretty(sum(pg_total_relation_size(c))::bigint) FROM unnest(ARRAY[
                         'dedup_hashes', 'dedup_sketches', 'dedup_bands', 'dedup_decisions']::regclass[]) c),
                      coalesce((SELECT to_char(seen_at, 'YYYY-MM-DD') FROM dedup_hashes
                                ORDER BY seen_at DESC OFFSET 999 LIMIT 1), '-')" | tr '|' ',')
  echo "$(date +%s),$stored,$(rss_mib "${PID[ingest]}"),$(rss_mib "${PID[worker]}"),$(rss_mib "${PID[sink]}"),$state"
}
echo "epoch,stored,ingest_mib,worker_mib,sink_mib,dedup_rows,dedup_size,article_time" >"$WORK/samples.csv"
begin=$(date +%s)
# Five minutes without a new row (a feed that gave up, a stuck stage) ends
# the sampling with what there is, as in scripts/bench-connect.sh.
last_stored=-1 last_change=$begin
while :; do
  for service in ingest worker sink; do
    kill -0 "${PID[$service]}" 2>/dev/null || { echo "error: $service exited (see $WORK/$service.log)" >&2; exit 1; }
  done
  line=$(sample)
  echo "$line" >>"$WORK/samples.csv"
  stored=$(echo "$line" | cut -d, -f2)
  [ "$stored" -ge "$ITEMS" ] && break
  if [ "$stored" -ne "$last_stored" ]; then
    last_stored=$stored last_change=$(date +%s)
  elif [ $(( $(date +%s) - last_change )) -gt 300 ]; then
    say "warning: no new row for five minutes; stopped at $stored of $ITEMS items"
    break
  fi
  if [ $(( $(date +%s) - begin )) -gt 7200 ]; then
    say "warning: stopped after two hours at $stored of $ITEMS items"
    break
  fi
  sleep "$SAMPLE"
done
wait "$FEED" || say "warning: the feed reported rejections (see $WORK/feed.txt)"
"$BIN/wirestream" report --expect "$ITEMS" --timeout 600 >"$WORK/report.txt" || true

late=$(curl -fsS "http://127.0.0.1:${PORT[worker]}/metrics" | awk '/^wirestream_worker_dedup_late_items_total/ { n += $2 } END { printf "%d", n }')
max_rss=0
for service in ingest worker sink; do
  rss=$(peak_mib "${PID[$service]}")
  [ "$rss" -gt "$max_rss" ] && max_rss=$rss
  echo "horizon_peak_rss_mib_$service=$rss" >>"$WORK/peaks.txt"
done
span=$(sql "SELECT round(extract(epoch FROM max(versioncreated) - min(versioncreated)) / 86400) FROM articles")

# About ten rows: the samples at each tenth of the items, and the last.
python3 - "$WORK/samples.csv" "$ITEMS" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
items = int(sys.argv[2])
picked, next_mark = [], 0.1
for row in rows:
    if int(row["stored"]) >= next_mark * items:
        picked.append(row)
        while int(row["stored"]) >= next_mark * items:
            next_mark += 0.1
if rows and (not picked or picked[-1] is not rows[-1]):
    picked.append(rows[-1])
t0 = int(rows[0]["epoch"]) if rows else 0
print("| seconds | rows stored | article time reached | dedup state rows | dedup tables | ingest MiB | worker MiB | sink MiB |")
print("|---|---|---|---|---|---|---|---|")
for r in picked:
    print(f"| {int(r['epoch']) - t0} | {r['stored']} | {r['article_time']} | {r['dedup_rows']} | {r['dedup_size']} "
          f"| {r['ingest_mib']} | {r['worker_mib']} | {r['sink_mib']} |")
def at(fraction):
    for r in rows:
        if int(r["stored"]) >= fraction * items:
            return r
    return rows[-1]
mid, end = at(0.5), rows[-1]
ratio = lambda a, b: f"{int(a) / int(b):.2f}" if int(b) else "n/a"
print(f"horizon_worker_rss_end_vs_mid={ratio(end['worker_mib'], mid['worker_mib'])}")
print(f"horizon_dedup_rows_end_vs_mid={ratio(end['dedup_rows'], mid['dedup_rows'])}")
print(f"horizon_dedup_rows_peak={max(int(r['dedup_rows']) for r in rows)}")
PY
cat "$WORK/peaks.txt"
echo "horizon_items=$ITEMS"
echo "horizon_span_days=$span"
echo "horizon_late_items=$late"
echo "horizon_max_rss_mib=$max_rss"
