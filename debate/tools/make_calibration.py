"""Build evals/calibration.jsonl: labelled (sentence, passage, label) pairs for the checker.

Faithful paraphrases are written by hand in evals/paraphrases.yaml. This script adds
faithful verbatim quotes (with the quote-mark, dash and case differences the checker must
forgive) and derives the unfaithful variants from the paraphrases: changed number, changed
date, negation flip, swapped entity or country, claim moved to a passage that does not say
it, invented quote, and a cited number outside the evidence list.

Passages are referenced by source id and character offsets (plus their exact text), so the
set stays valid while the sources do not change; `debate eval` checks that it still is.
Run: .venv/bin/python debate/tools/make_calibration.py  (deterministic: fixed seed)
"""

from __future__ import annotations

import hashlib
import json
import random
import re

import yaml

from debate.check.claims import MONTHS, entities_in, initialisms, numbers_in
from debate.core.config import PROJECT_ROOT, load_settings
from debate.core.text import fold_accents, sentence_spans
from debate.corpus.ingest import prepare_motion
from debate.corpus.motions import load_motion

HERE = PROJECT_ROOT / "evals"  # the calibration set and the paraphrases it derives from

# What the variants draw on: the motion, and names of the kinds a changed sentence swaps in
# (countries, people, organisations), quotes nobody said, and paraphrases whose "wrong"
# passage states the same fact: data about this calibration set, kept beside it.
VARIANTS = yaml.safe_load((HERE / "calibration_variants.yaml").read_text(encoding="utf-8"))
MOTION = VARIANTS["motion"]
COUNTRIES, PEOPLE, ORGS = VARIANTS["countries"], VARIANTS["people"], VARIANTS["orgs"]
INVENTED_QUOTES = VARIANTS["invented_quotes"]
SAME_FACT: set[tuple[str, str]] = {tuple(pair) for pair in VARIANTS["same_fact"]}
OUT = HERE / "calibration.jsonl"
CAP = 70
rng = random.Random(20261126)

SUBSTITUTES = [
    "secretly",
    "Western",
    "military",
    "illegal",
    "permanent",
    "Russian",
    "hostile",
    "European",
    "temporary",
    "historic",
    "reluctantly",
    "never",
]
QUOTE_TEMPLATES = [
    'The source states that "{q}" [{n}].',
    'In its own words, "{q}" [{n}].',
    "As the evidence puts it, “{q}” [{n}].",
    'The report says that "{q}" [{n}].',
    "We read that “{q}” [{n}].",
]


def load_sources():
    settings = load_settings(environ={})
    motion = load_motion(MOTION, settings.corpus_dir)
    return {s.spec.id: s for s in prepare_motion(motion, settings)}


def ref(passage) -> dict:
    return {
        "source_id": passage.source_id,
        "start": passage.start,
        "end": passage.end,
        "text": passage.text,
    }


def cite(sentence: str, n: int) -> str:
    """Put a citation marker before the final full stop."""
    body = sentence.rstrip()
    if body.endswith((".", "!", "?")):
        return f"{body[:-1]} [{n}]{body[-1]}"
    return f"{body} [{n}]"


def split_for(source_id: str) -> str:
    """Calibration or held-out, by source, so that no passage is in both halves."""
    digest = int(hashlib.sha1(source_id.encode()).hexdigest(), 16)
    return "calibration" if digest % 2 == 0 else "held-out"


def present(word: str, text: str) -> bool:
    return word.lower().split()[0][:5] in text.lower()


# ------------------------------------------------------------------ variants
def change_number(sentence: str, passage: str) -> str | None:
    have = numbers_in(passage)
    for m in re.finditer(r"\d+(?:[.,]\d+)*", sentence):
        raw = m.group(0)
        value = float(raw.replace(",", ""))
        after = sentence[m.end() : m.end() + 12].lower()
        before = sentence[max(0, m.start() - 12) : m.start()].lower()
        is_year = 1900 <= value <= 2100 and "," not in raw
        is_day = value <= 31 and any(mo in after or mo in before for mo in MONTHS)
        if is_year or is_day:
            continue
        for factor in (2, 3, 1.5, 0.5, 4):
            new = value * factor
            text = f"{new:,.{len(raw.split('.')[1]) if '.' in raw else 0}f}"
            if "," not in raw:
                text = text.replace(",", "")
            if f"{float(text.replace(',', '')):g}" not in have:
                return sentence[: m.start()] + text + sentence[m.end() :]
    return None


def change_date(sentence: str, passage: str) -> str | None:
    low_passage = passage.lower()
    years = list(re.finditer(r"\b(19|20)\d\d\b", sentence))
    months = [
        m
        for m in re.finditer(r"\b(" + "|".join(MONTHS) + r")\b", sentence, re.I)
        if m.group(0) != "may"
        or re.search(r"\d\s*$", sentence[: m.start()])
        or re.match(r"\s*\d", sentence[m.end() :])
    ]
    options = []
    for m in years:
        for delta in (1, -1, 2, -2, 3):
            year = str(int(m.group(0)) + delta)
            if year not in passage:
                options.append(sentence[: m.start()] + year + sentence[m.end() :])
                break
    for m in months:
        current = MONTHS.index(m.group(0).lower())
        for delta in (1, -1, 2, 5):
            month = MONTHS[(current + delta) % 12]
            if month not in low_passage:
                options.append(sentence[: m.start()] + month.title() + sentence[m.end() :])
                break
    return rng.choice(options) if options else None


_AUX = re.compile(r"\b(is|are|was|were|has|have|had|will|would|could|can|should|did|does)\b")
_NEG = re.compile(
    r"\b(did not|does not|do not|was not|were not|is not|has not|had not|not|"
    r"never|no)\s+"
)


def negate(sentence: str) -> str | None:
    m = _NEG.search(sentence)
    if m and m.group(1) == "no":
        # "has imposed no sanctions" -> "has imposed sanctions"
        return sentence[: m.start()] + sentence[m.end() :]
    if m and m.group(1) in ("did not", "does not", "do not"):
        # "did not talk" -> "did talk"
        return sentence[: m.start()] + m.group(1).split()[0] + " " + sentence[m.end() :]
    if m and m.group(1) in ("was not", "were not", "is not", "has not", "had not", "not", "never"):
        kept = m.group(1).replace(" not", "").replace("not", "").replace("never", "")
        return sentence[: m.start()] + (kept + " " if kept else "") + sentence[m.end() :]
    m = _AUX.search(sentence)
    if m:
        return sentence[: m.end()] + " not" + sentence[m.end() :]
    return None


def swap_entity(sentence: str, passage: str) -> str | None:
    for pool in (COUNTRIES, PEOPLE, ORGS):
        for name in pool:
            m = re.search(rf"\b{re.escape(name)}\b", sentence)
            if not m:
                continue
            choices = [
                c
                for c in pool
                if c != name and not present(c, passage) and not present(c, sentence)
            ]
            if choices:
                new = rng.choice(choices)
                return sentence[: m.start()] + new + sentence[m.end() :]
    return None


def add(
    rows: list[dict],
    category: str,
    label: str,
    sentence: str,
    evidence: list,
    note: str = "",
    expect: str | None = None,
) -> None:
    """Append one labelled pair to rows (its id numbers the pairs of its category)."""
    source_id = evidence[0].source_id if evidence else ""
    rows.append(
        {
            "id": f"{category}-{sum(r['category'] == category for r in rows) + 1:03d}",
            "category": category,
            "label": label,
            "expect": expect or ("supported" if label == "faithful" else "flagged"),
            "sentence": sentence,
            "evidence": [ref(p) for p in evidence],
            "split": split_for(source_id),
            "note": note,
        }
    )


def locate(sources, entries) -> list[tuple[str, object]]:
    """(paraphrase, the passage its anchor is in) for each hand-written entry."""
    located = []
    for e in entries:
        passage = next((p for p in sources[e["s"]].passages if e["a"] in p.text), None)
        if passage is None:
            raise SystemExit(f"anchor not found in {e['s']}: {e['a']!r}")
        located.append((e["t"], passage))
    return located


def add_paraphrases(rows: list[dict], located, all_passages) -> None:
    for text, passage in located:
        # Faithful paraphrase; a third of them cite [2] of a two-item list.
        if rng.random() < 0.33:
            other = rng.choice([p for p in all_passages if p.source_id != passage.source_id])
            add(rows, "faithful-paraphrase", "faithful", cite(text, 2), [other, passage])
        else:
            add(rows, "faithful-paraphrase", "faithful", cite(text, 1), [passage])


def add_variants(rows: list[dict], located) -> None:
    """Changed number, changed date, negation flip and swapped entity of each paraphrase."""
    for text, passage in located:
        if (v := change_number(text, passage.text)) and v != text:
            add(rows, "changed-number", "unfaithful", cite(v, 1), [passage], text)
        if (v := change_date(text, passage.text)) and v != text:
            add(rows, "changed-date", "unfaithful", cite(v, 1), [passage], text)
        if (v := negate(text)) and v != text:
            add(rows, "negation", "unfaithful", cite(v, 1), [passage], text)
        if (v := swap_entity(text, passage.text)) and v != text:
            add(rows, "swapped-entity", "unfaithful", cite(v, 1), [passage], text)


def add_moved(rows: list[dict], located, all_passages) -> None:
    """Moved claims: the paraphrase cited against a passage from another source."""
    for text, passage in rng.sample(located, 60):
        others = [
            p
            for p in all_passages
            if p.source_id != passage.source_id and not p.text.startswith("## Key facts")
        ]
        add(rows, "wrong-passage", "unfaithful", cite(text, 1), [rng.choice(others)], text)


def add_hard(rows: list[dict], located, all_passages) -> None:
    """The hard case: another source's passage that names everything the claim names (and
    no number of it), so only the support score can tell. Reviewed by hand; pairs where
    the other passage does say the same thing are listed in SAME_FACT and skipped."""
    hard = []
    for text, passage in located:
        names = entities_in(text)
        if numbers_in(text) or not names:
            continue
        others = [
            o
            for o in all_passages
            if o.source_id != passage.source_id
            and not o.text.startswith("## Key facts")
            and (text[:40], o.source_id) not in SAME_FACT
            and all(
                n[:4] in fold_accents(o.text.lower()) or n in initialisms(o.text) for n in names
            )
        ]
        hard.extend((text, o) for o in rng.sample(others, min(2, len(others))))
    for text, other in hard:
        add(rows, "wrong-passage-hard", "unfaithful", cite(text, 1), [other], text)


def add_quotes(rows: list[dict], all_passages) -> None:
    """Faithful verbatim quotes, with normalisation differences the checker must forgive."""
    body_passages = [p for p in all_passages if "## Key facts" not in p.text and len(p.text) > 200]
    for passage in rng.sample(body_passages, 50):
        spans = sentence_spans(passage.text)
        s, e = rng.choice(spans)
        words = passage.text[s:e].split()
        if len(words) < 8:
            continue
        k = rng.randint(6, min(14, len(words) - 1))
        i = rng.randint(0, len(words) - k)
        quote = " ".join(words[i : i + k]).strip(",;:.")
        quote = quote.replace('"', "'") if '"' in quote else quote
        variant = rng.choice(["plain", "curly", "dash", "case", "space"])
        shown = {
            "plain": quote,
            "curly": quote.replace("'", "’"),
            "dash": quote.replace("–", "-").replace("—", "-"),
            "case": quote[:1].swapcase() + quote[1:],
            "space": quote.replace(" ", "  ", 1),
        }[variant]
        add(
            rows,
            "faithful-quote",
            "faithful",
            rng.choice(QUOTE_TEMPLATES).format(q=shown, n=1),
            [passage],
            variant,
        )


def add_invented_quotes(rows: list[dict], located, all_passages) -> None:
    """Invented quotes: a real quote with one word changed, or a quote the passage never had."""
    for row in [r for r in rows if r["category"] == "faithful-quote"][:20]:
        m = re.search(r"[\"“](.+)[\"”]", row["sentence"])
        words = m.group(1).split()
        idx = max(range(len(words)), key=lambda j: len(words[j]))
        pool = [w for w in SUBSTITUTES if w.lower() != words[idx].lower()]
        words[idx] = rng.choice(pool)
        sentence = row["sentence"][: m.start(1)] + " ".join(words) + row["sentence"][m.end(1) :]
        passage = next(p for p in all_passages if p.text == row["evidence"][0]["text"])
        add(rows, "invented-quote", "unfaithful", sentence, [passage], "one word changed")
    for text, passage in rng.sample(located, 20):
        quote = rng.choice(INVENTED_QUOTES)
        sentence = cite(text.rstrip(".") + f', calling it "{quote}".', 1)
        add(rows, "invented-quote", "unfaithful", sentence, [passage], "quote added")


def add_fabricated(rows: list[dict], located, all_passages) -> None:
    """Fabricated citations: a number outside the evidence list."""
    for text, passage in rng.sample(located, 25):
        size = rng.randint(1, 3)
        evidence = [passage] + rng.sample([p for p in all_passages if p is not passage], size - 1)
        add(
            rows,
            "fabricated-citation",
            "unfaithful",
            cite(text, size + rng.randint(1, 3)),
            evidence,
            f"evidence has {size}",
            expect="fabricated-citation",
        )


def cap(rows: list[dict]) -> list[dict]:
    """Keep the set quick to run: at most CAP pairs per derived category (a fixed sample);
    every hand-written paraphrase stays."""
    capped: list[dict] = []
    for category in dict.fromkeys(r["category"] for r in rows):
        in_cat = [r for r in rows if r["category"] == category]
        keep_all = len(in_cat) <= CAP or category == "faithful-paraphrase"
        capped.extend(in_cat if keep_all else rng.sample(in_cat, CAP))
    return capped


def write(rows: list[dict]) -> None:
    with OUT.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["category"]] = counts.get(row["category"], 0) + 1
    print(f"wrote {len(rows)} pairs to {OUT}: {counts}")


def main() -> None:
    sources = load_sources()
    all_passages = [p for s in sources.values() for p in s.passages]
    entries = yaml.safe_load((HERE / "paraphrases.yaml").read_text(encoding="utf-8"))
    rows: list[dict] = []
    located = locate(sources, entries)
    add_paraphrases(rows, located, all_passages)
    add_variants(rows, located)
    add_moved(rows, located, all_passages)
    add_hard(rows, located, all_passages)
    add_quotes(rows, all_passages)
    add_invented_quotes(rows, located, all_passages)
    add_fabricated(rows, located, all_passages)
    write(cap(rows))


if __name__ == "__main__":
    main()
