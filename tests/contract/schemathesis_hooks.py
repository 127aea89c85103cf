"""Serializers for the media types of docs/openapi.yaml that schemathesis
does not know, loaded by tests/e2e/openapi.rs (SCHEMATHESIS_HOOKS).

schemathesis generates a value from the request body's schema and needs a
serializer to put it on the wire: JSON, XML and text/* it has; NDJSON and
the wire formats' application/x-* types are ours. They also compress the
body when the case says `Content-Encoding: gzip`, so that generated batches
reach the parser through the decompressor too; `x-gzip` cases stay
uncompressed and get the `400 invalid_encoding` answer.
"""

import gzip
import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    # The schema describes the lines as an array of objects: one line each.
    if isinstance(value, list):
        return encoded(ctx, "".join(json.dumps(line) + "\n" for line in value).encode())
    return encoded(ctx, as_bytes(value))


@schemathesis.serializer("application/x-anpa-1312", "application/x-iptc-7901")
def wire(ctx, value):
    return encoded(ctx, as_bytes(value))


def encoded(ctx, data):
    headers = ctx.case.headers or {}
    coding = next((v for k, v in headers.items() if k.lower() == "content-encoding"), None)
    return gzip.compress(data) if coding == "gzip" else data


def as_bytes(value):
    """A generated value that is not what the schema says (negative tests)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value).encode()
