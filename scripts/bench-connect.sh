#!/usr/bin/env bash
# A peer, side by side: Kafka Connect standalone with Debezium's JDBC sink
# against our sink, draining the same full articles topic into the same
# table (our schema: same columns, primary key, indexes and tsvector), each
# into a fresh database, one after the other, with nothing else of ours
# running. Step 7 of `make bench` (scripts/bench.sh calls it with step 3's
# broker and topic); runnable on its own:
#
#   scripts/bench-connect.sh --brokers 127.0.0.1:29092 --topic RUN.articles \
#     --database-url postgres://wirestream@127.0.0.1:15432/wirestream --rows 200000
#
# Options: --dead-letters TOPIC (the sink's; default: the articles topic's
# prefix + .dead-letters), --bin DIR (our binaries, default target/release),
# --work DIR (logs and configs, default a new folder under /tmp). --rows is
# how many rows the table ends with: the topic's distinct items (both sinks
# read every message on it). BENCH_CONFIG as bench.sh.
#
# Our articles are JSON without a schema and Debezium's JDBC sink needs
# records with one: `wirestream-bench connect-topic` first copies the topic
# into one whose messages carry Connect's JsonConverter envelope (a schema
# in each), untimed; Connect reads that copy (docs/benchmarks.md). Debezium's
# sink has no version guard: its upsert replaces the row whatever the
# version; ours keeps the highest version and writes article_versions too.
#
# Figures: rows per second from the first row committed to the last
# (`stored_at`), so the JVM's start is not counted against Connect's rate;
# CPU-seconds per 1,000 rows from /proc ticks over the same span, and the
# start-up CPU (process start to first row) apart. It ends with name=value
# lines; bench.sh reads connect_sink_rows_per_s and sink_vs_connect.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BROKERS="" TOPIC="" DLQ="" ADMIN_URL="" ROWS="" BIN="$ROOT/target/release" WORK=""
while [ $# -gt 0 ]; do
  case "$1" in
    --brokers) BROKERS=$2 ;;
    --topic) TOPIC=$2 ;;
    --dead-letters) DLQ=$2 ;;
    --database-url) ADMIN_URL=$2 ;;
    --rows) ROWS=$2 ;;
    --bin) BIN=$2 ;;
    --work) WORK=$2 ;;
    *) echo "error: unknown option $1 (see the head of $0)" >&2; exit 2 ;;
  esac
  shift 2
done
[ -n "$BROKERS" ] && [ -n "$TOPIC" ] && [ -n "$ADMIN_URL" ] && [ -n "$ROWS" ] \
  || { echo "usage: $0 --brokers B --topic T --database-url URL --rows N" >&2; exit 2; }
DLQ="${DLQ:-${TOPIC%.articles}.dead-letters}"
WORK="${WORK:-$(mktemp -d /tmp/wirestream-connect.XXXXXX)}"
mkdir -p "$WORK"
HZ="$(getconf CLK_TCK)"
RUN="wsconnect_$(date +%Y%m%d_%H%M%S)_$$"
SINK_PORT="${CONNECT_BENCH_SINK_PORT:-28083}"
REST_PORT="${CONNECT_BENCH_REST_PORT:-28084}"
say() { echo "==> $*" >&2; }

CONNECT_HOME="$("$ROOT/scripts/ensure-kafka-connect.sh" | tail -n 1)"

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_mib() { awk '/^VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo 0; }
db_url() { echo "${ADMIN_URL%/*}/$1"; }
sql() { psql "$(db_url "$1")" -qAt -c "$2"; }

PIDS=()
DBS=()
cleanup() {
  local pid db
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ "${BENCH_KEEP:-0}" = 1 ] && return 0
  for db in "${DBS[@]}"; do psql "$ADMIN_URL" -qAt -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

new_db() { # $1 = name: our schema, migrated by our CLI
  psql "$ADMIN_URL" -qAt -c "CREATE DATABASE $1" >/dev/null
  DBS+=("$1")
  WIRESTREAM_DATABASE__URL="$(db_url "$1")" "$BIN/wirestream" migrate >/dev/null
}

# Waits until database $1's articles table holds $ROWS rows, while process
# $2 lives; sets START_TICKS (the process's CPU when the first row showed),
# END_TICKS, RSS, SPAN (seconds from the first commit to the last) and GOT.
# $3, if given, is a command that fails when the sink has failed for good.
watch_rows() {
  local db=$1 pid=$2 check=${3:-true} n=0 last=-1 still=0
  START_TICKS=""
  while :; do
    kill -0 "$pid" 2>/dev/null || { echo "error: the sink into $db exited (see $WORK)" >&2; return 1; }
    $check || { echo "error: the sink into $db failed (see $WORK)" >&2; return 1; }
    n=$(sql "$db" "SELECT count(*) FROM articles")
    [ -z "$START_TICKS" ] && [ "$n" -gt 0 ] && START_TICKS=$(ticks "$pid")
    [ "$n" -ge "$ROWS" ] && break
    if [ "$n" = "$last" ]; then
      still=$((still + 1))
      # Five minutes without a new row: report what there is.
      [ "$still" -ge 150 ] && { say "warning: $db stopped at $n of $ROWS rows"; break; }
    else
      still=0 last=$n
    fi
    sleep 2
  done
  END_TICKS=$(ticks "$pid")
  RSS=$(rss_mib "$pid")
  GOT=$n
  SPAN=$(sql "$db" "SELECT extract(epoch FROM max(stored_at) - min(stored_at)) FROM articles")
  [ "$n" -gt 0 ] && [ "$(echo "$SPAN > 0" | bc)" = 1 ] || { echo "error: no rows to time in $db" >&2; return 1; }
}

per_s() { echo "$1 / $2" | bc; }
per_1k() { echo "scale=3; $1 / $HZ * 1000 / $2" | bc | sed 's/^\./0./'; }

# --- ours ------------------------------------------------------------------------------------
say "7/7 our sink: $ROWS rows from $TOPIC"
new_db "${RUN}_ours"
env WIRESTREAM_DATABASE__URL="$(db_url "${RUN}_ours")" WIRESTREAM_KAFKA__BROKERS="$BROKERS" \
  WIRESTREAM_KAFKA__ARTICLES_TOPIC="$TOPIC" WIRESTREAM_KAFKA__DEAD_LETTER_TOPIC="$DLQ" \
  WIRESTREAM_SINK__GROUP_ID="${RUN}-sink" WIRESTREAM_SINK__LISTEN="127.0.0.1:$SINK_PORT" \
  WIRESTREAM_LOG__FORMAT=json ${BENCH_CONFIG:+WIRESTREAM_CONFIG=$BENCH_CONFIG} \
  "$BIN/wirestream-sink" >>"$WORK/our-sink.log" 2>&1 &
pid=$!
PIDS+=("$pid")
watch_rows "${RUN}_ours" "$pid"
ours_rows=$GOT ours_span=$SPAN ours_cpu=$((END_TICKS - START_TICKS)) ours_rss=$RSS
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true

# --- Kafka Connect -------------------------------------------------------------------------------
say "7/7 Kafka Connect: a copy of $TOPIC with a schema in each message (untimed)"
"$BIN/wirestream-bench" connect-topic --brokers "$BROKERS" --from "$TOPIC" --to "$RUN.connect" | tee "$WORK/connect-topic.txt" >&2
new_db "${RUN}_connect"
# postgres://user[:password]@host:port/db as JDBC properties.
read -r pg_user pg_password pg_hostport < <(python3 - "$(db_url "${RUN}_connect")" <<'PY'
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
print(u.username or "postgres", u.password or "-", f"{u.hostname}:{u.port or 5432}")
PY
)
[ "$pg_password" = "-" ] && pg_password=""
cat >"$WORK/worker.properties" <<PROPS
bootstrap.servers=$BROKERS
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
value.converter.schemas.enable=true
offset.storage.file.filename=$WORK/connect.offsets
plugin.path=$CONNECT_HOME/plugins
listeners=http://127.0.0.1:$REST_PORT
# As our sink: up to 1,000 rows a batch.
consumer.max.poll.records=1000
PROPS
cat >"$WORK/jdbc-sink.properties" <<PROPS
name=$RUN-jdbc
connector.class=io.debezium.connector.jdbc.JdbcSinkConnector
tasks.max=1
topics=$RUN.connect
connection.url=jdbc:postgresql://$pg_hostport/${RUN}_connect
connection.username=$pg_user
connection.password=$pg_password
insert.mode=upsert
primary.key.mode=record_value
primary.key.fields=provider,uri
delete.enabled=false
schema.evolution=none
collection.name.format=articles
batch.size=1000
PROPS
say "7/7 Kafka Connect standalone + Debezium JDBC sink: $ROWS rows"
java -Xms256m -Xmx512m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
  -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.properties" \
  -cp "$CONNECT_HOME/lib/*" org.apache.kafka.connect.cli.ConnectStandalone \
  "$WORK/worker.properties" "$WORK/jdbc-sink.properties" >>"$WORK/connect.log" 2>&1 &
pid=$!
PIDS+=("$pid")
# A failed task leaves the worker up: ask its REST API.
connect_alive() {
  ! curl -fsS "http://127.0.0.1:$REST_PORT/connectors/$RUN-jdbc/status" 2>/dev/null | grep -q '"state":"FAILED"'
}
watch_rows "${RUN}_connect" "$pid" connect_alive
connect_rows=$GOT connect_span=$SPAN connect_cpu=$((END_TICKS - START_TICKS)) connect_rss=$RSS
connect_startup=$(echo "scale=1; $START_TICKS / $HZ" | bc)
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true

ours_per_s=$(per_s "$ours_rows" "$ours_span")
connect_per_s=$(per_s "$connect_rows" "$connect_span")
ours_per_1k=$(per_1k "$ours_cpu" "$ours_rows")
connect_per_1k=$(per_1k "$connect_cpu" "$connect_rows")
echo "| sink, same topic, same table | rows | rows/s | CPU-s per 1,000 rows | peak RSS MiB |"
echo "|---|---|---|---|---|"
echo "| ours (wirestream-sink) | $ours_rows | $ours_per_s | $ours_per_1k | $ours_rss |"
echo "| Kafka Connect standalone + Debezium JDBC sink ($(basename "$CONNECT_HOME")) | $connect_rows | $connect_per_s | $connect_per_1k (start-up ${connect_startup} CPU-s apart) | $connect_rss |"
echo "our_sink_rows_per_s=$ours_per_s"
echo "our_sink_cpu_s_per_1k=$ours_per_1k"
echo "connect_sink_rows_per_s=$connect_per_s"
echo "connect_sink_cpu_s_per_1k=$connect_per_1k"
echo "connect_startup_cpu_s=$connect_startup"
echo "sink_vs_connect=$(echo "scale=2; $ours_per_s / $connect_per_s" | bc | sed 's/^\./0./')"
echo "sink_cpu_vs_connect=$(echo "scale=2; $ours_per_1k / $connect_per_1k" | bc | sed 's/^\./0./')"
