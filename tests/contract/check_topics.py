"""Reads wirestream's articles and dead-letter topics with kafka-python, a
client we did not write, and checks every record against the published
contracts (docs/article.md, docs/raw-topic.md). Our topics are public
interfaces: another ecosystem's consumer must be able to read them.

Prints one JSON summary line and exits 0 when every record conforms, 1 when
one does not (the summary lists what and where), 2 when the expected counts
did not arrive within the timeout.
"""

import argparse
import collections
import datetime
import json
import re
import sys
import time

from kafka import KafkaConsumer, TopicPartition

VERDICTS = {"new", "version", "duplicate", "kill"}
PUBSTATUS = {"usable", "withheld", "canceled"}
FORMATS = {"ninjs", "newsml-g2", "newsml1", "nitf", "rss", "atom", "text", "json-feed", "anpa-1312", "iptc-7901"}
STAGES = {"ingest", "worker", "sink"}
HEX64 = re.compile(r"^[0-9a-f]{64}$")
REASON = re.compile(r"^[a-z][a-z0-9_]*$")


def timestamp(value):
    """RFC 3339, as chrono writes it (Z or an offset, optional fraction)."""
    if not isinstance(value, str):
        return False
    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def check_original(value, problems):
    if not isinstance(value, dict) or value.get("encoding") not in ("utf8", "base64"):
        problems.append("original is not {encoding: utf8|base64, data}")
    elif not isinstance(value.get("data"), str):
        problems.append("original.data is not a string")


def check_article(key, headers, value):
    problems = []
    required = {
        "schema": int, "provider": str, "uri": str, "version": int, "pubstatus": str,
        "verdict": str, "headline": str, "body": str, "word_count": int,
        "content_hash": str, "format": str, "source": str,
    }
    for field, kind in required.items():
        if not isinstance(value.get(field), kind) or isinstance(value.get(field), bool):
            problems.append(f"{field} missing or not {kind.__name__}")
    if problems:
        return problems
    if value["schema"] != 1:
        problems.append(f"schema {value['schema']} is not 1")
    if value["verdict"] not in VERDICTS:
        problems.append(f"verdict {value['verdict']!r}")
    if value["pubstatus"] not in PUBSTATUS:
        problems.append(f"pubstatus {value['pubstatus']!r}")
    if value["format"] not in FORMATS:
        problems.append(f"format {value['format']!r}")
    if value["version"] < 1 or value["word_count"] < 0:
        problems.append("version below 1 or a negative word count")
    if not HEX64.match(value["content_hash"]):
        problems.append("content_hash is not 64 hex digits")
    if value["verdict"] == "duplicate":
        if not isinstance(value.get("duplicate_of"), str):
            problems.append("a duplicate without duplicate_of")
        if not isinstance(value.get("similarity"), (int, float)) or not 0 < value["similarity"] <= 1:
            problems.append("a duplicate without a similarity in (0, 1]")
    for field in ("received_at", "processed_at"):
        if not timestamp(value.get(field)):
            problems.append(f"{field} is not RFC 3339")
    for field in ("versioncreated", "firstcreated", "embargoed"):
        if field in value and not timestamp(value[field]):
            problems.append(f"{field} is not RFC 3339")
    for field in ("subjects", "places"):
        for entry in value.get(field, []):
            if not isinstance(entry, dict) or not (entry.get("code") or entry.get("name")):
                problems.append(f"{field} entry {entry!r} has neither code nor name")
    for field in ("tickers", "tags", "warnings"):
        if not all(isinstance(x, str) for x in value.get(field, [])):
            problems.append(f"{field} is not a list of strings")
    if "language" in value and not re.match(r"^[a-z]{2,3}$", value["language"] or ""):
        problems.append(f"language {value['language']!r} is not ISO 639")
    check_original(value.get("original"), problems)
    if key != f"{value['provider']}\x1f{value['uri']}":
        problems.append("the key is not provider U+001F uri")
    if headers and headers.get("wirestream-schema") != "article/1":
        problems.append(f"wirestream-schema header {headers.get('wirestream-schema')!r}")
    return problems


def check_dead_letter(headers, value):
    problems = []
    for field in ("stage", "reason", "detail"):
        if not isinstance(value.get(field), str):
            problems.append(f"{field} missing or not a string")
    if problems:
        return problems
    if value.get("schema") != 1:
        problems.append(f"schema {value.get('schema')!r} is not 1")
    if value["stage"] not in STAGES:
        problems.append(f"stage {value['stage']!r}")
    if not REASON.match(value["reason"]):
        problems.append(f"reason {value['reason']!r} is not a snake_case code")
    if not timestamp(value.get("failed_at")):
        problems.append("failed_at is not RFC 3339")
    check_original(value.get("original"), problems)
    if headers and not (headers.get("wirestream-schema") or "").startswith("dead-letter/"):
        problems.append(f"wirestream-schema header {headers.get('wirestream-schema')!r}")
    return problems


def read(brokers, topic, expected, deadline):
    consumer = KafkaConsumer(
        bootstrap_servers=brokers.split(","),
        enable_auto_commit=False,
        max_partition_fetch_bytes=16 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
        consumer_timeout_ms=1000,
    )
    partitions = consumer.partitions_for_topic(topic) or set()
    assignment = [TopicPartition(topic, p) for p in sorted(partitions)]
    consumer.assign(assignment)
    consumer.seek_to_beginning(*assignment)
    records = []
    while len(records) < expected and time.monotonic() < deadline:
        for message in consumer:
            records.append(message)
            if len(records) >= expected:
                break
    consumer.close()
    return records


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--articles", required=True, help="the articles topic")
    parser.add_argument("--dead-letters", required=True, help="the dead-letter topic")
    parser.add_argument("--expect-articles", type=int, required=True)
    parser.add_argument("--expect-dead-letters", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout

    summary = {"articles": 0, "dead_letters": 0, "verdicts": collections.Counter(),
               "reasons": collections.Counter(), "problems": []}
    for topic, expected, kind in ((args.articles, args.expect_articles, "article"),
                                  (args.dead_letters, args.expect_dead_letters, "dead_letter")):
        for message in read(args.brokers, topic, expected, deadline):
            where = f"{topic}/{message.partition}/{message.offset}"
            headers = {k: (v or b"").decode("utf-8", "replace") for k, v in (message.headers or [])}
            key = (message.key or b"").decode("utf-8", "replace")
            try:
                value = json.loads(message.value)
            except (TypeError, ValueError) as error:
                summary["problems"].append(f"{where}: not JSON: {error}")
                continue
            if not isinstance(value, dict):
                summary["problems"].append(f"{where}: not a JSON object")
                continue
            if kind == "article":
                summary["articles"] += 1
                summary["verdicts"][value.get("verdict")] += 1
                problems = check_article(key, headers, value)
            else:
                summary["dead_letters"] += 1
                summary["reasons"][f"{value.get('stage')}/{value.get('reason')}"] += 1
                problems = check_dead_letter(headers, value)
            summary["problems"].extend(f"{where}: {p}" for p in problems)

    print(json.dumps(summary, sort_keys=True))
    if summary["problems"]:
        return 1
    if summary["articles"] < args.expect_articles or summary["dead_letters"] < args.expect_dead_letters:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
