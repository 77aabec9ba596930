#!/usr/bin/env python3
"""Build (thesis, sentence, label) stance pairs from public human-labelled sets.

Sources (fetched bare git snapshots; read with `git --git-dir=<dir> show <commit>:<path>`):
  --iam      LiyingCheng95/IAM @ 5497013e36a6af07a798b42965e6a3c321aa56ae
             stance/{train,dev,test}.txt (claims, support=1 / contest=-1)
             claims/{dev,test}.txt rows tagged O (non-claim sentences -> neither)
  --arguana  cchang-vassar/Semantic-Relations-in-Vector-Embeddings, data commit
             420c6ae764718840c05770926528dbecf1c3417a,
             arguana-counterargs-corpus/02-extracted-arguments/<split>/<theme>/<debate>/
             full.txt (# THESIS) and {pro,con}/*-point.txt (first line = heading)

Labels: supports / opposes / neither.  Theses are turned into statements with
`to_statement` (the same convention is expected at inference: a declarative thesis).
Split BY TOPIC: IAM topics are grouped (near-duplicate topics share a group) and groups
are assigned to train/dev/test by a fixed hash; ArguAna keeps its own debate-level split,
minus debates whose thesis is close to an IAM dev/test topic (word overlap) and minus
debates about plastic water bottles / physical education (reserved as another helper's
unseen test motions, UKPConvArg1).  Neither = (a) IAM non-claim sentences of the same
topic (on-topic, no stance), (b) a claim paired with another topic's thesis (off-topic).

Deterministic: fixed seeds, sorted inputs.  Writes <out>/{train,dev,test}.jsonl.
Example:
  python debate/tools/stance_data.py --iam /work/.mirror/LiyingCheng95+IAM/repo \
     --arguana /work/.mirror/cchang-vassar+Semantic-Relations-in-Vector-Embeddings/repo \
     --out /tmp/stance-data
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import subprocess
import sys
from collections import Counter, defaultdict

IAM_COMMIT = "5497013e36a6af07a798b42965e6a3c321aa56ae"
ARGUANA_COMMIT = "420c6ae764718840c05770926528dbecf1c3417a"
ARGUANA_ROOT = "arguana-counterargs-corpus/02-extracted-arguments"

# Topics never used for training (another helper's unseen test motions): forced to test.
FORCE_TEST = re.compile(r"physical education|plastic|water bottle", re.I)

# IAM question -> statement overrides where the generic rules below fail.
OVERRIDES = {
    "Should sperm and egg donors remain anonymous": "Sperm and egg donors should remain anonymous",
    "Should developing countries restrict rural-to-urban migration?": "Developing countries should restrict rural-to-urban migration",
    "Does the Internet Have More Negative Effects on College Students?": "The Internet has more negative effects on college students",
    "Does big data bring more benefits": "Big data brings more benefits",
    "Does online shopping promote economic development": "Online shopping promotes economic development",
    "Does discipline limit the development of personality": "Discipline limits the development of personality",
    "Do all countries have the right to manufacture nuclear weapons": "All countries have the right to manufacture nuclear weapons",
    "Will artificial intelligence replace humans": "Artificial intelligence will replace humans",
    "Can high scores reflect high energy": "High scores reflect high ability",
    "Is the advertisement harmful?": "Advertising is harmful",
    "Is the Internet harmful to interpersonal relationships?": "The Internet is harmful to interpersonal relationships",
    "Is science a threat to mankind": "Science is a threat to mankind",
    "Shouldn't encourage advance consumption": "We should encourage advance consumption",
    "Should we oppose ordinary families for their children to study abroad?": "We should oppose ordinary families sending their children to study abroad",
}
# Near-duplicate IAM topics share a split group.
GROUPS = {
    "physical education": "pe",
    "animal testing": "animal-testing",
    "animal experiments": "animal-testing",
    "antarctic": "polar",
    "arctic": "polar",
    "abortion": "abortion",
    "women's right to choose": "abortion",
}


def to_statement(q: str) -> str:
    """Turn a debate topic (question or 'This House ...' motion) into a statement."""
    q = q.strip()
    if q in OVERRIDES:
        return OVERRIDES[q]
    s = q.rstrip("?. ").strip()
    s = re.sub(r"(?i)\s*(\(junior\)|-\s*junior)$", "", s).strip()
    s = re.sub(r"(?i)^resolved:\s*", "", s)
    s = re.sub(r"(?i)^THBT\s+", "This House believes that ", s)
    s = re.sub(r"(?i)^THW\s+", "This House would ", s)
    if re.match(
        r"(?i)^(ban|allow|legali[sz]e|abolish|introduce|make|end|stop|create|give|remove|scrap)\b",
        s,
    ):
        return "We should " + s[0].lower() + s[1:]
    m = re.match(r"(?i)^(this house|th)\s+(believes|believe|b)\s+(that\s+)?(.*)$", s)
    if m:
        s = m.group(4)
        # NB "This House believes in X" becomes "In X" (kept: the released weights were trained so)
        return s[0].upper() + s[1:]
    m = re.match(r"(?i)^(this house|th)\s+(would|w)\s+(.*)$", s)
    if m:
        return "We should " + m.group(3)
    m = re.match(r"(?i)^(this house|th)\s+(supports|opposes|prefers|regrets|welcomes)\s+(.*)$", s)
    if m:
        return "We should " + m.group(2).lower()[:-1] + " " + m.group(3)
    m = re.match(r"(?i)^should(n't| not)?\s+(we|you|i)\s+(.*)$", s)
    if m:  # IAM "Shouldn't X" topics are rhetorical: label 1 = the positive statement
        return "We should " + m.group(3)
    m = re.match(r"(?i)^should(n't| not)?\s+there\s+be\s+(.*)$", s)
    if m:
        return "There should be " + m.group(2)
    m = re.match(r"(?i)^should(n't| not)?\s+(.*?)\s+be\s+(.*)$", s)
    if m:
        subj = m.group(2)
        subj = subj[0].upper() + subj[1:]
        return f"{subj} should be {m.group(3)}"
    return s[0].upper() + s[1:]


def git_show(gitdir: str, commit: str, path: str) -> str:
    return subprocess.run(
        ["git", f"--git-dir={gitdir}", "show", f"{commit}:{path}"], check=True, capture_output=True
    ).stdout.decode("utf-8", "replace")


def git_ls(gitdir: str, commit: str, under: str) -> list[str]:
    out = subprocess.run(
        ["git", f"--git-dir={gitdir}", "ls-tree", "-r", "--name-only", commit, under],
        check=True,
        capture_output=True,
    ).stdout.decode()
    return sorted(out.splitlines())


def bucket(key: str, dev_frac=0.1, test_frac=0.2) -> str:
    h = int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if h < test_frac else ("dev" if h < test_frac + dev_frac else "train")


def group_of(topic: str) -> str:
    t = topic.lower()
    for k, g in GROUPS.items():
        if k in t:
            return g
    return re.sub(r"\W+", "-", t).strip("-")


def words(s: str) -> set[str]:
    stop = {
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "be",
        "should",
        "we",
        "is",
        "and",
        "for",
        "on",
        "that",
        "this",
        "house",
        "would",
        "believes",
        "are",
        "it",
        "its",
        "by",
        "with",
        "not",
    }
    return {w for w in re.findall(r"[a-z]+", s.lower()) if w not in stop and len(w) > 2}


def clean(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def iam_claims(gitdir: str) -> list[tuple[str, str, str, str]]:
    """(topic, sentence, label, path) of the IAM stance claims, first of each (topic, sentence)."""
    claims = []
    for part in ("train", "dev", "test"):
        path = f"stance/{part}.txt"
        for line in git_show(gitdir, IAM_COMMIT, path).splitlines():
            f = line.split("\t")
            if len(f) != 5 or f[4] not in ("1", "-1"):
                continue
            claims.append(
                (f[1].strip(), clean(f[2]), "supports" if f[4] == "1" else "opposes", f"{path}")
            )
    seen = set()
    claims_u = []
    for c in claims:
        if (c[0], c[1]) not in seen:
            seen.add((c[0], c[1]))
            claims_u.append(c)
    return claims_u


def iam_nonclaims(gitdir: str, claim_texts: set[str]) -> dict[str, list[tuple[str, str]]]:
    """topic -> (sentence, path) of IAM's non-claim sentences of 8-60 words."""
    nonclaims = defaultdict(list)
    for part in ("dev", "test"):
        path = f"claims/{part}.txt"
        for line in git_show(gitdir, IAM_COMMIT, path).splitlines():
            f = line.split("\t")
            if len(f) != 5 or f[0] != "O" or f[4] != "0":
                continue
            s = clean(f[2])
            nw = len(s.split())
            if nw < 8 or nw > 60 or s in claim_texts or not re.search(r"[.!?\"”]$", s):
                continue
            nonclaims[f[1].strip()].append((s, path))
    return nonclaims


def build_iam(gitdir: str, rng: random.Random):
    claims_u = iam_claims(gitdir)
    nonclaims = iam_nonclaims(gitdir, {c[1] for c in claims_u})
    per_topic = Counter(c[0] for c in claims_u)
    topics = sorted(per_topic)
    split_of = {}
    for t in topics:
        split_of[t] = "test" if FORCE_TEST.search(t) else bucket("iam:" + group_of(t))
    items = []
    for _i, (t, s, lab, path) in enumerate(claims_u):
        items.append(
            dict(
                set="iam",
                topic=t,
                thesis=to_statement(t),
                sentence=s,
                label=lab,
                split=split_of[t],
                source=f"IAM:{path}",
            )
        )
    for t in topics:
        pool = sorted(set(nonclaims.get(t, [])))
        rng.shuffle(pool)
        for s, path in pool[: per_topic[t]]:
            items.append(
                dict(
                    set="iam",
                    topic=t,
                    thesis=to_statement(t),
                    sentence=s,
                    label="neither",
                    split=split_of[t],
                    source=f"IAM:{path}:O",
                )
            )
    return items, split_of


def build_arguana(gitdir: str, iam_split: dict[str, str]):
    files = git_ls(gitdir, ARGUANA_COMMIT, ARGUANA_ROOT)
    debates = defaultdict(list)
    for p in files:
        parts = p[len(ARGUANA_ROOT) + 1 :].split("/")
        if len(parts) >= 4:
            debates[(parts[0], parts[1], parts[2])].append(p)
    held_iam = [words(to_statement(t)) for t, sp in iam_split.items() if sp != "train"]
    items, dropped = [], Counter()
    for (split, _theme, deb), paths in sorted(debates.items()):
        full = [p for p in paths if p.endswith("/full.txt")]
        if not full:
            continue
        txt = git_show(gitdir, ARGUANA_COMMIT, full[0])
        m = re.search(r"# THESIS\s*\n(.*?)\n", txt)
        if not m:
            continue
        motion = clean(m.group(1))
        thesis = to_statement(motion)
        sp = {"training": "train", "validation": "dev", "test": "test"}.get(split, split)
        if FORCE_TEST.search(motion) or FORCE_TEST.search(deb):
            dropped["reserved-motion"] += 1
            continue
        if sp == "train":
            w = words(thesis)
            if any(
                len(w & h)
                >= max(1, min(len(w), len(h)) // 2 + (1 if min(len(w), len(h)) > 2 else 0))
                for h in held_iam
            ):
                dropped["close-to-iam-heldout"] += 1
                continue
        for p in sorted(paths):
            m2 = re.search(r"/(pro|con)/(pro|con)\d+a-point\.txt$", p)
            if not m2:
                continue
            head = clean(git_show(gitdir, ARGUANA_COMMIT, p).strip().split("\n")[0])
            if len(head.split()) < 3 or len(head) > 300:
                continue
            lab = "supports" if m2.group(1) == "pro" else "opposes"
            items.append(
                dict(
                    set="arguana",
                    topic=motion,
                    thesis=thesis,
                    sentence=head,
                    label=lab,
                    split=sp,
                    source=f"ArguAna:{p}",
                )
            )
    return items, dropped


def add_offtopic(items: list[dict], rng: random.Random, frac=0.15):
    """Neither (off-topic): a stance sentence paired with another topic's thesis, same split/set."""
    out = []
    by = defaultdict(list)
    for it in items:
        by[(it["set"], it["split"])].append(it)
    for key in sorted(by):
        group = by[key]
        theses = sorted({(g["topic"], g["thesis"]) for g in group})
        stance = [g for g in group if g["label"] != "neither"]
        k = int(len(stance) * frac)
        for it in rng.sample(stance, k):
            while True:
                t, th = rng.choice(theses)
                if t != it["topic"]:
                    break
            out.append(
                dict(it, topic=t, thesis=th, label="neither", source=it["source"] + ":offtopic")
            )
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--iam", required=True, help="bare git dir of LiyingCheng95/IAM")
    ap.add_argument(
        "--arguana", help="bare git dir of cchang-vassar/Semantic-Relations-in-Vector-Embeddings"
    )
    ap.add_argument("--out", default="/tmp/stance-data")
    ap.add_argument("--seed", type=int, default=13)
    a = ap.parse_args(argv)
    rng = random.Random(a.seed)
    items, iam_split = build_iam(a.iam, rng)
    dropped = Counter()
    if a.arguana:
        arg_items, dropped = build_arguana(a.arguana, iam_split)
        items += arg_items
    items += add_offtopic(items, rng)
    os.makedirs(a.out, exist_ok=True)
    stats = Counter()
    for sp in ("train", "dev", "test"):
        rows = [it for it in items if it["split"] == sp]
        with open(os.path.join(a.out, f"{sp}.jsonl"), "w") as fh:
            for i, it in enumerate(rows):
                it = dict(id=f"{sp}-{i:05d}", **it)
                fh.write(json.dumps(it, ensure_ascii=False) + "\n")
                stats[(sp, it["set"], it["label"])] += 1
    topics = Counter(
        (it["split"], it["set"])
        for it in {(i["split"], i["set"], i["topic"]): i for i in items}.values()
    )
    summary = dict(
        counts={"/".join(k): v for k, v in sorted(stats.items())},
        topics={"/".join(k): v for k, v in sorted(topics.items())},
        arguana_dropped=dict(dropped),
        iam_test_topics=sorted(t for t, s in iam_split.items() if s == "test"),
        iam_dev_topics=sorted(t for t, s in iam_split.items() if s == "dev"),
    )
    with open(os.path.join(a.out, "summary.json"), "w") as fh:
        json.dump(summary, fh, indent=1, ensure_ascii=False)
    json.dump(summary, sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
