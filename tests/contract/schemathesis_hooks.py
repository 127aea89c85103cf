"""Serializers for the media types of docs/openapi.yaml that schemathesis
does not know, loaded by tests/e2e/openapi.rs (SCHEMATHESIS_HOOKS).

schemathesis generates a value from the request body's schema and needs a
serializer to put it on the wire: JSON, XML and text/* it has; NDJSON and
the wire formats' application/x-* types are ours.
"""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    # The schema describes the lines as an array of objects: one line each.
    if isinstance(value, list):
        return "".join(json.dumps(line) + "\n" for line in value).encode()
    return as_bytes(value)


@schemathesis.serializer("application/x-anpa-1312", "application/x-iptc-7901")
def wire(ctx, value):
    return as_bytes(value)


def as_bytes(value):
    """A generated value that is not what the schema says (negative tests)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value).encode()
