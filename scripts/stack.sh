#!/usr/bin/env bash
# The local stack without Docker: a private PostgreSQL cluster and an Apache
# Kafka broker (KRaft), under the git-ignored .dev/ folder.
#
#   scripts/stack.sh up       start what is not running (idempotent)
#   scripts/stack.sh down     stop what `up` started, by pid
#   scripts/stack.sh status   KEY=value lines for scripts and people
#
# Ports (override with the environment): PostgreSQL 15432, Kafka 19092 (its
# controller 19093), ingest 18080, worker 18081, sink 18082.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEV="$ROOT/.dev"
PG_PORT="${WIRESTREAM_PG_PORT:-15432}"
KAFKA_PORT="${WIRESTREAM_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${WIRESTREAM_KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
PARTITIONS="${WIRESTREAM_PARTITIONS:-4}"
PIDS="$DEV/pids"
LOGS="$DEV/logs"
DATABASE_URL="postgres://wirestream@127.0.0.1:$PG_PORT/wirestream"
KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"

say() { echo "==> $*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

alive() { # alive NAME: the pid file names a running process
  local file="$PIDS/$1.pid"
  [ -f "$file" ] && kill -0 "$(cat "$file")" 2>/dev/null
}

wait_port() { # wait_port PORT SECONDS NAME
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  die "$3 did not open port $1 within $2s (see $LOGS/)"
}

# --- PostgreSQL ---------------------------------------------------------------

pg_bindir() {
  local dir=""
  if command -v pg_config >/dev/null 2>&1; then dir="$(pg_config --bindir)"; fi
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  fi
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      say "installing PostgreSQL from Debian's packages"
      apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib >&2
      dir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    else
      die "PostgreSQL server binaries (initdb, pg_ctl) are missing: install Debian's 'postgresql' package (apt-get install postgresql), or put pg_config on PATH"
    fi
  fi
  echo "$dir"
}

# PostgreSQL refuses to run as root: as root, the cluster belongs to 'postgres'.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_data() {
  # The data folder must be reachable by the postgres user; a checkout under a
  # private home folder is not, so fall back to a per-checkout folder in /tmp.
  local dir="$DEV/pg"
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$dir" && chown postgres: "$dir" && chmod 700 "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      dir="/tmp/wirestream-pg-$(echo "$ROOT" | md5sum | cut -c1-12)"
      mkdir -p "$dir" && chown postgres: "$dir" && chmod 700 "$dir"
    fi
  fi
  mkdir -p "$dir"
  echo "$dir"
}

# Settings that a reload applies, rewritten on every `up` so that a cluster
# made by an older checkout gets them too.
pg_settings() {
  local data=$1
  grep -q "include_if_exists = 'wirestream.conf'" "$data/postgresql.conf" \
    || echo "include_if_exists = 'wirestream.conf'" >>"$data/postgresql.conf"
  cat >"$data/wirestream.conf" <<'CONF'
# Written by scripts/stack.sh on every `up`: change it there.
#
# Checkpoints by time, not by WAL volume. At the default max_wal_size (1 GB)
# the pipeline at full speed checkpointed every 40-60 s, and the first change
# to each page after a checkpoint writes the whole page to the WAL; lz4
# compresses those page images (docs/benchmarks.md). Commits stay durable:
# synchronous_commit is on.
max_wal_size = 4GB
checkpoint_timeout = 15min
wal_compression = lz4
CONF
  chmod 644 "$data/wirestream.conf"
}

pg_up() {
  local bin data
  bin="$(pg_bindir)"
  data="$(pg_data)"
  if [ ! -f "$data/PG_VERSION" ]; then
    say "creating a PostgreSQL cluster in $data"
    as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$LOGS/initdb.log" 2>&1 \
      || { cat "$LOGS/initdb.log" >&2; die "initdb failed"; }
    cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$data'
max_connections = 200
synchronous_commit = on
shared_buffers = 256MB
# make bench measures receipt-to-commit latency from commit timestamps.
track_commit_timestamp = on
CONF
  fi
  pg_settings "$data"
  if as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "PostgreSQL already running on port $PG_PORT"
    as_pg "$bin/pg_ctl" -D "$data" reload >/dev/null
  else
    say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    touch "$LOGS/postgres.log" && chmod 666 "$LOGS/postgres.log"
    as_pg "$bin/pg_ctl" -D "$data" -l "$LOGS/postgres.log" -w -t 60 start >/dev/null \
      || { tail -n 20 "$LOGS/postgres.log" >&2; die "PostgreSQL did not start"; }
  fi
  head -n 1 "$data/postmaster.pid" >"$PIDS/postgres.pid"
  echo "$data" >"$DEV/pg-data"
  # The application role and database (idempotent).
  local psql=("$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt)
  if [ "$("${psql[@]}" -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname = 'wirestream'")" != 1 ]; then
    "${psql[@]}" -d postgres -c "CREATE ROLE wirestream LOGIN SUPERUSER" >/dev/null
  fi
  if [ "$("${psql[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'wirestream'")" != 1 ]; then
    "${psql[@]}" -d postgres -c "CREATE DATABASE wirestream OWNER wirestream" >/dev/null
  fi
}

pg_down() {
  [ -f "$DEV/pg-data" ] || return 0
  local data bin
  data="$(cat "$DEV/pg-data")"
  bin="$(pg_bindir)"
  # pg_ctl reads the server's own postmaster.pid: a pid file of ours could
  # be stale (a restart changes the postmaster's pid).
  if as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "stopping PostgreSQL"
    as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  fi
  rm -f "$PIDS/postgres.pid"
}

# --- Apache Kafka ---------------------------------------------------------------

# One KRaft node (broker and controller) from jars cached once per machine
# (scripts/ensure-kafka.sh); its data in .dev/kafka survives `down` and `up`.
kafka_up() {
  if alive kafka; then
    say "Kafka already running on port $KAFKA_PORT"
    return 0
  fi
  "$ROOT/scripts/ensure-kafka.sh" >/dev/null
  say "starting Apache Kafka on 127.0.0.1:$KAFKA_PORT (KRaft, data in .dev/kafka)"
  KAFKA_PORT="$KAFKA_PORT" KAFKA_CONTROLLER_PORT="$KAFKA_CONTROLLER_PORT" \
    setsid "$ROOT/scripts/kafka-node.sh" "$DEV/kafka" </dev/null >>"$LOGS/kafka.log" 2>&1 &
  echo $! >"$PIDS/kafka.pid"
  # The listener opens once the broker is ready; `wirestream topics --wait`
  # then confirms it with a metadata request.
  wait_port "$KAFKA_PORT" 120 Kafka
}

stop_pid() { # stop_pid NAME [SECONDS]: SIGTERM, then SIGKILL after SECONDS (20)
  alive "$1" || { rm -f "$PIDS/$1.pid"; return 0; }
  local pid i
  pid="$(cat "$PIDS/$1.pid")"
  say "stopping $1 (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < ${2:-20} * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDS/$1.pid"
}

# --- the wirestream services (started by `make demo`) -------------------------

services_down() {
  local s
  for s in ingest worker sink; do stop_pid "$s"; done
}

# --- commands -----------------------------------------------------------------

cmd_up() {
  mkdir -p "$DEV" "$PIDS" "$LOGS"
  chmod 755 "$DEV"
  pg_up
  kafka_up
  export WIRESTREAM_DATABASE__URL="$DATABASE_URL" WIRESTREAM_KAFKA__BROKERS="$KAFKA_BROKERS" \
         WIRESTREAM_KAFKA__PARTITIONS="$PARTITIONS"
  local cli="${WIRESTREAM_CLI:-}"
  if [ -z "$cli" ]; then
    say "building the wirestream command"
    cargo build --quiet --manifest-path "$ROOT/Cargo.toml" -p wirestream-cli >&2
    cli="$ROOT/target/debug/wirestream"
  fi
  "$cli" topics --wait 60s >&2
  "$cli" migrate >&2
  # A local Prometheus scraping the services, on by default (scripts/prometheus.sh; WIRESTREAM_PROMETHEUS=0: none).
  "$ROOT/scripts/prometheus.sh" up
  cmd_status
}

cmd_down() {
  "$ROOT/scripts/prometheus.sh" down
  services_down
  # A clean shutdown (SIGTERM) lets the broker skip log recovery on the
  # next start; SIGKILL only if it takes longer than a minute.
  stop_pid kafka 60
  pg_down
}

cmd_status() {
  echo "DATABASE_URL=$DATABASE_URL"
  echo "KAFKA_BROKERS=$KAFKA_BROKERS"
  echo "POSTGRES_RUNNING=$(alive postgres && echo yes || echo no)"
  echo "KAFKA_RUNNING=$(alive kafka && echo yes || echo no)"
  echo "INGEST_URL=http://127.0.0.1:18080"
  local s port
  for s in ingest worker sink; do
    case $s in ingest) port=18080 ;; worker) port=18081 ;; sink) port=18082 ;; esac
    echo "$(echo $s | tr a-z A-Z)_RUNNING=$(alive $s && echo yes || echo no)"
    echo "$(echo $s | tr a-z A-Z)_METRICS_URL=http://127.0.0.1:$port/metrics"
  done
  "$ROOT/scripts/prometheus.sh" status | grep '^PROMETHEUS_URL=' || true
  echo "LOGS=$LOGS"
  echo "PG_DATA=$(pg_data)"
}

# A settings change that needs a restart (make bench turns on commit timestamps).
cmd_pg_restart() {
  # -l as in pg_up: without it the restarted server logs to pg_ctl's stderr.
  as_pg "$(pg_bindir)/pg_ctl" -D "$(pg_data)" -l "$LOGS/postgres.log" restart -w -m fast >/dev/null
  # The new postmaster has a new pid: `status` and `down` look at this file.
  head -n 1 "$(pg_data)/postmaster.pid" >"$PIDS/postgres.pid"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  services-down) services_down ;;
  pg-restart) cmd_pg_restart ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
