#!/usr/bin/env bash
# datasketch's MinHashLSH (PyPI; 128 permutations, word 5-grams, default
# threshold) over the same corpus, one core, for the side-by-side in
# `make bench`. datasketch comes from scripts/ensure-datasketch.sh (pinned,
# installed once per machine).
#
# usage: bench-datasketch.sh CORPUS [RUNS]
#
# Measured as `make bench-dedup` measures ours, so that the ratio compares
# like with like: on core 0 (taskset), RUNS timed passes (default 5), the
# best one reported (the least disturbed on a shared machine), both read
# with the process's CPU time (here `time.process_time`, ours
# `CLOCK_PROCESS_CPUTIME_ID`, the same clock). Prints each pass's rate,
# then datasketch_items_per_s=<best>.
set -euo pipefail
PYTHON="$("$(dirname "${BASH_SOURCE[0]}")/ensure-datasketch.sh" | tail -n 1)"
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi
"${pin[@]}" "$PYTHON" - "$1" "${2:-5}" <<'PY'
import json, re, sys, time
from datasketch import MinHash, MinHashLSH

items = []
for line in open(sys.argv[1], encoding="utf-8"):
    item = json.loads(line)
    text = " ".join(h.get("value", "") for h in item.get("headlines", []))
    text += " " + " ".join(b.get("value", "") for b in item.get("bodies", []))
    items.append((item["uri"], text))

# The clock covers what wirestream's figure covers: turning text into a
# signature, the LSH query, and the insert, item by item. Each pass starts
# from an empty index.
def one_pass():
    start = time.process_time()
    lsh = MinHashLSH(num_perm=128)
    for uri, text in items:
        words = re.findall(r"\w+", text.lower())
        shingles = {" ".join(words[i:i + 5]) for i in range(max(1, len(words) - 4))}
        m = MinHash(num_perm=128)
        m.update_batch(s.encode("utf-8") for s in shingles)
        lsh.query(m)
        lsh.insert(uri, m)
    return len(items) / (time.process_time() - start)

rates = [one_pass() for _ in range(int(sys.argv[2]))]
print("datasketch passes (items/s): " + " ".join(f"{r:.0f}" for r in rates))
print(f"datasketch_items_per_s={max(rates):.0f}")
PY
