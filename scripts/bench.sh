#!/usr/bin/env bash
# `make bench`: the whole pipeline's figures on this machine, in one run.
# A harness, not a test: it measures, prints a table, writes it into
# docs/benchmarks.md, and ends with one name=value line per headline figure.
#
#   1. ingest alone: the items through `wirestream feed` into the raw topic;
#   2. the broker's ceiling: a bare consumer reads that topic, a bare producer
#      sends the same messages again (wirestream-bench broker);
#   3. end to end: >= 200,000 items through the CLI, ingest, worker and sink
#      into PostgreSQL, with CPU-seconds per 1,000 articles and peak RSS per
#      process;
#   4. latency at 25%, 50% and 80% of the rate measured in 3;
#   5. the sink against `psql \copy`, and normalise + dedup against datasketch;
#   the store's ceiling (after 4, with no service running): the rows of step 3
#      loaded by PostgreSQL alone, by our write path and by COPY
#      (wirestream-bench ceiling); e2e_vs_store_ceiling is 3's articles/s
#      over it;
#   7. Kafka Connect standalone with Debezium's JDBC sink against our sink,
#      both draining step 3's articles topic (scripts/bench-connect.sh);
#   8. memory over a long replay: BENCH_HORIZON_ITEMS (default 1,000,000)
#      items spanning many dedup horizons, the services' RSS and the dedup
#      tables sampled as it runs (scripts/bench-horizon.sh).
#
# The broker is a fresh Apache Kafka node started here (scripts/kafka-node.sh,
# its data under .dev/bench), so that no test run's topics share its disk and
# page cache; PostgreSQL is the stack's, in a new database.
#
# Environment: BENCH_ITEMS (default 200000), BENCH_STEP_SECONDS (steady feed
# per latency step, default 20), BENCH_STEPS (e.g. 3,6 or 3,ceiling,7: only
# those; 3 always runs), BENCH_PROFILE=1 (perf profiles of the services during step 3),
# BENCH_BIN (prebuilt binaries; default: build target/release), BENCH_CONFIG
# (a config file for the services, to try other settings),
# BENCH_RECORD_HEADERS (default true; false prices the headers), BENCH_KEEP=1
# (keep the broker's data, the items and the databases for analysis),
# BENCH_ALLOWED_LATENESS (the dedup allowed_lateness of the worker and of
# `wirestream-bench ceiling`, which reads it too; default 400d, beyond the
# months each repeat of the corpus comes late: docs/dedup.md, "Late items
# and allowed lateness").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${WIRESTREAM_SHARED:-$ROOT/../shared}"
CORPUS="$SHARED/corpus/reuters21578.ndjson"
ITEMS="${BENCH_ITEMS:-200000}"
STEP_SECONDS="${BENCH_STEP_SECONDS:-20}"
BIN="${BENCH_BIN:-$ROOT/target/release}"
RUN="wsbench_$(date +%Y%m%d_%H%M%S)"
WORK="$ROOT/.dev/bench/$RUN"
HZ="$(getconf CLK_TCK)"
BROKER_PORT=29092
say() { echo "==> $*" >&2; }
# The value of a step's `NAME=value` line in FILE.
value_of() { sed -n "s/^$1=//p" "$2"; }
want() { [ -z "${BENCH_STEPS:-}" ] || [[ ",$BENCH_STEPS," == *",$1,"* ]]; }

[ -f "$CORPUS" ] || { echo "error: the corpus is not at $CORPUS (set WIRESTREAM_SHARED)" >&2; exit 1; }
mkdir -p "$WORK"

if [ -z "${BENCH_BIN:-}" ]; then
  say "building the release binaries"
  "$ROOT/scripts/ensure-build-deps.sh"
  cargo build --release --bins --manifest-path "$ROOT/Cargo.toml" >&2
fi
WIRESTREAM_CLI="$BIN/wirestream" "$ROOT/scripts/stack.sh" up >/dev/null
eval "$("$ROOT/scripts/stack.sh" status | grep -E '^(DATABASE_URL|PG_DATA)=')"
ADMIN_URL="$DATABASE_URL"

# Commit timestamps give "receipt to commit" exactly, rather than the start of
# the sink's transaction that `stored_at` records.
if [ "$(psql "$ADMIN_URL" -qAt -c 'SHOW track_commit_timestamp')" != "on" ]; then
  say "turning on track_commit_timestamp (restarts the stack's PostgreSQL)"
  psql "$ADMIN_URL" -qAt -c 'ALTER SYSTEM SET track_commit_timestamp = on' >/dev/null
  "$ROOT/scripts/stack.sh" pg-restart
fi

# pg_stat_statements: where PostgreSQL's time goes, per statement, in step 3
# and in the store's ceiling (the profile the issue asks for when the store
# is the limit). It must be preloaded, which needs a restart.
if ! psql "$ADMIN_URL" -qAt -c 'SHOW shared_preload_libraries' | grep -q pg_stat_statements; then
  say "preloading pg_stat_statements (restarts the stack's PostgreSQL)"
  psql "$ADMIN_URL" -qAt -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
  "$ROOT/scripts/stack.sh" pg-restart
fi
psql "$ADMIN_URL" -qAt -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' >/dev/null
pg_profile_reset() { psql "$ADMIN_URL" -qAt -c 'SELECT pg_stat_statements_reset()' >/dev/null; }
# $1 = which statements (an SQL condition on pg_stat_statements' columns):
# the top ten by execution time as markdown table rows, each statement cut to
# its first 90 characters.
pg_profile() {
  psql "$ADMIN_URL" -qAt -F ' | ' -c "
    WITH s AS (
      SELECT * FROM pg_stat_statements WHERE ($1) AND query NOT ILIKE '%pg_stat_statements%'
    ), t AS (SELECT sum(total_exec_time) AS all_ms FROM s)
    SELECT '| ' || round(100 * total_exec_time / nullif(all_ms, 0)) || '%', calls, rows,
           round((total_exec_time / calls)::numeric, 2),
           '\`' || left(regexp_replace(query, '\\s+', ' ', 'g'), 90) || '\` |'
    FROM s, t ORDER BY total_exec_time DESC LIMIT 10"
}

# --- process accounting --------------------------------------------------------
# CPU ticks (user + system) of one process, and of PostgreSQL as a whole: its
# live processes plus what the postmaster collected from backends that exited.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
  local master total=0 pid
  master="$(head -n 1 "$PG_DATA/postmaster.pid")"
  for pid in $(pgrep -P "$master") "$master"; do total=$((total + $(ticks "$pid"))); done
  echo $((total + $(awk '{ print $16 + $17 }' "/proc/$master/stat")))
}
# CPU time the hypervisor gave to other guests, and all CPU time, machine-wide
# (/proc/stat's first line). On a shared VM steal comes and goes from minute
# to minute and takes the latency steps' p99 with it: with 10-45% of the
# box stolen p99 at 50% was 334 ms, with 0-8% 182 ms, in two runs minutes
# apart, so each step prints its share beside its figures
# (docs/benchmarks.md).
host_ticks() { awk '/^cpu / { total = 0; for (i = 2; i <= 9; i++) total += $i; print $9, total }' /proc/stat; }
steal_share() { # $1, $2 = host_ticks before and after
  local s0 t0 s1 t1
  read -r s0 t0 <<<"$1"
  read -r s1 t1 <<<"$2"
  echo "scale=3; ($s1 - $s0) / ($t1 - $t0)" | bc | sed 's/^\./0./'
}
peak_rss_mib() { awk '/^VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# --- the broker ------------------------------------------------------------------
BROKER_PID=""
broker_up() {
  local dir="$WORK/kafka"
  if (exec 3<>"/dev/tcp/127.0.0.1/$BROKER_PORT") 2>/dev/null; then
    echo "error: port $BROKER_PORT is taken (a broker left from another run?); the figures need a fresh one" >&2
    exit 1
  fi
  KAFKA_PORT=$BROKER_PORT "$ROOT/scripts/kafka-node.sh" "$dir" >>"$WORK/kafka.log" 2>&1 &
  BROKER_PID=$!
  KAFKA_BROKERS="127.0.0.1:$BROKER_PORT"
  # kafka-node.sh execs java once the data folder is formatted, so the pid is
  # the broker's; new_run's `topics --wait` waits until it answers.
}
broker_down() {
  [ -n "$BROKER_PID" ] || return 0
  kill -TERM "$BROKER_PID" 2>/dev/null || true
  wait "$BROKER_PID" 2>/dev/null || true
  BROKER_PID=""
}

# --- the services ------------------------------------------------------------------
declare -A PID PORT
PORT[ingest]=28080 PORT[worker]=28081 PORT[sink]=28082

service_env() { # $1 = topic prefix and database name
  cat <<ENV
WIRESTREAM_DATABASE__URL=${ADMIN_URL%/*}/$1
WIRESTREAM_KAFKA__BROKERS=$KAFKA_BROKERS
WIRESTREAM_KAFKA__RAW_TOPIC=$1.raw
WIRESTREAM_KAFKA__ARTICLES_TOPIC=$1.articles
WIRESTREAM_KAFKA__DEAD_LETTER_TOPIC=$1.dead-letters
WIRESTREAM_KAFKA__RECORD_HEADERS=${BENCH_RECORD_HEADERS:-true}
WIRESTREAM_INGEST__LISTEN=127.0.0.1:${PORT[ingest]}
WIRESTREAM_WORKER__LISTEN=127.0.0.1:${PORT[worker]}
WIRESTREAM_SINK__LISTEN=127.0.0.1:${PORT[sink]}
WIRESTREAM_WORKER__GROUP_ID=$1-worker
WIRESTREAM_WORKER__DEDUP__ALLOWED_LATENESS=${BENCH_ALLOWED_LATENESS:-400d}
WIRESTREAM_SINK__GROUP_ID=$1-sink
WIRESTREAM_LOG__FORMAT=json
${BENCH_CONFIG:+WIRESTREAM_CONFIG=$BENCH_CONFIG}
ENV
}

start() { # $1 = service, $2 = prefix
  env $(service_env "$2") "$BIN/wirestream-$1" >>"$WORK/$1.log" 2>&1 &
  PID[$1]=$!
  for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:${PORT[$1]}/ready" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "error: $1 did not become ready (see $WORK/$1.log)" >&2
  exit 1
}

stop_all() {
  local service
  for service in "${!PID[@]}"; do kill -TERM "${PID[$service]}" 2>/dev/null || true; done
  for service in "${!PID[@]}"; do wait "${PID[$service]}" 2>/dev/null || true; done
  PID=()
}
# A run leaves gigabytes behind (the broker's sqlite file, the items, a
# database per step): only the logs and the table stay, unless BENCH_KEEP=1.
cleanup() {
  [ "${BENCH_KEEP:-0}" = 1 ] && return 0
  rm -rf "$WORK"/kafka "$WORK"/*.ndjson
  local db
  for db in $(psql "$ADMIN_URL" -qAt -c "SELECT datname FROM pg_database WHERE datname LIKE '${RUN}_%'" 2>/dev/null); do
    psql "$ADMIN_URL" -qAt -c "DROP DATABASE $db" >/dev/null 2>&1 || true
  done
}
trap 'stop_all; broker_down; cleanup' EXIT

cli() { env $(service_env "$1") "$BIN/wirestream" "${@:2}"; }
sql() { psql "${ADMIN_URL%/*}/$1" -qAt -c "$2"; }
new_run() { # $1 = prefix: a database and topics of its own
  psql "$ADMIN_URL" -qAt -c "CREATE DATABASE $1" >/dev/null
  cli "$1" migrate >/dev/null
  cli "$1" topics --wait 120s >/dev/null
}
feed() { # $1 = prefix, $2 = file, more options
  cli "$1" feed --quiet --url "http://127.0.0.1:${PORT[ingest]}" "${@:3}" "$2"
}

say "writing $ITEMS items (the corpus repeated with fresh ids)"
"$BIN/wirestream-bench" corpus --corpus "$CORPUS" --items "$ITEMS" --out "$WORK/items.ndjson" >/dev/null

declare -A CPU RSS P50 P99 STEAL
ingest_per_s="" bare_produce="" bare_consume="" bare_produce_cpu="" sink_vs_copy="" dedup_per_s="" datasketch_per_s=""
broker_up

# --- 1. ingest alone -----------------------------------------------------------------
if want 1; then
  say "1/5 ingest alone: $ITEMS items through the CLI into the raw topic"
  new_run "${RUN}_ingest"
  start ingest "${RUN}_ingest"
  begin=$(date +%s.%N)
  feed "${RUN}_ingest" "$WORK/items.ndjson"
  ingest_per_s=$(echo "$ITEMS / ($(date +%s.%N) - $begin)" | bc)
  stop_all
fi

# --- 2. the broker's ceiling -----------------------------------------------------------
if want 1 && want 2; then
  say "2/5 bare consumer and bare producer: the same messages, the same broker"
  new_run "${RUN}_copy"
  "$BIN/wirestream-bench" broker --brokers "$KAFKA_BROKERS" --topic "${RUN}_ingest.raw" --to "${RUN}_copy.raw" \
    --expected "$ITEMS" | tee "$WORK/broker.txt" >&2
  bare_consume=$(value_of bare_consume_msgs_per_s "$WORK/broker.txt")
  bare_produce=$(value_of bare_produce_msgs_per_s "$WORK/broker.txt")
  bare_produce_cpu=$(value_of bare_produce_cpu_s_per_1k "$WORK/broker.txt")
fi

# --- 3. end to end ---------------------------------------------------------------------
# Sets E2E_PER_S, ACCOUNTED, and CPU/RSS per process (when $2 = measure).
e2e() { # $1 = prefix, $2 = measure | quiet
  local prefix=$1 service p articles dead seconds
  new_run "$prefix"
  for service in ingest worker sink; do start "$service" "$prefix"; done
  declare -A cpu0
  for service in ingest worker sink; do cpu0[$service]=$(ticks "${PID[$service]}"); done
  cpu0[broker]=$(ticks "$BROKER_PID")
  cpu0[postgres]=$(pg_ticks)
  local perf=()
  if [ "${BENCH_PROFILE:-0}" = 1 ] && [ "$2" = measure ]; then
    for service in ingest worker sink; do
      perf record -e cpu-clock -F 499 -g -p "${PID[$service]}" -o "$WORK/$service.perf" >/dev/null 2>&1 &
      perf+=($!)
    done
  fi
  if [ "$2" = measure ]; then pg_profile_reset; fi
  local host0
  host0=$(host_ticks)
  /usr/bin/time -f "%U %S %M" -o "$WORK/cli.time" \
    env $(service_env "$prefix") "$BIN/wirestream" feed --quiet --url "http://127.0.0.1:${PORT[ingest]}" "$WORK/items.ndjson"
  cli "$prefix" report --expect "$ITEMS" --timeout 3600 >"$WORK/$prefix.report.txt"
  E2E_STEAL=$(steal_share "$host0" "$(host_ticks)")
  for service in ingest worker sink; do CPU[$service]=$(($(ticks "${PID[$service]}") - cpu0[$service])); done
  CPU[broker]=$(($(ticks "$BROKER_PID") - cpu0[broker]))
  CPU[postgres]=$(($(pg_ticks) - cpu0[postgres]))
  CPU[cli]=$(awk -v hz="$HZ" '{ printf "%d", ($1 + $2) * hz }' "$WORK/cli.time")
  for p in "${perf[@]}"; do kill -INT "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ "$2" = measure ]; then
    pg_profile "dbid = (SELECT oid FROM pg_database WHERE datname = '$prefix')" >"$WORK/pg-profile-e2e.md"
  fi
  seconds=$(sql "$prefix" "SELECT extract(epoch FROM max(stored_at) - min(received_at)) FROM articles")
  articles=$(sql "$prefix" "SELECT count(*) FROM articles")
  dead=$(sql "$prefix" "SELECT count(*) FROM dead_letters")
  ACCOUNTED=$((articles + dead))
  E2E_PER_S=$(echo "$ACCOUNTED / $seconds" | bc)
  E2E_DETAIL="$articles articles + $dead dead letters in ${seconds%.*} s"
  for service in ingest worker sink; do RSS[$service]=$(peak_rss_mib "${PID[$service]}"); done
  RSS[cli]=$(awk '{ printf "%d", $3 / 1024 }' "$WORK/cli.time")
  RSS[broker]=$(peak_rss_mib "$BROKER_PID")
}
per_1k() { echo "scale=3; ${CPU[$1]} / $HZ * 1000 / $ACCOUNTED" | bc | sed 's/^\./0./'; }

say "3/5 end to end: $ITEMS items, CLI -> ingest -> broker -> worker -> broker -> sink -> PostgreSQL"
E2E="${RUN}_e2e"
e2e "$E2E" measure
e2e_per_s=$E2E_PER_S e2e_detail=$E2E_DETAIL e2e_steal=$E2E_STEAL
# Verdict counts of this pass, before step 4 adds to its database: the same
# items decided again must get the same counts (the ceiling decides them
# once more, in fixed batches, and prints its own).
verdicts_of() {
  sql "$1" "SELECT string_agg(v || ':' || coalesce(n, 0), ',' ORDER BY o)
            FROM unnest(ARRAY['new', 'version', 'duplicate', 'kill']) WITH ORDINALITY AS k(v, o)
            LEFT JOIN (SELECT verdict, count(*) AS n FROM articles GROUP BY verdict) c ON c.verdict = k.v"
}
E2E_VERDICTS=$(verdicts_of "$E2E")
# Articles alone (no dead letters), as the ceiling counts its rows.
E2E_ARTICLES_PER_S=$(sql "$E2E" "SELECT round(count(*) / extract(epoch FROM max(stored_at) - min(received_at))) FROM articles")
say "verdicts of step 3: $E2E_VERDICTS"
say "$e2e_per_s articles/s; CPU-s per 1,000: $(for p in cli ingest worker sink broker postgres; do printf '%s %s  ' "$p" "$(per_1k $p)"; done)"
CPU_TABLE=$(for p in cli ingest worker sink broker; do echo "| $p | $(per_1k $p) | ${RSS[$p]} |"; done
  echo "| postgres (all backends) | $(per_1k postgres) | - |")
TOTAL_TICKS=0
for p in cli ingest worker sink broker postgres; do TOTAL_TICKS=$((TOTAL_TICKS + CPU[$p])); done
BROKER_SHARE=$(echo "scale=3; ${CPU[broker]} / $TOTAL_TICKS" | bc | sed 's/^\./0./')
max_rss=0
for p in ingest worker sink; do [ "${RSS[$p]}" -gt "$max_rss" ] && max_rss=${RSS[$p]}; done

# --- 4. latency at a steady rate -------------------------------------------------------
if want 4; then
  accounted=$ACCOUNTED
  # The burst of step 3 leaves autovacuum work (every table grew by hundreds
  # of thousands of rows) that would otherwise run during the steps below, on
  # the same two cores: do it now, so that they measure the pipeline at a
  # steady rate, not the aftermath of the burst (docs/benchmarks.md).
  say "4/5 vacuuming after the burst"
  sql "$E2E" "VACUUM (ANALYZE)" >/dev/null
  for pct in 25 50 80; do
    rate=$((e2e_per_s * pct / 100))
    count=$((rate * STEP_SECONDS))
    say "4/5 latency at $pct% of the maximum: $rate items/s for ${STEP_SECONDS}s"
    "$BIN/wirestream-bench" corpus --corpus "$CORPUS" --items "$count" --tag "l$pct" --out "$WORK/rate$pct.ndjson" >/dev/null
    # Small requests (about 20 a second), so that items arrive steadily
    # rather than in bursts of the CLI's default 500.
    host0=$(host_ticks)
    feed "$E2E" "$WORK/rate$pct.ndjson" --rate "$rate" --batch $((rate / 20 + 1))
    accounted=$((accounted + count))
    cli "$E2E" report --expect "$accounted" --timeout 600 >/dev/null
    STEAL[$pct]=$(steal_share "$host0" "$(host_ticks)")
    read -r P50[$pct] P99[$pct] < <(sql "$E2E" "
      SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)), round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms))
      FROM (SELECT extract(epoch FROM pg_xact_commit_timestamp(xmin) - received_at) * 1000 AS ms
            FROM articles WHERE uri LIKE '%~l${pct}r%') AS l" | tr '|' ' ')
  done
fi
stop_all

# --- the store's ceiling --------------------------------------------------------------------
# After 4's stop_all: no service of ours runs, the broker idles.
ceiling_write="" ceiling_copy="" store_ceiling="" ceiling_verdicts="" ceiling_pg_cpu="" ceiling_pg_cores=""
if want ceiling; then
  say "the store's ceiling: step 3's $ITEMS items loaded by PostgreSQL alone (our write path, then COPY)"
  pg_profile_reset
  DATABASE_URL="$ADMIN_URL" "$BIN/wirestream-bench" ceiling --items "$WORK/items.ndjson" --postgres-pid "$(head -n 1 "$PG_DATA/postmaster.pid")" | tee "$WORK/ceiling.txt" >&2
  # Its databases are dropped by now; nothing else ran meanwhile.
  pg_profile true >"$WORK/pg-profile-ceiling.md"
  ceiling_write=$(value_of ceiling_write_path_per_s "$WORK/ceiling.txt")
  ceiling_copy=$(value_of ceiling_copy_per_s "$WORK/ceiling.txt")
  store_ceiling=$(value_of store_ceiling_per_s "$WORK/ceiling.txt")
  ceiling_verdicts=$(value_of ceiling_verdicts "$WORK/ceiling.txt")
  ceiling_pg_cpu=$(value_of ceiling_pg_cpu_s_per_1k "$WORK/ceiling.txt")
  ceiling_pg_cores=$(value_of ceiling_pg_cores "$WORK/ceiling.txt")
fi

# --- 5. sink against psql \copy, dedup against datasketch -------------------------------------
if want 5; then
  say "5/5 the sink against psql \\copy; normalise + dedup against datasketch"
  DATABASE_URL="$ADMIN_URL" "$BIN/wirestream-bench" sink --corpus "$CORPUS" | tee "$WORK/sink.txt" >&2
  sink_vs_copy=$(value_of sink_vs_copy "$WORK/sink.txt")
  make -s -C "$ROOT" bench-dedup 2>&1 | tee "$WORK/dedup.txt" >&2 || say "warning: make bench-dedup failed"
  dedup_per_s=$(value_of dedup_items_per_s_per_core "$WORK/dedup.txt" | tail -n 1)
  datasketch_per_s=$("$ROOT/scripts/bench-datasketch.sh" "$CORPUS" 5 | tee "$WORK/datasketch.txt" | sed -n 's/^datasketch_items_per_s=//p' || true)
fi

# --- 6. worker replicas side by side (issue 17) -----------------------------------------------
worker_lock_wait_share="" workers_2_vs_1=""
if want 6; then
  say "6 workers side by side: the same items through 1, 2 and 4 workers (scripts/bench-workers.sh)"
  BENCH_BIN="$BIN" BENCH_KAFKA_BROKERS="$KAFKA_BROKERS" DATABASE_URL="$ADMIN_URL" WIRESTREAM_SHARED="$SHARED" \
    "$ROOT/scripts/bench-workers.sh" | tee "$WORK/workers.txt" >&2 || say "warning: bench-workers.sh failed"
  worker_lock_wait_share=$(value_of worker_lock_wait_share "$WORK/workers.txt")
  workers_2_vs_1=$(value_of workers_2_vs_1 "$WORK/workers.txt")
fi

# --- 7. Kafka Connect beside our sink --------------------------------------------------------
connect_per_s="" connect_cpu="" our_sink_per_s="" our_sink_cpu="" sink_vs_connect="" sink_cpu_vs_connect=""
if want 7; then
  say "7/7 Kafka Connect + Debezium's JDBC sink against our sink, on step 3's articles topic"
  if "$ROOT/scripts/bench-connect.sh" --brokers "$KAFKA_BROKERS" --topic "$E2E.articles" \
    --dead-letters "$E2E.dead-letters" --database-url "$ADMIN_URL" \
    --rows "$(sql "$E2E" "SELECT count(*) FROM articles")" --bin "$BIN" --work "$WORK/connect" \
    >"$WORK/connect.txt"; then
    connect_per_s=$(value_of connect_sink_rows_per_s "$WORK/connect.txt")
    connect_cpu=$(value_of connect_sink_cpu_s_per_1k "$WORK/connect.txt")
    our_sink_per_s=$(value_of our_sink_rows_per_s "$WORK/connect.txt")
    our_sink_cpu=$(value_of our_sink_cpu_s_per_1k "$WORK/connect.txt")
    sink_vs_connect=$(value_of sink_vs_connect "$WORK/connect.txt")
    sink_cpu_vs_connect=$(value_of sink_cpu_vs_connect "$WORK/connect.txt")
  else
    say "warning: the Kafka Connect step failed (see $WORK/connect)"
  fi
fi

# --- 8. memory over many dedup horizons ------------------------------------------------------
horizon_max_rss="" horizon_rss_flat="" horizon_rows_flat=""
if want 8; then
  say "8 a long replay over many dedup horizons (scripts/bench-horizon.sh)"
  BENCH_BIN="$BIN" BENCH_KAFKA_BROKERS="$KAFKA_BROKERS" DATABASE_URL="$ADMIN_URL" WIRESTREAM_SHARED="$SHARED" \
    "$ROOT/scripts/bench-horizon.sh" | tee "$WORK/horizon.txt" >&2 || say "warning: bench-horizon.sh failed"
  horizon_max_rss=$(value_of horizon_max_rss_mib "$WORK/horizon.txt")
  horizon_rss_flat=$(value_of horizon_worker_rss_end_vs_mid "$WORK/horizon.txt")
  horizon_rows_flat=$(value_of horizon_dedup_rows_end_vs_mid "$WORK/horizon.txt")
fi

# --- the report ------------------------------------------------------------------------------
ratio() { if [ -n "$1" ] && [ -n "$2" ]; then echo "scale=2; $1 / $2" | bc | sed 's/^\./0./'; else echo "n/a"; fi; }
or_na() { echo "${1:-n/a}"; }
{
  echo "### make bench, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/^Mem/ { print $2 }') GiB RAM, load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "$(rustc --version); PostgreSQL $(psql "$ADMIN_URL" -qAt -c 'SHOW server_version') with synchronous_commit $(psql "$ADMIN_URL" -qAt -c 'SHOW synchronous_commit');"
  echo "broker: a fresh Apache Kafka $(basename "$("$ROOT/scripts/ensure-kafka.sh" | tail -n 1)" | sed 's/^kafka-//') node (KRaft, scripts/kafka-node.sh), on the same machine. $ITEMS items: the Reuters corpus repeated with fresh ids."
  echo
  echo "| figure | value |"
  echo "|---|---|"
  echo "| end to end, first item accepted to last row committed | **$e2e_per_s articles/s** ($e2e_detail) |"
  echo "| the machine's CPU taken by the hypervisor (steal) during step 3 | $e2e_steal |"
  echo "| verdicts, step 3 | $E2E_VERDICTS |"
  echo "| verdicts, the same items decided again (memory ledger, batches of 500) | $(or_na "$ceiling_verdicts") |"
  echo "| the store's ceiling: step 3's rows by our write path, nothing else running | $(or_na "$ceiling_write") items/s |"
  echo "| the store's ceiling: step 3's rows by COPY | $(or_na "$ceiling_copy") items/s |"
  echo "| end to end ($E2E_ARTICLES_PER_S articles/s, dead letters left out) vs the store's ceiling (the better of the two) | $(ratio "$E2E_ARTICLES_PER_S" "$store_ceiling") |"
  echo "| PostgreSQL's CPU per 1,000 articles: step 3, the ceiling's faster method (cores it kept busy) | $(per_1k postgres), $(or_na "$ceiling_pg_cpu") CPU-s ($(or_na "$ceiling_pg_cores")) |"
  echo "| the broker's CPU per 1,000 articles | $(per_1k broker) CPU-s, $BROKER_SHARE of the run's CPU |"
  echo "| ingest alone (CLI -> ingest -> broker) | $(or_na "$ingest_per_s") items/s |"
  echo "| bare rdkafka producer, same payloads, same broker | $(or_na "$bare_produce") msgs/s ($(or_na "$bare_produce_cpu") CPU-s per 1,000) |"
  echo "| bare rdkafka consumer, same topic | $(or_na "$bare_consume") msgs/s |"
  echo "| ingest vs the bare producer | $(ratio "$ingest_per_s" "$bare_produce") |"
  echo "| sink vs psql \\copy | $(or_na "$sink_vs_copy") |"
  echo "| normalise + dedup, one core | $(or_na "$dedup_per_s") items/s |"
  echo "| datasketch MinHashLSH, one core | $(or_na "$datasketch_per_s") items/s |"
  echo "| normalise + dedup vs datasketch | $(ratio "$dedup_per_s" "$datasketch_per_s") |"
  echo
  echo "| process (step 3) | CPU-s per 1,000 articles | peak RSS MiB |"
  echo "|---|---|---|"
  echo "$CPU_TABLE"
  if [ -n "$connect_per_s" ]; then
    echo
    echo "| sink, draining step 3's articles topic into a fresh table | rows/s | CPU-s per 1,000 rows |"
    echo "|---|---|---|"
    echo "| ours (wirestream-sink) | $our_sink_per_s | $our_sink_cpu |"
    echo "| Kafka Connect standalone + Debezium JDBC sink | $connect_per_s | $connect_cpu |"
    echo "| ours vs Connect | $sink_vs_connect | $sink_cpu_vs_connect |"
  fi
  if [ -s "$WORK/horizon.txt" ]; then
    echo
    echo "Step 8: $(value_of horizon_items "$WORK/horizon.txt") items over $(value_of horizon_span_days "$WORK/horizon.txt") days of article time (the default 30-day horizon):"
    echo
    grep '^|' "$WORK/horizon.txt"
  fi
  for profile in e2e ceiling; do
    [ -s "$WORK/pg-profile-$profile.md" ] || continue
    echo
    echo "| PostgreSQL, $([ $profile = e2e ] && echo "step 3" || echo "the store's ceiling"): share of statement time | calls | rows | ms per call | statement |"
    echo "|---|---|---|---|---|"
    cat "$WORK/pg-profile-$profile.md"
  done
  if want 4; then
    echo
    echo "| steady rate | items/s | p50 ms | p99 ms | CPU stolen by the hypervisor |"
    echo "|---|---|---|---|---|"
    for pct in 25 50 80; do echo "| $pct% | $((e2e_per_s * pct / 100)) | ${P50[$pct]} | ${P99[$pct]} | ${STEAL[$pct]} |"; done
  fi
} | tee "$WORK/table.md"

# docs/benchmarks.md keeps its prose; the block between the markers is replaced.
python3 - "$ROOT/docs/benchmarks.md" "$WORK/table.md" <<'PY'
import sys
doc, table = sys.argv[1], open(sys.argv[2]).read()
text = open(doc).read()
begin, end = "<!-- make bench: begin -->", "<!-- make bench: end -->"
block = f"{begin}\n{table}\n{end}"
if begin in text and end in text:
    text = text[: text.index(begin)] + block + text[text.index(end) + len(end):]
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
open(doc, "w").write(text)
PY

echo
echo "e2e_articles_per_s=$e2e_per_s"
echo "ingest_vs_bare_producer=$(ratio "$ingest_per_s" "$bare_produce")"
echo "sink_vs_copy=$(or_na "$sink_vs_copy")"
echo "dedup_items_per_s_per_core=$(or_na "$dedup_per_s")"
echo "p99_ms_at_50pct=$(or_na "${P99[50]:-}")"
echo "max_rss_mib=$max_rss"
echo "broker_cpu_s_per_1k=$(per_1k broker)"
echo "broker_cpu_share=$BROKER_SHARE"
echo "e2e_verdicts=$E2E_VERDICTS"
echo "ceiling_verdicts=$(or_na "$ceiling_verdicts")"
echo "store_ceiling_per_s=$(or_na "$store_ceiling")"
echo "e2e_vs_store_ceiling=$(ratio "$E2E_ARTICLES_PER_S" "$store_ceiling")"
echo "ceiling_pg_cores=$(or_na "$ceiling_pg_cores")"
echo "e2e_pg_cpu_vs_ceiling=$(ratio "$(per_1k postgres)" "$ceiling_pg_cpu")"
echo "p99_ms_at_80pct=$(or_na "${P99[80]:-}")"
echo "steal_share_e2e=$e2e_steal"
echo "steal_share_at_80pct=$(or_na "${STEAL[80]:-}")"
echo "dedup_vs_datasketch=$(ratio "$dedup_per_s" "$datasketch_per_s")"
echo "connect_sink_rows_per_s=$(or_na "$connect_per_s")"
echo "sink_vs_connect=$(or_na "$sink_vs_connect")"
echo "sink_cpu_vs_connect=$(or_na "$sink_cpu_vs_connect")"
echo "worker_lock_wait_share=$(or_na "$worker_lock_wait_share")"
echo "workers_2_vs_1=$(or_na "$workers_2_vs_1")"
echo "horizon_max_rss_mib=$(or_na "$horizon_max_rss")"
echo "horizon_worker_rss_end_vs_mid=$(or_na "$horizon_rss_flat")"
echo "horizon_dedup_rows_end_vs_mid=$(or_na "$horizon_rows_flat")"
