#!/usr/bin/env bash
# A Python virtualenv with schemathesis, cached once per machine: the
# OpenAPI check (tests/e2e/openapi.rs) sends it generated requests against
# a running ingest, with docs/openapi.yaml as the description to hold the
# answers to. Prints the venv's `schemathesis` on stdout's last line.
set -euo pipefail

SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
VENV="$("$(dirname "${BASH_SOURCE[0]}")/ensure-venv.sh" "schemathesis-$SCHEMATHESIS_VERSION" \
  "schemathesis==$SCHEMATHESIS_VERSION" | tail -n 1)"
echo "$VENV/bin/schemathesis"
