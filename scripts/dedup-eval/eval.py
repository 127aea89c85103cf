#!/usr/bin/env python3
"""Builds a labelled near-duplicate set from Reuters-21578 and scores
`wirestream dedup` and datasketch's MinHashLSH on it (pairwise precision,
recall, F1). See docs/dedup.md.

usage: eval.py [--corpus PATH] [--wirestream BIN] [--out DIR] [--originals N]
"""
import argparse, collections, itertools, json, random, re, subprocess, sys, time, html

TEMPLATED = re.compile(r"QTR (NET|LOSS)|QTLY DIV|DIVIDEND|YEAR (NET|LOSS)|PAYOUT|\bNET\b|\bSHR\b|\bLOSS\b")


def body_of(item):
    return (item.get("bodies") or [{}])[0].get("value", "")


def headline_of(item):
    return (item.get("headlines") or [{}])[0].get("value", "")


def key(text):
    return " ".join(text.lower().split())


def paragraphs(body):
    # Reuters paragraphs start with an indented line.
    return [p for p in re.split(r"\n(?=    )", body) if p.strip()]


def item(uri, headline, body, contenttype="text/plain", base=None):
    out = {"uri": uri, "type": "text", "version": "1", "pubstatus": "usable",
           "headlines": [{"role": "main", "value": headline}],
           "bodies": [{"role": "main", "contenttype": contenttype, "value": body}]}
    if base and base.get("versioncreated"):
        out["versioncreated"] = base["versioncreated"]
    return out


def rewrap(body, width):
    out = []
    for p in paragraphs(body):
        words, line, lines = p.split(), "", []
        for w in words:
            if line and len(line) + 1 + len(w) > width:
                lines.append(line)
                line = w
            else:
                line = f"{line} {w}" if line else w
        lines.append(line)
        out.append("    " + "\n".join(lines))
    return "\n".join(out)


def as_html(body):
    return "".join(f"<p>{html.escape(' '.join(p.split()))}</p>\n" for p in paragraphs(body))


def change_figure(body, rng):
    numbers = [m for m in re.finditer(r"\d+(\.\d+)?", body)]
    if not numbers:
        return None
    m = rng.choice(numbers)
    digits = m.group(0)
    new = str(int(digits.split(".")[0]) + 1) + (("." + m.group(1)[1:]) if m.group(1) else "")
    return body[:m.start()] + new + body[m.end():]


def build(corpus, n_originals, seed=4):
    rng = random.Random(seed)
    items = [json.loads(l) for l in open(corpus) if l.strip()]
    groups = collections.defaultdict(list)
    for it in items:
        if body_of(it).strip():
            groups[key(body_of(it))].append(it)
    natural = [g for g in groups.values() if len(g) > 1]
    in_natural = {it["uri"] for g in natural for it in g}
    templated = [it for it in items if TEMPLATED.search(headline_of(it)) and it["uri"] not in in_natural and body_of(it).strip()]
    eligible = [it for it in items if it["uri"] not in in_natural and not TEMPLATED.search(headline_of(it))
                and len(paragraphs(body_of(it))) >= 3 and len(body_of(it).split()) >= 60]
    originals = rng.sample(eligible, n_originals)
    fillers = [it for it in eligible if it not in originals]

    out, label = [], {}
    def add(it, group):
        out.append(it)
        label[it["uri"]] = group
    for g in natural:
        for it in g:
            add(it, "natural:" + g[0]["uri"])
    for it in rng.sample(templated, min(2000, len(templated))):
        add(it, "single:" + it["uri"])
    kinds = ["refile", "update", "correction", "first_take", "rewrap", "html"]
    variants = []
    for n, orig in enumerate(originals):
        kind = kinds[n % len(kinds)]
        group = f"{kind}:{orig['uri']}"
        h, b = headline_of(orig), body_of(orig)
        uri = f"urn:eval:{n}"
        if kind == "refile":
            v = item(uri, "REFILE-" + h, b, base=orig)
        elif kind == "update":
            extra = paragraphs(body_of(rng.choice(fillers)))[-1]
            ps = paragraphs(b)
            v = item(uri, "UPDATE 1-" + h, "\n".join(ps + [extra]), base=orig)
        elif kind == "correction":
            changed = change_figure(b, rng)
            if changed is None:
                changed = b.replace(" the ", " a ", 1)
            v = item(uri, "CORRECTED-" + h, changed, base=orig)
        elif kind == "first_take":
            ps = paragraphs(b)
            v = item(uri, h, "\n".join(ps[: rng.choice([1, 2])]), base=orig)
        elif kind == "rewrap":
            v = item(uri, h, rewrap(b, rng.choice([45, 55, 90])), base=orig)
        else:
            v = item(uri, h, as_html(b), "text/html", base=orig)
        add(orig, group)
        variants.append((kind, orig, v, group))
    for it in rng.sample(fillers, 1500):
        add(it, "single:" + it["uri"])
    # A first take comes before its full story; other variants after.
    for kind, orig, v, group in variants:
        label[v["uri"]] = group
        if kind == "first_take":
            out.insert(out.index(orig), v)
        else:
            out.append(v)
    return out, label


def pairs(clusters):
    s = set()
    for members in clusters.values():
        for a, b in itertools.combinations(sorted(members), 2):
            s.add((a, b))
    return s


def score(name, predicted, label, seconds, n, natural_pairs):
    truth = collections.defaultdict(list)
    for uri, g in label.items():
        truth[g].append(uri)
    true_pairs = pairs(truth)
    pred_pairs = pairs(predicted)
    tp = len(true_pairs & pred_pairs)
    p = tp / len(pred_pairs) if pred_pairs else 1.0
    r = tp / len(true_pairs) if true_pairs else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    nat = len(natural_pairs & pred_pairs) / len(natural_pairs)
    per_kind = {}
    for kind in ["natural", "refile", "update", "correction", "first_take", "rewrap", "html"]:
        kp = pairs({g: m for g, m in truth.items() if g.startswith(kind + ":")})
        per_kind[kind] = round(len(kp & pred_pairs) / len(kp), 4) if kp else None
    return {"system": name, "items": n, "precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "true_pairs": len(true_pairs), "predicted_pairs": len(pred_pairs), "true_positives": tp,
            "natural_resend_recall": round(nat, 4), "recall_by_kind": per_kind,
            "seconds": round(seconds, 2), "items_per_s": round(n / seconds)}, sorted(pred_pairs - true_pairs)


def run_wirestream(binary, path):
    start = time.time()
    out = subprocess.run([binary, "dedup", path], check=True, capture_output=True, text=True).stdout
    seconds = time.time() - start
    clusters = collections.defaultdict(list)
    for line in out.splitlines():
        d = json.loads(line)
        if d["verdict"] == "dead_letter":
            continue
        clusters[d["duplicate_of"] or d["uri"]].append(d["uri"])
    return clusters, seconds


def run_datasketch(items):
    from datasketch import MinHash, MinHashLSH
    start = time.time()
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    story = {}
    clusters = collections.defaultdict(list)
    for it in items:
        words = body_of(it).lower().split() or headline_of(it).lower().split()
        grams = {" ".join(words[i:i + 5]) for i in range(max(1, len(words) - 4))}
        m = MinHash(num_perm=128)
        for g in grams:
            m.update(g.encode())
        found = lsh.query(m)
        s = story[min(found, key=order.get)] if found else it["uri"]
        story[it["uri"]] = s
        clusters[s].append(it["uri"])
        if it["uri"] not in lsh.keys.keys() if hasattr(lsh, "keys") else True:
            try:
                lsh.insert(it["uri"], m)
            except ValueError:
                pass
    return clusters, time.time() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="../shared/corpus/reuters21578.ndjson")
    ap.add_argument("--wirestream", default="target/release/wirestream")
    ap.add_argument("--out", default="target/dedup-eval")
    ap.add_argument("--originals", type=int, default=1200)
    args = ap.parse_args()
    import os
    os.makedirs(args.out, exist_ok=True)
    items, label = build(args.corpus, args.originals)
    global order
    order = {it["uri"]: n for n, it in enumerate(items)}
    path = os.path.join(args.out, "eval.ndjson")
    with open(path, "w") as f:
        for it in items:
            f.write(json.dumps(it) + "\n")
    with open(os.path.join(args.out, "labels.json"), "w") as f:
        json.dump(label, f)
    natural = collections.defaultdict(list)
    for uri, g in label.items():
        if g.startswith("natural:"):
            natural[g].append(uri)
    natural_pairs = pairs(natural)
    results = []
    ws, sec = run_wirestream(args.wirestream, path)
    r, fp = score("wirestream dedup", ws, label, sec, len(items), natural_pairs)
    results.append(r)
    with open(os.path.join(args.out, "wirestream-false-pairs.txt"), "w") as f:
        for a, b in fp:
            f.write(f"{a}\t{b}\n")
    ds, sec = run_datasketch(items)
    r, _ = score("datasketch MinHashLSH (128 perm, word 5-grams, threshold 0.5)", ds, label, sec, len(items), natural_pairs)
    results.append(r)
    print(f"eval set: {len(items)} items, {len(natural)} natural re-send groups, written to {path}")
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
