#!/usr/bin/env bash
# Normalise + dedup throughput of `wirestream dedup` on the Reuters corpus,
# one core (taskset): one process deciding the corpus RUNS times, each pass
# from an empty index, as scripts/bench-datasketch.sh measures datasketch
# (a long-running worker works in memory it has touched before; a fresh
# process's first pass pays the kernel for every page). Prints each pass's
# figures and the process's peak RSS, then the best, median and worst pass,
# and last `dedup_items_per_s_per_core=<best>` for `make bench`. A pass's
# rate is items per second of the process's CPU time, the clock datasketch
# is read with (scripts/bench-datasketch.sh), so that other processes on
# core 0 slow neither side's figure. The machine is shared: the best pass
# is the least disturbed one.
#
# usage: bench.sh [RUNS] [CORPUS]
set -euo pipefail
runs=${1:-5}
corpus=${2:-../shared/corpus/reuters21578.ndjson}
bin=target/release/wirestream
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi
stats=$({ /usr/bin/time -f "wall_s=%e peak_rss_kb=%M" "${pin[@]}" "$bin" dedup --stats --passes "$runs" "$corpus" > /dev/null; } 2>&1)
echo "$stats"
sorted=$(echo "$stats" | sed -n 's/.*normalise_dedup_items_per_cpu_s=\([0-9]*\).*/\1/p' | sort -n)
best=$(echo "$sorted" | tail -1)
worst=$(echo "$sorted" | head -1)
median=$(echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p")
echo "runs=$runs best=$best median=$median worst=$worst load=$(cut -d' ' -f1-3 /proc/loadavg)"
echo "dedup_items_per_s_per_core=$best"
