#!/usr/bin/env bash
# What `cargo build` needs beyond the Rust toolchain: a C toolchain and cmake
# for the bundled librdkafka, and OpenSSL's headers, which librdkafka (SSL,
# SASL SCRAM) and sqlx (PostgreSQL over TLS) link. Installed as root.
set -euo pipefail
command -v cargo >/dev/null || { echo "error: cargo is missing: install the Rust toolchain (https://rustup.rs)" >&2; exit 1; }
exec "$(dirname "${BASH_SOURCE[0]}")/ensure-debian.sh" cc:gcc c++:g++ make cmake pkg-config perl \
  /usr/include/openssl/ssl.h:libssl-dev /usr/include/zlib.h:zlib1g-dev
