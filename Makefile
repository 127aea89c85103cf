# wirestream — the two commands that matter are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help up down status demo test test-unit test-e2e build lint fmt

help:
	@echo "make demo    set up the local stack, run the pipeline on the sample corpus"
	@echo "make test    set up the local stack, run the unit and end-to-end tests"
	@echo "make up | down | status    the local stack (PostgreSQL, tansu)"

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

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

.PHONY: bench-dedup dedup-eval

# Normalise + dedup throughput of `wirestream dedup` on the Reuters corpus
# (release build, one thread), with peak RSS. See docs/dedup.md.
bench-dedup:
	@cargo build --release -q -p wirestream-cli
	@/usr/bin/time -f "wall_s=%e peak_rss_kb=%M" target/release/wirestream dedup --stats ../shared/corpus/reuters21578.ndjson > /dev/null
	@echo "whole process: 18000 items / wall_s above"

# Builds the labelled set and scores wirestream and datasketch (pip install datasketch).
dedup-eval:
	@cargo build --release -q -p wirestream-cli
	@python3 scripts/dedup-eval/eval.py

.PHONY: bench-sink
# Sink rows/s (UNNEST and COPY-staging) against `psql \copy` of the same rows
# into the same table, on the Reuters corpus. Needs the local stack (make up).
bench-sink:
	@cargo build --release -q -p wirestream-bench
	@eval "$$(scripts/stack.sh status | grep '^DATABASE_URL=')" && \
	  DATABASE_URL="$$DATABASE_URL" target/release/wirestream-bench sink --corpus ../shared/corpus/reuters21578.ndjson
