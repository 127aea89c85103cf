#!/usr/bin/env bash
# A Python virtualenv with datasketch (PyPI), cached once per machine: the
# peer that `make bench` (scripts/bench-datasketch.sh) and `make dedup-eval`
# (scripts/dedup-eval/eval.py) measure our dedup against. Pinned, so that
# two runs compare against the same peer. Prints the venv's `python` on
# stdout's last line.
set -euo pipefail

DATASKETCH_VERSION="${DATASKETCH_VERSION:-2.0.0}"
VENV="$("$(dirname "${BASH_SOURCE[0]}")/ensure-venv.sh" "datasketch-$DATASKETCH_VERSION" \
  "datasketch==$DATASKETCH_VERSION" | tail -n 1)"
echo "$VENV/bin/python"
