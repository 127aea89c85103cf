#!/usr/bin/env bash
# `make test`: brings up the local stack, then runs the unit tests and the
# end-to-end tests against the real broker and the real PostgreSQL.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

echo "==> building"
cargo build --workspace --bins --tests
WIRESTREAM_CLI="$ROOT/target/debug/wirestream" scripts/stack.sh up >/dev/null
eval "$(scripts/stack.sh status | grep -E '^(DATABASE_URL|KAFKA_BROKERS)=')"
# sqlx::test creates a throw-away database per test from this server.
export DATABASE_URL KAFKA_BROKERS
export WIRESTREAM_TEST_DATABASE_URL="$DATABASE_URL" WIRESTREAM_TEST_KAFKA_BROKERS="$KAFKA_BROKERS"
export WIRESTREAM_SHARED="${WIRESTREAM_SHARED:-$ROOT/../shared}"

echo "==> deployment checks (promtool, compose schema, k8s, dashboard)"
deploy/check.sh

echo "==> unit and database tests"
status=0
cargo test --workspace --exclude wirestream-tests --no-fail-fast || status=$?

# The end-to-end tests each start real services against the one local broker;
# run one at a time so that two tests' consumer groups do not compete for two
# cores and the broker's attention.
echo "==> end-to-end tests"
cargo test -p wirestream-tests --no-fail-fast -- --test-threads=1 || status=$?
exit "$status"
