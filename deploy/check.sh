#!/usr/bin/env bash
# Checks of deploy/ without a Docker engine or a cluster, run by `make test`:
#   - promtool check config / check rules / test rules on deploy/prometheus
#   - the dashboard's PromQL, parsed by promtool as recording rules
#   - compose.yaml against the Compose Specification schema, the k8s
#     manifests and the Grafana provisioning (deploy/check.py)
# promtool comes from Debian's `prometheus` package (installed as root when
# missing); PyYAML and jsonschema from PyPI, into .dev/venv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPLOY="$ROOT/deploy"
VENV="$ROOT/.dev/venv"

PROMTOOL="$("$ROOT/scripts/prometheus.sh" promtool)"
"$PROMTOOL" check config "$DEPLOY/prometheus/prometheus.yml"
"$PROMTOOL" check config "$DEPLOY/prometheus/prometheus.compose.yml"
"$PROMTOOL" check rules "$DEPLOY/prometheus/rules/wirestream.rules.yml"
"$PROMTOOL" test rules "$DEPLOY/prometheus/rules/wirestream.rules.test.yml"

if ! "$VENV/bin/python" -c 'import jsonschema, yaml' 2>/dev/null; then
  echo "==> installing PyYAML and jsonschema into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'jsonschema>=4.18,<5' 'PyYAML>=6,<7'
fi
RULES="$(mktemp --suffix=.yml)"
trap 'rm -f "$RULES"' EXIT
"$VENV/bin/python" "$DEPLOY/check.py" --dashboard-rules "$RULES"
echo "dashboard queries:"
"$PROMTOOL" check rules "$RULES"
