#!/usr/bin/env bash
# Installs Debian packages whose command is missing, as root (one apt-get
# update first); without root, names what to install and fails.
#
#   scripts/ensure-debian.sh COMMAND[:PACKAGE] ...
#   e.g. scripts/ensure-debian.sh tmux aha chromium
# A COMMAND that starts with / is a file the package ships (a header, say).
set -euo pipefail

missing=()
for spec in "$@"; do
  command="${spec%%:*}"
  package="${spec#*:}"
  if [[ "$command" == /* ]]; then
    [ -e "$command" ] || missing+=("$package")
  else
    command -v "$command" >/dev/null 2>&1 || missing+=("$package")
  fi
done
[ "${#missing[@]}" = 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "error: missing: ${missing[*]} (install Debian's packages: apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "==> installing from Debian's packages: ${missing[*]}" >&2
apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
