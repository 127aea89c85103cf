#!/usr/bin/env bash
# A Python virtualenv with datasketch (PyPI), cached once per machine: the
# peer that `make bench` (scripts/bench-datasketch.sh) and `make dedup-eval`
# (scripts/dedup-eval/eval.py) measure our dedup against. Pinned, so that
# two runs compare against the same peer. numpy and scipy are pinned too:
# datasketch hashes with numpy, and left free they were whatever PyPI
# served the day the venv was made (with numpy 1.26.4 it ran 6-12% slower
# than with 2.4.6; docs/benchmarks.md, the whole run of 2026-12-03).
# Prints the venv's `python` on stdout's last line.
set -euo pipefail

DATASKETCH_VERSION="${DATASKETCH_VERSION:-2.0.0}"
NUMPY_VERSION=2.4.6
SCIPY_VERSION=1.17.1
VENV="$("$(dirname "${BASH_SOURCE[0]}")/ensure-venv.sh" \
  "datasketch-$DATASKETCH_VERSION-numpy-$NUMPY_VERSION-scipy-$SCIPY_VERSION" \
  "datasketch==$DATASKETCH_VERSION" "numpy==$NUMPY_VERSION" "scipy==$SCIPY_VERSION" | tail -n 1)"
echo "$VENV/bin/python"
