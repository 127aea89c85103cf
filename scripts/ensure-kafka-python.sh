#!/usr/bin/env bash
# A Python virtualenv with kafka-python (and lz4, for our compressed
# batches), cached once per machine: the contract test reads our topics with
# a Kafka client we did not write (tests/contract/check_topics.py). Prints
# the venv's python on stdout's last line.
set -euo pipefail

KAFKA_PYTHON_VERSION="${KAFKA_PYTHON_VERSION:-3.0.12}"
LZ4_VERSION="${LZ4_VERSION:-4.4.5}"
VENV="$("$(dirname "${BASH_SOURCE[0]}")/ensure-venv.sh" "kafka-python-$KAFKA_PYTHON_VERSION" \
  "kafka-python==$KAFKA_PYTHON_VERSION" "lz4==$LZ4_VERSION" | tail -n 1)"
echo "$VENV/bin/python"
