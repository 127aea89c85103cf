#!/usr/bin/env bash
# Runs one Apache Kafka node in KRaft combined mode (broker and controller in
# one JVM) in the foreground: `exec`s java, so the caller's pid is the
# broker's, SIGTERM is a clean shutdown and SIGKILL a crash.
#
#   scripts/kafka-node.sh DIR
#
# DIR holds server.properties (rewritten on every start), the cluster id and
# the data (kept: a restart resumes where the node stopped). The local stack
# (scripts/stack.sh) and the test harness (tests/support/kafka.rs) both start
# their brokers with it. Settings, from the environment:
#
#   KAFKA_NODE_ID          1
#   KAFKA_PORT             19092   the PLAINTEXT listener, for clients
#   KAFKA_CONTROLLER_PORT  KAFKA_PORT + 1
#   KAFKA_VOTERS           NODE_ID@127.0.0.1:CONTROLLER_PORT (a cluster: every node's)
#   KAFKA_CLUSTER_ID       made once and kept in DIR (a cluster: the same on every node)
#   KAFKA_REPLICATION      1       replication of Kafka's internal topics
#   KAFKA_MAX_MESSAGE_BYTES 16777216, as wirestream's kafka.max_message_bytes
#   KAFKA_HEAP             512m
#   KAFKA_EXTRA_PROPERTIES lines appended to server.properties (they win)
#   KAFKA_SCRAM_USERS      SCRAM credentials stored when the data is formatted
#                          (first start only), one a line, in the storage
#                          tool's syntax: SCRAM-SHA-512=[name=NAME,password=PW]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:?usage: kafka-node.sh DIR}"
mkdir -p "$DIR/data"
DIR="$(cd "$DIR" && pwd)"

NODE_ID="${KAFKA_NODE_ID:-1}"
PORT="${KAFKA_PORT:-19092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
VOTERS="${KAFKA_VOTERS:-$NODE_ID@127.0.0.1:$CONTROLLER_PORT}"
REPLICATION="${KAFKA_REPLICATION:-1}"
MAX_MESSAGE_BYTES="${KAFKA_MAX_MESSAGE_BYTES:-16777216}"
HEAP="${KAFKA_HEAP:-512m}"
MIN_ISR=$((REPLICATION > 1 ? 2 : 1))

KAFKA_HOME="$("$ROOT/scripts/ensure-kafka.sh" | tail -n 1)"

if [ -n "${KAFKA_CLUSTER_ID:-}" ]; then
  echo "$KAFKA_CLUSTER_ID" >"$DIR/cluster-id"
elif [ ! -s "$DIR/cluster-id" ]; then
  # A cluster id is 16 random bytes in URL-safe base64 without padding. Like
  # Kafka's own, it never starts with '-', which the storage tool would take
  # for an option.
  id="-"
  while [ "${id#-}" != "$id" ]; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  done
  echo "$id" >"$DIR/cluster-id"
fi

# Sized for a small shared box, each figure measured (docs/benchmarks.md):
# a few threads, small internal topics, and no 128 MiB compaction buffer.
cat >"$DIR/server.properties" <<PROPS
# Written by scripts/kafka-node.sh on every start: change it there.
process.roles=broker,controller
node.id=$NODE_ID
controller.quorum.voters=$VOTERS
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DIR/data

num.network.threads=2
num.io.threads=2
background.threads=2
num.replica.fetchers=1
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=8388608

offsets.topic.num.partitions=4
offsets.topic.replication.factor=$REPLICATION
transaction.state.log.num.partitions=4
transaction.state.log.replication.factor=$REPLICATION
transaction.state.log.min.isr=$MIN_ISR
share.coordinator.state.topic.replication.factor=$REPLICATION
share.coordinator.state.topic.min.isr=$MIN_ISR
default.replication.factor=$REPLICATION
min.insync.replicas=$MIN_ISR

# A consumer group forms as soon as its first member joins: the default 3 s
# delay holds every start and every test.
group.initial.rebalance.delay.ms=0
# Topics are created by 'wirestream topics' with their own settings, never
# by a typo in a client.
auto.create.topics.enable=false

# As large as wirestream's largest record, and replicas fetch as much.
message.max.bytes=$MAX_MESSAGE_BYTES
replica.fetch.max.bytes=$MAX_MESSAGE_BYTES
socket.request.max.bytes=$((MAX_MESSAGE_BYTES * 4 + 1048576))
${KAFKA_EXTRA_PROPERTIES:-}
PROPS

cd "$DIR"
java_opts=(-Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
  -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.properties"
  -cp "$KAFKA_HOME/lib/*")
if [ ! -f "$DIR/data/meta.properties" ]; then
  # KRaft keeps SCRAM credentials in the metadata log: the format step writes
  # the first ones, so that a SASL listener can authenticate from the start.
  scram=()
  while IFS= read -r user; do
    [ -n "$user" ] && scram+=(--add-scram "$user")
  done <<<"${KAFKA_SCRAM_USERS:-}"
  java "${java_opts[@]}" kafka.tools.StorageTool format \
    --cluster-id "$(cat "$DIR/cluster-id")" --config "$DIR/server.properties" --ignore-formatted \
    "${scram[@]}"
fi
exec java "${java_opts[@]}" kafka.Kafka "$DIR/server.properties"
