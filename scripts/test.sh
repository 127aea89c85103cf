#!/usr/bin/env bash
# `make test`: brings up the local stack, then runs the unit tests and the
# end-to-end tests against the real broker and the real PostgreSQL.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

echo "==> building"
scripts/ensure-build-deps.sh
cargo build --workspace --bins --tests
WIRESTREAM_CLI="$ROOT/target/debug/wirestream" scripts/stack.sh up >/dev/null
eval "$(scripts/stack.sh status | grep -E '^(DATABASE_URL|KAFKA_BROKERS)=')"
# sqlx::test creates a throw-away database per test from this server.
export DATABASE_URL KAFKA_BROKERS
export WIRESTREAM_TEST_DATABASE_URL="$DATABASE_URL" WIRESTREAM_TEST_KAFKA_BROKERS="$KAFKA_BROKERS"
export WIRESTREAM_SHARED="${WIRESTREAM_SHARED:-$ROOT/../shared}"
# The contract test reads our topics with kafka-python (tests/contract/).
WIRESTREAM_CONTRACT_PYTHON="$(scripts/ensure-kafka-python.sh | tail -n 1)"
export WIRESTREAM_CONTRACT_PYTHON
# The OpenAPI check holds the running ingest to docs/openapi.yaml (tests/e2e/openapi.rs).
WIRESTREAM_SCHEMATHESIS="$(scripts/ensure-schemathesis.sh | tail -n 1)"
export WIRESTREAM_SCHEMATHESIS

echo "==> deployment checks (promtool, compose schema, k8s, dashboard)"
deploy/check.sh

# Every cargo test run is also written here, for the summary at the end.
RESULTS="$ROOT/.dev/test-results.log"
: >"$RESULTS"

echo "==> unit and database tests"
status=0
cargo test --workspace --exclude wirestream-tests --no-fail-fast 2>&1 | tee -a "$RESULTS" || status=$?

# Every parser and the normaliser under libFuzzer, briefly (scripts/fuzz.sh):
# a crash, a hang or a memory blow-up fails the run.
FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
export FUZZ_SECONDS
echo "==> fuzzing ($FUZZ_SECONDS s per target)"
scripts/fuzz.sh || status=$?

# The end-to-end tests each start real services against the one local broker
# (the fault tests start private brokers and clusters of their own); run one
# at a time so that two tests do not compete for two cores.
echo "==> end-to-end tests"
scripts/ensure-debian.sh tmux # tests/e2e/top.rs draws `wirestream top` in tmux
cargo test -p wirestream-tests --no-fail-fast -- --test-threads=1 2>&1 | tee -a "$RESULTS" || status=$?

# One line with the totals of every runner above.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$RESULTS"
exit "$status"
