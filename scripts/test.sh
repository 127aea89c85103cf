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

echo "==> unit and end-to-end tests"
cargo test --workspace --no-fail-fast
