#!/usr/bin/env python3
"""Builds a labelled near-duplicate set from Reuters-21578 and scores
`wirestream dedup` and datasketch's MinHashLSH on it (pairwise precision,
recall, F1). See docs/dedup.md.

usage: eval.py [--corpus PATH] [--wirestream BIN] [--out DIR] [--originals N]
"""
import argparse, collections, datetime, difflib, itertools, json, random, re, subprocess, sys, time, html

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


# --- Natural near re-sends -------------------------------------------------
#
# The corpus re-sends stories with small edits (a figure corrected, a line
# added, the headline re-titled or its ticker dropped). They are labelled here
# by a rule that does not use wirestream or any MinHash: word-level
# difflib on the raw bodies, and the headline.
#
#   A pair of corpus items is a natural near re-send when all of
#   T:  they were sent within 3 days of each other (versioncreated; Reuters
#       re-sends overnight copy the next morning under a new dateline date),
#   N:  at most one distinct number of the shorter body (dateline left out)
#       is missing from the longer body, none when they were sent more than a
#       day apart (a re-send repeats the figures, a prompt correction changes
#       one; a daily notice such as "FED ADDS RESERVES
#       VIA CUSTOMER REPURCHASES" or "HOG AND CATTLE SLAUGHTER GUESSTIMATES"
#       repeats its headline and template with new figures: another story),
#   and one of
#   R1: their normalised headlines are equal (lower case, HTML entities,
#       <TICKER> markers (one word) and REFILE/CORRECTED/UPDATE n prefixes
#       removed, punctuation dropped) and the word sequences of their bodies
#       have a difflib ratio >= 0.8, or the shorter (>= 25 words) is >= 0.9
#       contained in the longer (matched words / its words): a first take
#       and its full story, an update;
#   R2: whatever the headlines, the ratio is >= 0.95 and both bodies have
#       >= 60 words: a re-titled re-send;
#   R3: whatever the headlines, the shorter body (>= 60 words) is >= 0.9
#       contained in the longer: a re-titled first take or update.
#   Groups are the connected components of those pairs and of identical bodies.
#
# Candidate pairs for the rule: same normalised headline, or a shared word
# 8-gram that occurs in at most 10 items (boilerplate left out). The pairs the
# rule adds are sampled to target/dedup-eval/natural-near-sample.txt for review.

PREFIX = re.compile(r"^(?:(?:REFILE|CORRECTED|CORRECTION|UPDATE \d+|RPT|REPEAT)\s*-+\s*)+", re.I)
WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")


def norm_headline(h):
    h = html.unescape(h)
    h = PREFIX.sub("", h.strip())
    h = re.sub(r"<[^<>\s]{1,12}>", " ", h)
    return " ".join(re.findall(r"[a-z0-9]+", h.lower()))


def body_words(body):
    return WORD.findall(html.unescape(body).lower())


DATELINE = re.compile(r"^[^\n]{0,80}?\b((?:Jan|Feb|March|April|May|June|July|Aug|Sept|Oct|Nov|Dec)[a-z]*)\.? (\d{1,2}) ?-+")


def numbers(body):
    body = DATELINE.sub("", html.unescape(body).lstrip(), count=1)
    return {w for w in body_words(body) if any(c.isdigit() for c in w)}


def sent_at(item):
    try:
        return datetime.datetime.fromisoformat(item.get("versioncreated", "").replace("Z", "+00:00"))
    except ValueError:
        return None


def close_in_time(a, b, days=3):
    ta, tb = sent_at(a), sent_at(b)
    return ta is None or tb is None or abs(ta - tb) <= datetime.timedelta(days=days)


def same_figures(na, nb, misses=1):
    small, large = (na, nb) if len(na) <= len(nb) else (nb, na)
    return len(small - large) <= misses


def near_resend(wa, wb, same_headline):
    """(label, ratio, containment) under R1/R2, label None when neither."""
    short = min(len(wa), len(wb))
    if not short:
        return None, 0.0, 0.0
    sm = difflib.SequenceMatcher(None, wa, wb, autojunk=False)
    ratio = sm.ratio()
    contained = sum(b.size for b in sm.get_matching_blocks()) / short
    if same_headline and (ratio >= 0.8 or (contained >= 0.9 and short >= 25)):
        return "R1", ratio, contained
    if ratio >= 0.95 and short >= 60:
        return "R2", ratio, contained
    if contained >= 0.9 and short >= 60:
        return "R3", ratio, contained
    return None, ratio, contained


def natural_groups(items, sample_path=None, seed=4):
    """Groups (lists of items) of natural re-sends: identical bodies, plus
    near re-sends by the rule above. Returns (groups, exact_groups, added)."""
    with_body = [it for it in items if body_of(it).strip()]
    parent = {it["uri"]: it["uri"] for it in with_body}

    def find(u):
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb, key=order_in_corpus.get)] = min(ra, rb, key=order_in_corpus.get)

    order_in_corpus = {it["uri"]: n for n, it in enumerate(with_body)}
    exact = collections.defaultdict(list)
    for it in with_body:
        exact[key(body_of(it))].append(it)
    exact_groups = [g for g in exact.values() if len(g) > 1]
    for g in exact_groups:
        for it in g[1:]:
            union(g[0]["uri"], it["uri"])

    words = {it["uri"]: body_words(body_of(it)) for it in with_body}
    heads = {it["uri"]: norm_headline(headline_of(it)) for it in with_body}
    nums = {it["uri"]: numbers(body_of(it)) for it in with_body}
    by_uri = {it["uri"]: it for it in with_body}
    candidates = set()
    by_head = collections.defaultdict(list)
    for it in with_body:
        if heads[it["uri"]]:
            by_head[heads[it["uri"]]].append(it["uri"])
    for uris in by_head.values():
        candidates.update(itertools.combinations(sorted(uris, key=order_in_corpus.get), 2))
    grams = collections.defaultdict(set)
    for u, w in words.items():
        for i in range(len(w) - 7):
            grams[" ".join(w[i:i + 8])].add(u)
    for uris in grams.values():
        if 1 < len(uris) <= 10:
            candidates.update(itertools.combinations(sorted(uris, key=order_in_corpus.get), 2))

    added = []
    for a, b in sorted(candidates, key=lambda p: (order_in_corpus[p[0]], order_in_corpus[p[1]])):
        if key(body_of(by_uri[a])) == key(body_of(by_uri[b])):
            continue
        misses = 1 if close_in_time(by_uri[a], by_uri[b], days=1) else 0
        if not close_in_time(by_uri[a], by_uri[b]) or not same_figures(nums[a], nums[b], misses):
            continue
        label, ratio, contained = near_resend(words[a], words[b], heads[a] == heads[b])
        if label:
            added.append((label, ratio, contained, a, b))
            union(a, b)

    groups = collections.defaultdict(list)
    for it in with_body:
        groups[find(it["uri"])].append(it)
    groups = [g for g in groups.values() if len(g) > 1]
    if sample_path:
        rng = random.Random(seed)
        with open(sample_path, "w") as f:
            f.write(f"# {len(added)} near re-send pairs added by the rule "
                    f"(R1 {sum(1 for x in added if x[0] == 'R1')}, R2 {sum(1 for x in added if x[0] == 'R2')}, R3 {sum(1 for x in added if x[0] == 'R3')}); "
                    f"a random sample of 40\n")
            for label, ratio, contained, a, b in sorted(rng.sample(added, min(40, len(added))), key=lambda x: x[3]):
                f.write(f"{label} ratio={ratio:.3f} contained={contained:.3f} {a} {b}\n"
                        f"  {headline_of(by_uri[a])!r} ({len(words[a])} words)\n"
                        f"  {headline_of(by_uri[b])!r} ({len(words[b])} words)\n")
    return groups, exact_groups, added


def build(corpus, n_originals, seed=4, sample_path=None):
    rng = random.Random(seed)
    items = [json.loads(l) for l in open(corpus) if l.strip()]
    natural, exact_groups, added = natural_groups(items, sample_path, seed)
    exact_uris = {it["uri"] for g in exact_groups for it in g}
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
        # "natural": identical bodies only; "natural_near": the rule joined
        # at least one near re-send into the group.
        kind = "natural" if all(it["uri"] in exact_uris for it in g) and len({key(body_of(it)) for it in g}) == 1 else "natural_near"
        for it in g:
            add(it, f"{kind}:" + g[0]["uri"])
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
    nat = len(natural_pairs & pred_pairs) / len(natural_pairs) if natural_pairs else 1.0
    per_kind = {}
    for kind in ["natural", "natural_near", "refile", "update", "correction", "first_take", "rewrap", "html"]:
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
    items, label = build(args.corpus, args.originals, sample_path=os.path.join(args.out, "natural-near-sample.txt"))
    global order
    order = {it["uri"]: n for n, it in enumerate(items)}
    path = os.path.join(args.out, "eval.ndjson")
    with open(path, "w") as f:
        for it in items:
            f.write(json.dumps(it) + "\n")
    with open(os.path.join(args.out, "labels.json"), "w") as f:
        json.dump(label, f)
    # Exact re-sends: corpus items of the set with identical bodies (in
    # "natural" or "natural_near" groups). Every one of these pairs must be found.
    natural = collections.defaultdict(list)
    near_groups = set()
    for it in items:
        g = label[it["uri"]]
        if g.startswith("natural"):
            natural[key(body_of(it))].append(it["uri"])
            if g.startswith("natural_near:"):
                near_groups.add(g)
    natural = {k: v for k, v in natural.items() if len(v) > 1}
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
    print(f"eval set: {len(items)} items, {len(natural)} groups of identical bodies "
          f"({len(natural_pairs)} exact re-send pairs), {len(near_groups)} natural groups with near re-sends, written to {path}")
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
