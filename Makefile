# wirestream — the two commands that matter are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help up down status demo test test-unit test-e2e build lint fmt fuzz

help:
	@echo "make demo    set up the local stack, run the pipeline on the sample corpus"
	@echo "make test    set up the local stack, run the unit and end-to-end tests"
	@echo "make up | down | status    the local stack (PostgreSQL, Apache Kafka)"
	@echo "make bench   the performance harness: prints figures, updates docs/benchmarks.md"
	@echo "make fuzz    every parser and the normaliser under cargo fuzz (FUZZ_SECONDS each, default 30)"

up:
	@scripts/stack.sh up

down:
	@scripts/stack.sh down

status:
	@scripts/stack.sh status

demo:
	@scripts/demo.sh

test:
	@scripts/test.sh

build:
	cargo build --workspace --bins

# cargo-fuzz on the stable toolchain (RUSTC_BOOTSTRAP=1); see scripts/fuzz.sh.
fuzz:
	@scripts/fuzz.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	@command -v cargo-machete >/dev/null || cargo install cargo-machete --locked
	cargo machete

fmt:
	cargo fmt --all

.PHONY: bench-dedup dedup-eval

# Normalise + dedup throughput of `wirestream dedup` on the Reuters corpus
# (release build, pinned to one core, RUNS runs), with peak RSS; the last
# line is `dedup_items_per_s_per_core=<best>`. See docs/dedup.md.
RUNS ?= 5
bench-dedup:
	@cargo build --release -q -p wirestream-cli
	@scripts/dedup-eval/bench.sh $(RUNS)

# Builds the labelled set and scores wirestream and datasketch (pinned, in a
# venv of its own: scripts/ensure-datasketch.sh).
dedup-eval:
	@cargo build --release -q -p wirestream-cli
	@"$$(scripts/ensure-datasketch.sh | tail -n 1)" scripts/dedup-eval/eval.py

.PHONY: bench
# The whole pipeline's figures (end to end, latency, ceilings, side by side);
# see scripts/bench.sh for the steps and its BENCH_* settings.
bench:
	@scripts/bench.sh

.PHONY: bench-sink
# Sink rows/s (UNNEST and COPY-staging) against `psql \copy` of the same rows
# into the same table, on the Reuters corpus. Needs the local stack (make up).
bench-sink:
	@cargo build --release -q -p wirestream-bench
	@eval "$$(scripts/stack.sh status | grep '^DATABASE_URL=')" && \
	  DATABASE_URL="$$DATABASE_URL" target/release/wirestream-bench sink --corpus ../shared/corpus/reuters21578.ndjson
