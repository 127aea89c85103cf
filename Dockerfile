# syntax=docker/dockerfile:1
# wirestream: the four binaries (wirestream, wirestream-ingest,
# wirestream-worker, wirestream-sink) in one small image. Pick the program with
# the container's command, e.g. `docker run IMAGE wirestream-worker`.
#
#   docker build -t wirestream .

# --- build -------------------------------------------------------------------
FROM rust:1-bookworm AS build
# rdkafka builds its bundled librdkafka (2.x; Debian's 1.9/2.0 is too old for
# the broker features wirestream uses): it needs a C/C++ toolchain, cmake,
# make, perl for its configure script, and zlib; OpenSSL's headers for SSL,
# SASL SCRAM and PostgreSQL over TLS.
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake g++ make perl pkg-config zlib1g-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Manifests first, with stub sources, so that the dependencies build in a
# layer of their own, reused while only wirestream's code changes.
COPY Cargo.toml Cargo.lock ./
COPY crates crates
COPY services services
COPY tests tests
# sqlx embeds migrations/ at compile time.
COPY migrations migrations
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bins \
 && mkdir -p /out \
 && cp target/release/wirestream target/release/wirestream-ingest \
       target/release/wirestream-worker target/release/wirestream-sink /out/

# --- runtime -----------------------------------------------------------------
FROM debian:bookworm-slim
# ca-certificates and OpenSSL for TLS to managed brokers and databases; zlib
# for librdkafka.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 wirestream \
 && useradd --system --uid 10001 --gid wirestream --home-dir /nonexistent --shell /usr/sbin/nologin wirestream
COPY --from=build /out/ /usr/local/bin/
USER 10001:10001
# The services read WIRESTREAM_<SECTION>__<KEY> variables; in a container
# they must listen on every interface, not the loopback default.
ENV WIRESTREAM_INGEST__LISTEN=0.0.0.0:18080 \
    WIRESTREAM_WORKER__LISTEN=0.0.0.0:18081 \
    WIRESTREAM_SINK__LISTEN=0.0.0.0:18082 \
    WIRESTREAM_LOG__FORMAT=json
EXPOSE 18080 18081 18082
CMD ["wirestream", "--help"]
