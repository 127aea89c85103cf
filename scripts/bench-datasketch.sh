#!/usr/bin/env bash
# datasketch's MinHashLSH (PyPI; 128 permutations, word 5-grams, default
# threshold) over the same corpus, one core, for the side-by-side in
# `make bench`. Prints datasketch_items_per_s=<n>. datasketch comes from
# scripts/ensure-datasketch.sh (pinned, installed once per machine).
set -euo pipefail
PYTHON="$("$(dirname "${BASH_SOURCE[0]}")/ensure-datasketch.sh" | tail -n 1)"
"$PYTHON" - "$1" <<'PY'
import json, re, sys, time
from datasketch import MinHash, MinHashLSH

items = []
for line in open(sys.argv[1], encoding="utf-8"):
    item = json.loads(line)
    text = " ".join(h.get("value", "") for h in item.get("headlines", []))
    text += " " + " ".join(b.get("value", "") for b in item.get("bodies", []))
    items.append((item["uri"], text))

# The clock covers what wirestream's figure covers: turning text into a
# signature, the LSH query, and the insert, item by item.
start = time.process_time()
lsh = MinHashLSH(num_perm=128)
for uri, text in items:
    words = re.findall(r"\w+", text.lower())
    shingles = {" ".join(words[i:i + 5]) for i in range(max(1, len(words) - 4))}
    m = MinHash(num_perm=128)
    m.update_batch(s.encode("utf-8") for s in shingles)
    lsh.query(m)
    lsh.insert(uri, m)
seconds = time.process_time() - start
print(f"datasketch_items_per_s={len(items) / seconds:.0f}")
PY
