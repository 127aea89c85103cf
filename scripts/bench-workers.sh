#!/usr/bin/env bash
# Worker replicas side by side: the same raw items decided by 1, 2 and 4
# workers (one consumer group, one fresh database each), with the share of
# each worker's wall time spent waiting for the others in the near-copy
# claim, and the throughput of 2 workers against 1 (docs/scaling.md).
#
# The items (the first BENCH_WORKERS_ITEMS of the Reuters corpus: near
# copies, versions, exact copies) go once through ingest into a private raw
# topic; each run then reads that topic with a group of its own. Lock wait
# is measured two ways and added: the workers' own timing
# (wirestream_worker_lock_wait_seconds: the index lock, and claims refused by
# a race and decided again) and pg_stat_activity sampled every 0.2 s (worker
# backends waiting on a row or transaction lock inside a statement, which
# the own timing does not see).
#
# Environment: DATABASE_URL (an admin URL of a PostgreSQL; default the
# stack's), BENCH_KAFKA_BROKERS (a broker to use; default: a private Kafka
# node started here on a free port, and stopped), BENCH_BIN (release
# binaries; default target/release, built if missing), BENCH_WORKERS_ITEMS
# (default 20000), BENCH_ALLOWED_LATENESS (the workers' dedup
# allowed_lateness, default 400d, as scripts/bench.sh: it covers the
# corpus's months of article time, so no item is late whatever its order;
# docs/dedup.md), WIRESTREAM_SHARED (the corpus).
#
# The last two lines: worker_lock_wait_share=<max over 2 and 4 workers> and
# workers_2_vs_1=<items/s with 2 workers / items/s with 1>.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${WIRESTREAM_SHARED:-$ROOT/../shared}"
CORPUS="$SHARED/corpus/reuters21578.ndjson"
ITEMS="${BENCH_WORKERS_ITEMS:-20000}"
BIN="${BENCH_BIN:-$ROOT/target/release}"
ADMIN_URL="${DATABASE_URL:-postgres://wirestream@127.0.0.1:15432/wirestream}"
RUN="wsworkers_$(date +%Y%m%d_%H%M%S)_$$"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/$RUN.XXXX")"
say() { echo "==> $*" >&2; }

[ -f "$CORPUS" ] || { echo "error: the corpus is not at $CORPUS (set WIRESTREAM_SHARED)" >&2; exit 1; }
if [ ! -x "$BIN/wirestream-worker" ] || [ ! -x "$BIN/wirestream-ingest" ] || [ ! -x "$BIN/wirestream" ]; then
  say "building the release binaries"
  cargo build --release --manifest-path "$ROOT/Cargo.toml" \
    -p wirestream-worker -p wirestream-ingest -p wirestream-cli >&2
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# --- what this script starts, and stops --------------------------------------------
PIDS=() BROKER_PID=""
stop_pids() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
cleanup() {
  stop_pids
  if [ -n "$BROKER_PID" ]; then
    kill -TERM "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
  fi
  local db
  for db in $(psql "$ADMIN_URL" -qAt -c "SELECT datname FROM pg_database WHERE datname LIKE '${RUN}_%'" 2>/dev/null); do
    psql "$ADMIN_URL" -qAt -c "DROP DATABASE $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -n "${BENCH_KAFKA_BROKERS:-}" ]; then
  BROKERS="$BENCH_KAFKA_BROKERS"
else
  port=$(free_port)
  say "starting a private Kafka node on port $port"
  KAFKA_PORT=$port KAFKA_CONTROLLER_PORT=$(free_port) "$ROOT/scripts/kafka-node.sh" "$WORK/kafka" >>"$WORK/kafka.log" 2>&1 &
  BROKER_PID=$!
  BROKERS="127.0.0.1:$port"
fi

RAW="${RUN}.raw"
env_for() { # $1 = database and topic prefix, $2 = listen port
  cat <<ENV
WIRESTREAM_DATABASE__URL=${ADMIN_URL%/*}/$1
WIRESTREAM_KAFKA__BROKERS=$BROKERS
WIRESTREAM_KAFKA__RAW_TOPIC=$RAW
WIRESTREAM_KAFKA__ARTICLES_TOPIC=$1.articles
WIRESTREAM_KAFKA__DEAD_LETTER_TOPIC=$1.dead-letters
WIRESTREAM_INGEST__LISTEN=127.0.0.1:$2
WIRESTREAM_WORKER__LISTEN=127.0.0.1:$2
WIRESTREAM_WORKER__GROUP_ID=$1-worker
WIRESTREAM_WORKER__DEDUP__ALLOWED_LATENESS=${BENCH_ALLOWED_LATENESS:-400d}
WIRESTREAM_LOG__FORMAT=json
ENV
}
new_db() { # $1 = prefix: a database of its own, its topics
  psql "$ADMIN_URL" -qAt -c "CREATE DATABASE $1" >/dev/null
  env $(env_for "$1" 0) "$BIN/wirestream" migrate >/dev/null
  env $(env_for "$1" 0) "$BIN/wirestream" topics --wait 120s >/dev/null
}
ready() { # $1 = port
  for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$1/ready" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "error: the service on port $1 did not become ready (logs in $WORK)" >&2
  exit 1
}
# The sum of one metric's value over the workers' /metrics.
metric_sum() { # $1 = metric line prefix, then ports
  local name=$1 port total=0 value
  shift
  for port in "$@"; do
    value=$(curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null | awk -v n="$name" 'index($0, n) == 1 { s += $NF } END { printf "%.6f", s + 0 }')
    total=$(echo "$total + ${value:-0}" | bc -l)
  done
  echo "$total"
}

say "loading $ITEMS items into the raw topic $RAW"
head -n "$ITEMS" "$CORPUS" >"$WORK/items.ndjson"
new_db "${RUN}_load"
ingest_port=$(free_port)
env $(env_for "${RUN}_load" "$ingest_port") "$BIN/wirestream-ingest" >>"$WORK/ingest.log" 2>&1 &
PIDS+=($!)
ready "$ingest_port"
env $(env_for "${RUN}_load" "$ingest_port") "$BIN/wirestream" feed --quiet --url "http://127.0.0.1:$ingest_port" "$WORK/items.ndjson"
stop_pids
LOADED=$(wc -l <"$WORK/items.ndjson")

declare -A PER_S SHARE
run() { # $1 = workers
  local n=$1 prefix="${RUN}_w$1" ports=() i port begin=0 end consumed done_items samples=0 waiting=0 own
  new_db "$prefix"
  for i in $(seq 1 "$n"); do
    port=$(free_port)
    ports+=("$port")
    env $(env_for "$prefix" "$port") "$BIN/wirestream-worker" >>"$WORK/worker-$n-$i.log" 2>&1 &
    PIDS+=($!)
  done
  for port in "${ports[@]}"; do ready "$port"; done
  # The clock starts at the first item consumed (after the group's first
  # rebalance) and stops when every item is decided or dead-lettered.
  while :; do
    consumed=$(metric_sum wirestream_worker_items_consumed_total "${ports[@]}")
    if [ "$begin" = 0 ] && [ "$(echo "$consumed > 0" | bc)" = 1 ]; then begin=$(date +%s.%N); fi
    done_items=$(echo "$(metric_sum wirestream_worker_verdicts_total "${ports[@]}") + $(metric_sum wirestream_dead_letters_total "${ports[@]}")" | bc -l)
    [ "$(echo "$done_items >= $LOADED" | bc)" = 1 ] && break
    if [ "$begin" != 0 ]; then
      # Worker backends waiting on a row or a transaction lock (a slot or
      # a hash another claim is inserting). Not the advisory index lock: the
      # workers' own timing has every claim's wait for it already (counting
      # it here too counted it twice; until 2026-12-03 this did), and the
      # expiry task's wait for it holds up no batch. (A build from before
      # issue 17, with advisory stripe locks and no own timing, reads here
      # as never waiting.)
      waiting=$((waiting + $(psql "$ADMIN_URL" -qAt -c "SELECT count(*) FROM pg_stat_activity
        WHERE datname = '$prefix' AND wait_event_type = 'Lock'
          AND wait_event <> 'advisory'")))
      samples=$((samples + 1))
    fi
    sleep 0.2
  done
  end=$(date +%s.%N)
  own=$(metric_sum wirestream_worker_lock_wait_seconds_sum "${ports[@]}")
  stop_pids
  local wall
  wall=$(echo "$end - $begin" | bc -l)
  PER_S[$n]=$(echo "scale=1; $LOADED / $wall" | bc -l)
  # Own timing over n workers' wall time, plus the sampled share.
  SHARE[$n]=$(echo "scale=4; $own / ($n * $wall) + ($samples > 0) * $waiting / ($n * ($samples + ($samples == 0)))" | bc -l)
  local verdicts
  verdicts=$(psql "${ADMIN_URL%/*}/$prefix" -qAt -F= -c "SELECT verdict, count(*) FROM dedup_decisions GROUP BY 1 ORDER BY 1" | tr '\n' ' ')
  say "$n worker(s): $LOADED items in $(printf %.1f "$wall") s = ${PER_S[$n]} items/s; lock wait share ${SHARE[$n]} (own ${own} s; $waiting of $samples samples waiting on a row); $verdicts"
}

for n in 1 2 4; do run "$n"; done
say "load at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (indicative figures on a shared box)"
share=$(printf '%s\n' "${SHARE[2]}" "${SHARE[4]}" | sort -g | tail -n 1 | sed 's/^\./0./')
echo "workers_1_items_per_s=${PER_S[1]}"
echo "workers_2_items_per_s=${PER_S[2]}"
echo "workers_4_items_per_s=${PER_S[4]}"
echo "worker_lock_wait_share=$share"
echo "workers_2_vs_1=$(echo "scale=2; ${PER_S[2]} / ${PER_S[1]}" | bc -l | sed 's/^\./0./')"
