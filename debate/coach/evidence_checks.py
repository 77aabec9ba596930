"""The student's quotes, figures and attributions compared with the motion's sources: the
evidence checks behind `debate.coach.feedback`. Each result shows the passage sentence it rests on,
so a coach can re-check it by reading that sentence.

**Quotes** (words in quotation marks, three words or more) are looked up in every passage
of the motion with `text.find_quote`: `verbatim`; else `near-verbatim` when a passage
sentence has at least NEAR_VERBATIM of the quote's words in order (difflib ratio), with the
differing words marked; else `none`, with the closest sentence by retrieval shown. A quote
whose words are not all in a source (near-verbatim with a changed content word or number,
or not found) is a misquote.

**Statistics** (sentences with figures other than years and days) are compared with the
sentence of the retrieved passages closest to them (cosine plus shared words): when a figure
of the student is in no retrieved passage and that sentence, about the same topic (at least
SAME_TOPIC), gives other figures, it is a misquote: "you said 10 times; the source says 4
times".

**Attribution**: a sentence that names a source of the corpus ("According to Reuters",
"The Kyiv Independent reported") is checked against that source's passages (and passage
sentences that name it) alone; when none supports it, it is a misattribution, and the
source that does say it is named. A source the corpus does not hold is noted.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import cached_property

from debate.check.claims import MONTHS, claim_text, content_tokens, numbers_in
from debate.check.faithfulness import check_claim
from debate.core.config import Settings
from debate.core.embeddings import embed_cached
from debate.core.text import STOPWORDS, find_quote, quotes_in, sentence_at, sentence_spans, words
from debate.corpus.motions import Motion
from debate.corpus.passages import Passage
from debate.search.retrieval import get_retriever

CLAIM_PASSAGES = 4
SAME_TOPIC = 0.6
NEAR_VERBATIM = 0.8
QUOTE_MIN_WORDS = 3
CLASH_REASONS = ("negation", "contradiction", "numbers swapped", "direction")


# ---------------------------------------------------------------- records
@dataclass
class SourceSentence:
    """A passage sentence shown next to the student's words."""

    passage: Passage
    start: int  # offsets of the sentence in passage.text
    end: int

    @property
    def sentence(self) -> str:
        return self.passage.text[self.start : self.end]

    def to_dict(self) -> dict:
        p = self.passage
        return {
            "passage_id": p.id,
            "source_id": p.source_id,
            "title": p.title,
            "publisher": p.publisher,
            "date": p.date,
            "url": p.url,
            "sentence": self.sentence,
            "start": self.start,
            "end": self.end,
            "passage": p.text,
        }


@dataclass
class QuoteCheck:
    kind: str  # quote | statistic
    text: str  # the quoted words, or the sentence's figures
    sentence: str
    # quotes: verbatim | near-verbatim | misused | none; figures: found | differs | none
    found: str
    supports: bool  # the checker accepts the student's sentence on that passage
    message: str
    differences: list[tuple[str, str]] = field(default_factory=list)  # (you said, source says)
    marked: str = ""  # the source sentence with the differing words in **bold**
    source: SourceSentence | None = None

    @property
    def misquoted(self) -> bool:
        return self.found in ("none", "differs", "misused") or bool(self.differences)

    def to_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k not in ("source", "differences")}
        d["differences"] = [list(x) for x in self.differences]
        d["misquoted"] = self.misquoted
        return {**d, "source": self.source.to_dict() if self.source else None}


@dataclass
class Attribution:
    sentence: str
    named: str  # the source as the student named it
    known: bool  # the corpus holds it
    says_it: bool
    message: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)


# ---------------------------------------------------------------- helpers
def best_sentence(text: str, passages: list[Passage], settings: Settings):
    """The passage sentence closest to text: (SourceSentence, cosine), by cosine plus the
    share of text's content words it contains. (None, 0.0) without passages."""
    spans = [(p, s, e) for p in passages for s, e in sentence_spans(p.text)]
    if not spans:
        return None, 0.0
    vectors = embed_cached([text] + [p.text[s:e] for p, s, e in spans], settings)
    sims = vectors[1:] @ vectors[0]
    mine = content_tokens(text)
    best, best_score = 0, -1.0
    for i, (p, s, e) in enumerate(spans):
        share = len(mine & content_tokens(p.text[s:e])) / len(mine) if mine else 0.0
        if sims[i] + share > best_score:
            best, best_score = i, float(sims[i] + share)
    p, s, e = spans[best]
    return SourceSentence(p, s, e), float(sims[best])


_AMOUNT = re.compile(
    r"(?:[€$£]\s?)?\b\d[\d,.]*\s?(?:%|percent|per cent|million|billion|bn|times|km)?"
    r"|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    r"fifty|sixty|seventy|eighty|ninety)\b(?:\s(?:percent|per cent|million|billion|times))?",
    re.IGNORECASE,
)


def figures(text: str) -> dict[str, str]:
    """{canonical number: as written with its unit} for the amounts of text, not years
    (1990-2039) nor days next to a month."""
    out: dict[str, str] = {}
    low = text.lower()
    for m in _AMOUNT.finditer(text):
        found = numbers_in(m.group(0))
        for n in found:
            if re.fullmatch(r"(19|20)\d\d", n):
                continue
            near = low[max(0, m.start() - 12) : m.end() + 12]
            if float(n) <= 31 and any(month in near for month in MONTHS):
                continue
            out.setdefault(n, m.group(0).strip())
    return out


def _mark(sentence: str, different: set[str]) -> str:
    """The sentence with the words in `different` (compared folded) in **bold**."""
    return re.sub(
        r"[\w€$£%.,]+",
        lambda m: (
            f"**{m.group(0)}**"
            if words(m.group(0)) and set(words(m.group(0))) & different
            else m.group(0)
        ),
        sentence,
    )


def _word_diff(mine: str, theirs: str) -> tuple[float, list[tuple[str, str]], set[str]]:
    """difflib ratio of two word sequences, the differing runs (mine, theirs) and the words
    of theirs that differ."""
    a, b = words(mine), words(theirs)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    diffs, marked = [], set()
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            diffs.append((" ".join(a[i1:i2]), " ".join(b[j1:j2])))
            marked.update(b[j1:j2])
    return matcher.ratio(), diffs, marked


def _window_ratio(quote: str, sentence: str) -> float:
    """Best difflib ratio of the quote against stretches of the sentence as long as it."""
    a, b = words(quote), words(sentence)
    if len(b) <= len(a):
        return 0.0
    return max(
        difflib.SequenceMatcher(a=a, b=b[i : i + len(a)], autojunk=False).ratio()
        for i in range(len(b) - len(a) + 1)
    )


def _quote_diffs(quote: str, sentence: str) -> list[tuple[str, str]]:
    """The differing words between the quote and the stretch of sentence it best matches."""
    a, b = words(quote), words(sentence)
    if len(b) > len(a):
        starts = range(len(b) - len(a) + 1)
        i = max(starts, key=lambda i: difflib.SequenceMatcher(a=a, b=b[i : i + len(a)]).ratio())
        b = b[i : i + len(a)]
    _, diffs, _ = _word_diff(" ".join(a), " ".join(b))
    # only changes of meaning: a content word or a figure, not "the" for "a"
    return [(x, y) for x, y in diffs if set(words(f"{x} {y}")) - STOPWORDS]


def is_clash(reason: str) -> bool:
    return reason.startswith(CLASH_REASONS)


def source_names(motion: Motion, passages: list[Passage]) -> dict[str, str]:
    """{lower-case name: source_id} for the publishers (and their parts: 'Reuters (via
    Swissinfo)' gives 'reuters' and 'swissinfo') and authors of the motion's sources."""
    names: dict[str, str] = {}
    for p in passages:
        for raw in [p.publisher, p.author]:
            for part in re.split(r"\(|\)|,| via | and ", raw or ""):
                part = re.sub(r"^(the)\s+", "", part.strip(), flags=re.I).strip()
                if len(part) >= 3:
                    names.setdefault(part.lower(), p.source_id)
    return names


_ATTRIBUTED = re.compile(
    r"\baccording to (?:the )?([A-Z][\w.&'’-]*(?:\s+[A-Z][\w.&'’-]*)*)"
    r"|\b(?:the )?([A-Z][\w.&'’-]*(?:\s+[A-Z][\w.&'’-]*)*)\s+(?:has\s+)?(?:reported|reports|says|"
    r"said|writes|wrote|notes|noted|found|finds|puts it|points out|pointed out|states|stated)\b",
)


# ---------------------------------------------------------------- the checks
class EvidenceChecks:
    """Quote, figure and attribution checks on one motion (retriever and names built once)."""

    def __init__(self, motion: Motion, settings: Settings):
        self.motion = motion
        self.settings = settings
        self.retriever = get_retriever(motion, settings)
        self.passages = self.retriever.all_passages()
        self.names = source_names(motion, self.passages)

    def check(self, claim: str, passage: Passage):
        return check_claim(claim, [(1, passage)], model_path=self.settings.model_path)

    def search(self, text: str, k: int = CLAIM_PASSAGES) -> list[Passage]:
        return [r.passage for r in self.retriever.search(text, k=k)]

    def best_sentence(self, text: str, passages: list[Passage]):
        return best_sentence(text, passages, self.settings)

    def quoted_passages(self, sentence: str) -> list[Passage]:
        """Passages that hold every quotation of the sentence (three words or more) word
        for word: a claim resting on them stands on that passage."""
        quotes = [q.text for q in quotes_in(sentence) if len(words(q.text)) >= QUOTE_MIN_WORDS]
        if not quotes:
            return []
        return [p for p in self.passages if all(find_quote(q, p.text) for q in quotes)]

    # -------------------------------------------------------- quotes
    def check_quote(self, quote: str, sentence: str) -> QuoteCheck:
        claim = claim_text(sentence)
        found = self._verbatim(quote, sentence, claim)
        if found:
            return found
        candidates = self.search(quote, k=6)
        return self._near_verbatim(quote, sentence, claim, candidates) or self._not_found(
            quote, sentence, candidates
        )

    def _verbatim(self, quote: str, sentence: str, claim: str) -> QuoteCheck | None:
        """The first passage holding the quote word for word, unless the sentence uses it
        against its sense."""
        for p in self.passages:
            at = find_quote(quote, p.text)
            if not at:
                continue
            source = SourceSentence(p, *sentence_at(p.text, at[0]))
            check = self.check(claim, p)
            if is_clash(check.reason):  # right words, used to say the opposite
                message = (
                    f"the words are in {p.publisher}, but used against their sense ({check.reason})"
                )
                return QuoteCheck(
                    "quote", quote, sentence, "misused", False, message, source=source
                )
            message = f"in {p.publisher}, word for word"
            return QuoteCheck("quote", quote, sentence, "verbatim", True, message, source=source)
        return None

    def _near_verbatim(
        self, quote: str, sentence: str, claim: str, candidates: list[Passage]
    ) -> QuoteCheck | None:
        """The candidates' sentence nearest the quote, when at least NEAR_VERBATIM alike."""
        best, best_ratio = None, 0.0
        for p in candidates:
            for s, e in sentence_spans(p.text):
                # the whole sentence, or its stretch as long as the quote
                ratio = max(_word_diff(quote, p.text[s:e])[0], _window_ratio(quote, p.text[s:e]))
                if ratio > best_ratio:
                    best, best_ratio = SourceSentence(p, s, e), ratio
        if best is None or best_ratio < NEAR_VERBATIM:
            return None
        diffs = _quote_diffs(quote, best.sentence)
        said = "; ".join(f'you wrote "{a}", the source "{b}"' for a, b in diffs)
        publisher = best.passage.publisher
        return QuoteCheck(
            "quote",
            quote,
            sentence,
            "near-verbatim",
            self.check(claim, best.passage).ok,
            f"nearly word for word in {publisher}: {said}" if diffs else f"in {publisher}",
            diffs,
            _mark(best.sentence, {w for _, b in diffs for w in words(b)}),
            best,
        )

    def _not_found(self, quote: str, sentence: str, candidates: list[Passage]) -> QuoteCheck:
        best, _ = self.best_sentence(quote, candidates)
        where = f"; the closest passage ({best.passage.publisher}) says otherwise" if best else ""
        message = f"these words are in none of the motion's sources{where}"
        return QuoteCheck("quote", quote, sentence, "none", False, message, source=best)

    # -------------------------------------------------------- figures
    def check_figures(self, sentence: str) -> QuoteCheck | None:
        mine = figures(sentence)
        if not mine:
            return None
        claim = claim_text(sentence)
        passages = self.search(claim)
        shown = ", ".join(mine.values())
        for p in passages:  # a passage the checker accepts holds every figure
            if self.check(claim, p).ok:
                best, _ = self.best_sentence(claim, [p])
                message = f"{shown}: as in {p.publisher}"
                return QuoteCheck("statistic", shown, sentence, "found", True, message, source=best)
        best, sim = self.best_sentence(claim, passages)
        return _figures_compared(sentence, mine, best, sim)

    # -------------------------------------------------------- attribution
    def check_attribution(self, sentence: str) -> Attribution | None:
        named = self._named_source(sentence)
        if isinstance(named, Attribution) or named is None:
            return named
        claim = claim_text(sentence)
        own = [p for p in self.passages if named in f"{p.publisher} {p.author}".lower()]
        mentioning = [p for p in self.passages if named in p.text.lower() and p not in own]
        quoted = self.quoted_passages(sentence)
        for p in own + mentioning:
            check = self.check(claim, p)
            if check.ok or (p in quoted and not is_clash(check.reason)):
                return Attribution(sentence, named, True, True, f"{p.publisher} says this")
        label = own[0].publisher if own else named.title()
        # who else says it: the claim without "X reported that" / "according to X,"
        bare = _ATTRIBUTED.sub("", claim, count=1)
        bare = re.sub(r"^\W*(that\s+)?", "", bare).strip() or claim
        bare = bare[:1].upper() + bare[1:]
        backed = next(
            (p for p in self.search(bare) if p not in own and self.check(bare, p).ok), None
        )
        elsewhere = f"; {backed.publisher} does" if backed else ""
        return Attribution(sentence, label, True, False, f"{label} does not say this{elsewhere}")

    @cached_property
    def _subjects(self) -> set[str]:
        """The words of the motion's thesis and contentions (lower case): the people and
        places the debate is about, who say things in the sources without being sources."""
        texts = [self.motion.thesis] + [
            c.claim for side in self.motion.contentions for c in self.motion.contentions_for(side)
        ]
        return {w.lower() for t in texts for w in re.findall(r"[\w’'-]+", t)}

    def _named_source(self, sentence: str) -> str | Attribution | None:
        """The source the sentence names (lower case): a source of the corpus, else a name
        it attributes the claim to; an Attribution when that name is nowhere in the corpus;
        None when it names no source."""
        low = sentence.lower()
        for name, _ in sorted(self.names.items(), key=lambda kv: -len(kv[0])):
            if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", low):
                return name
        m = _ATTRIBUTED.search(sentence)
        if not m:
            return None
        unknown = (m.group(1) or m.group(2)).strip()
        first = unknown.split()[0].lower()
        if first in STOPWORDS | {"he", "she", "it", "they"} or first in self._subjects:
            return None
        if any(unknown.lower() in p.text.lower() for p in self.passages):
            return unknown.lower()
        if len(unknown) < 4 or unknown in self.motion.thesis:
            return None
        message = (
            f"{unknown} is not among the motion's sources: the claim cannot be checked against it"
        )
        return Attribution(sentence, unknown, False, False, message)


def _figures_compared(
    sentence: str, mine: dict[str, str], best: SourceSentence | None, sim: float
) -> QuoteCheck:
    """The student's figures against the closest source sentence, when no passage the
    checker accepts holds them: differs, found (but the sentence unsupported) or none."""
    shown = ", ".join(mine.values())
    theirs = figures(best.sentence) if best else {}
    missing = (
        {n: w for n, w in mine.items() if n not in numbers_in(best.sentence)} if best else mine
    )
    extra = {n: w for n, w in theirs.items() if n not in mine}
    if best is not None and missing and extra and sim >= SAME_TOPIC:
        pairs = list(zip(missing.values(), extra.values(), strict=False))
        said = "; ".join(f"you said {a}; the source says {b}" for a, b in pairs)
        return QuoteCheck(
            "statistic",
            shown,
            sentence,
            "differs",
            False,
            f"{said} ({best.passage.publisher})",
            pairs,
            _mark(best.sentence, set(words(" ".join(w for _, w in pairs)))),
            best,
        )
    if best is not None and not missing:
        message = (
            f"{shown}: in {best.passage.publisher}, though the passage does "
            "not support the whole sentence"
        )
        return QuoteCheck("statistic", shown, sentence, "found", False, message, source=best)
    message = f"{', '.join(missing.values())}: not in the motion's sources"
    return QuoteCheck("statistic", shown, sentence, "none", False, message, source=best)
