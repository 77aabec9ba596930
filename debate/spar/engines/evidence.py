"""The offline evidence engine: a debate speech with no language model.

It takes the bot-side contentions that clash best with the student's message (see
`plan_turn`), finds for each the passage sentences that back it best, and joins them with
the speech templates in prompts/evidence_templates.yaml. Quotations are exact substrings of
the passage they cite, so every citation is faithful by construction. A quotation is used
at most once per debate when another candidate exists.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Generator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from debate.check.citations import CITATION_RE, EvidenceList, Reply
from debate.check.faithfulness import check_claim, claim_text, is_factual
from debate.core.config import Settings
from debate.core.embeddings import embed_cached
from debate.core.errors import DebateError
from debate.core.text import STOPWORDS, quote_key, sentence_spans
from debate.corpus.motions import ROLE, other_side
from debate.corpus.passages import Passage
from debate.search.retrieval import SIDE_STANCE
from debate.spar.engines.base import Engine
from debate.spar.message import looks_like_instruction
from debate.spar.plan import Point, SpeechRequest, TurnPlan, plan_turn

log = logging.getLogger(__name__)

MIN_QUOTE, MAX_QUOTE = 40, 320
DIRECT = "\x00direct"  # key of the candidates that answer the student's point itself
# How close a sentence must be to the student's words to be quoted as a direct answer:
# a question deserves an answer even from looser evidence.
DIRECT_MIN_RELEVANCE = {"question": 0.4, "rebuttal": 0.55, "closing": 0.55}
# A quotation must be at least this close to the contention it backs (else the point is
# skipped for a reserve one rather than padded with a loosely related quote).
MIN_RELEVANCE = 0.35
FIT_SLACK = 0.03
QUOTES_PER_POINT = {"opening": 2, "rebuttal": 2, "closing": 1, "question": 2}


@lru_cache(maxsize=4)
def load_templates(prompts_dir: str) -> dict:
    path = Path(prompts_dir) / "evidence_templates.yaml"
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DebateError(f"cannot read speech templates {path}: {exc}") from exc


@dataclass(frozen=True)
class Candidate:
    passage: Passage
    quote: str  # exact substring of passage.text
    score: float
    relevance: float = 0.0  # similarity to what it is chosen for (contention or point)


# A sentence that turns the argument ("However, ...", "Critics note, however, ...").
_TURN = re.compile(
    r"^(however|but|yet|still|nevertheless|nonetheless)\b|^\S+( \S+){0,3},? however\b",
    re.IGNORECASE,
)


def concessions(passage: Passage) -> set[int]:
    """Start offsets of the sentences a passage concedes before turning its argument: in
    'X is true. Y too. Critics note, however, that Z.' the author argues Z, not X or Y."""
    return _concession_starts(passage.text)


def _concession_starts(text: str) -> set[int]:
    spans = sentence_spans(text)
    turns = [i for i, (s, e) in enumerate(spans) if i and _TURN.search(text[s:e])]
    return {spans[i][0] for i in range(turns[-1])} if turns else set()


def quotable(passage: Passage, skip_concessions: bool = False) -> list[str]:
    """Sentences (or leading clauses of long ones) of a passage that can be quoted cleanly:
    no inner double quotes (they would break the quote boundaries), no [n] markers or
    instructions (text inside a source is material, never orders), not a bare heading."""
    return list(_quotable(passage.text, skip_concessions))


@lru_cache(maxsize=20_000)
def _quotable(text: str, skip_concessions: bool) -> tuple[str, ...]:
    # Keyed by the passage's text (not its id): an edited source can never reuse the
    # sentences of the text it replaced. Memoised: a turn's pool comes back turn after turn.
    out = []
    conceded = _concession_starts(text) if skip_concessions else set()
    for s, e in sentence_spans(text):
        if s in conceded:
            continue
        sentence = text[s:e]
        if not re.search(r"\b[A-Z]\.$", sentence):  # keep the dot of "U.S." at a sentence end
            sentence = sentence.rstrip(".;:")
        if len(sentence) > MAX_QUOTE:  # cut at a clause boundary, still an exact substring
            cut = max(sentence.rfind("; ", 0, MAX_QUOTE), sentence.rfind(", ", 0, MAX_QUOTE))
            if cut < MIN_QUOTE * 2:
                continue
            sentence = sentence[:cut]
        if len(sentence) < MIN_QUOTE or text[e - 1 : e] == ":":
            continue
        if any(q in sentence for q in '"“”') or CITATION_RE.search(sentence) or "[" in sentence:
            continue
        if looks_like_instruction(sentence):
            continue
        out.append(sentence)
    return tuple(out)


_COMMON_FIRST = frozenset(
    "the a an it its this that these those there we they our their most many some all no not "
    "only even both each every one two three several few more less".split()
)


def lower_first(text: str) -> str:
    """Lower-case a sentence's first word for use mid-sentence, unless it looks like a name
    ('Serbia', 'Vučić' stay as they are; 'The', 'Most', 'Anti-Western' do not)."""
    word = text.split(" ", 1)[0]
    if (
        word.lower() in _COMMON_FIRST
        or word.lower() in STOPWORDS
        or word.lower().startswith(("anti-", "pro-", "non-"))
    ):
        return text[:1].lower() + text[1:]
    return text


def supporting_passage(
    sentence: str, passages: list[Passage], settings: Settings
) -> Passage | None:
    """The first passage the citation checker accepts as support for sentence."""
    claim = claim_text(sentence)
    for passage in dict.fromkeys(passages):
        if check_claim(claim, [(1, passage)], model_path=settings.model_path).ok:
            return passage
    return None


def states_facts(sentence: str) -> bool:
    """Would the citation checker count this sentence as a checkable factual claim?"""
    return is_factual(claim_text(sentence))


@dataclass
class _Similarities:
    """Per quotable sentence: its best cosine with our contentions and with the other
    side's, their difference, its cosine with each chosen contention (fits, one column
    each) and with the student's point."""

    best_own: np.ndarray
    best_other: np.ndarray
    margins: np.ndarray
    fits: np.ndarray
    to_point: np.ndarray
    has_point: bool


def _on_side(stance: str, margin: float, wanted: str) -> bool:
    """Stay on side. Sources argue for the side of their stance: never quote one that
    opposes ours. Within our sources and mixed ones, drop sentences closer to the other
    side's contentions than to ours (concessions, counter-arguments); embeddings judge
    topic better than polarity, so stance comes first."""
    if stance == wanted or stance == "":
        return margin > -0.05
    return stance == "mixed" and margin > 0.03


class EvidenceEngine(Engine):
    name = "evidence"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.templates = load_templates(str(settings.prompts_dir))

    # -- choosing quotations -------------------------------------------------------------
    def candidates(self, request: SpeechRequest, plan: TurnPlan) -> dict[str, list[Candidate]]:
        """For each chosen contention, quotable sentences from the turn's passages, best
        first. Score = closeness to the contention, plus closeness to the student's point,
        plus how much more the sentence sounds like our side than the other side."""
        wanted = SIDE_STANCE[request.side]
        # Concessions inside a source of our own stance argue the other side: skip them.
        sentences = {
            (p.id, q): p
            for p in plan.pool
            for q in quotable(p, skip_concessions=p.stance == wanted)
        }
        keys = list(sentences)
        sim = self._similarities(request, plan, [q for _, q in keys])
        result: dict[str, list[Candidate]] = {DIRECT: []}
        for j, pt in enumerate(plan.points):
            point_ids = {p.id for p in pt.passages}
            scored = []
            for i, (pid, quote) in enumerate(keys):
                passage = sentences[(pid, quote)]
                margin = float(sim.margins[i])
                if not _on_side(passage.stance, margin, wanted):
                    continue
                # Fit: the sentence must be about this contention more than (or about as much
                # as) any other claim of either side; embeddings rank topics well even where
                # their absolute similarities are all alike.
                fit = float(sim.fits[i, j])
                if fit < max(sim.best_own[i], sim.best_other[i]) - FIT_SLACK:
                    continue
                score = fit + 0.6 * margin + (0.05 if pid in point_ids else 0.0)
                score += 0.04 if passage.stance == wanted else 0.0
                if sim.has_point:
                    score += 0.25 * float(sim.to_point[i])
                scored.append(Candidate(passage, quote, score, fit))
            result[pt.contention.claim] = sorted(scored, key=lambda c: -c.score)
        if sim.has_point:  # sentences that meet the student's point itself
            for i, (pid, quote) in enumerate(keys):
                passage = sentences[(pid, quote)]
                margin = float(sim.margins[i])
                # stricter than for contentions: it answers their point, so it must clearly
                # argue one of ours, not merely share the student's topic
                if sim.best_own[i] >= 0.5 and _on_side(passage.stance, margin - 0.04, wanted):
                    rel = float(sim.to_point[i])
                    result[DIRECT].append(Candidate(passage, quote, rel + 0.6 * margin, rel))
            result[DIRECT].sort(key=lambda c: -c.score)
        return result

    def _similarities(self, request: SpeechRequest, plan: TurnPlan, texts: list[str]):
        """Cosines of the quotable sentences with our contentions, the other side's, the
        turn's chosen contentions and the student's point (one matrix product each)."""
        motion, side = request.motion, request.side
        other = other_side(side)
        own_claims = [c.claim for c in motion.contentions_for(side)]
        other_claims = [c.claim for c in motion.contentions_for(other)]
        claims = [pt.contention.claim for pt in plan.points]
        vectors = embed_cached(
            texts
            + own_claims
            + other_claims
            + claims
            + ([plan.point_text] if plan.point_text else []),
            self.settings,
        )
        n_s, n_own, n_other = len(texts), len(own_claims), len(other_claims)
        sent_v = vectors[:n_s]
        own_v = vectors[n_s : n_s + n_own]
        other_v = vectors[n_s + n_own : n_s + n_own + n_other]
        claim_v = vectors[n_s + n_own + n_other : n_s + n_own + n_other + len(claims)]
        point_v = vectors[-1] if plan.point_text else None
        best_own = (sent_v @ own_v.T).max(axis=1) if n_s else np.zeros(0)
        best_other = (sent_v @ other_v.T).max(axis=1) if n_s else np.zeros(0)
        return _Similarities(
            best_own=best_own,
            best_other=best_other,
            margins=best_own - best_other,
            fits=sent_v @ claim_v.T if n_s else np.zeros((0, len(claims))),
            to_point=sent_v @ point_v if point_v is not None and n_s else np.zeros(n_s),
            has_point=point_v is not None,
        )

    def pick(
        self,
        ranked: list[Candidate],
        taken: set[str],
        used: frozenset[str],
        n: int,
        allow_repeat: bool = True,
    ) -> list[Candidate]:
        """Best n candidates not yet used in this speech nor earlier in the debate. Only when
        nothing fresh is left (and allow_repeat) is one earlier quote used again, so that a
        contention is never argued without evidence."""
        fresh = [c for c in ranked if quote_key(c.quote) not in taken | used]
        chosen: list[Candidate] = []
        for c in fresh:
            if len(chosen) == n:
                break
            if quote_key(c.quote) in taken:
                continue
            # two quotes from one passage in one point read as padding: vary the source
            if chosen and any(c.passage.id == x.passage.id for x in chosen) and len(fresh) > n:
                continue
            chosen.append(c)
            taken.add(quote_key(c.quote))
        if not chosen and allow_repeat:
            repeat = [c for c in ranked if quote_key(c.quote) in used - taken]
            if repeat:
                chosen.append(repeat[0])
                taken.add(quote_key(repeat[0].quote))
        return chosen

    # -- writing the speech ----------------------------------------------------------------
    def stream(self, request: SpeechRequest) -> Generator[str, None, Reply]:
        reply = self.build(request)
        # Offline speeches are ready at once; stream them by paragraph for the same UI path.
        shown = ""
        for paragraph in reply.text.split("\n\n"):
            shown = f"{shown}\n\n{paragraph}" if shown else paragraph
            yield shown
        return reply

    def build(self, request: SpeechRequest, plan: TurnPlan | None = None) -> Reply:
        plan = plan or plan_turn(request)
        t = self.templates
        phase, side = request.phase, request.side
        # Template choices come from one seeded generator, in the order written below:
        # keep that order, or the same turn reads differently.
        speech = _Speech(request, plan)
        paragraphs = [self._opening(request, plan, speech)]
        candidates = self.candidates(request, plan)
        answer = self._direct_answer(request, plan, candidates[DIRECT], speech)
        if answer:
            paragraphs[-1] += " " + answer
        leads = speech.rng.choice(t["point_lead"][phase])
        claims_made = []
        # Fresh quotations first, reserves included; a quotation of an earlier speech is
        # used again only when no contention has a fresh one left.
        for allow_repeat in (False, True):
            for pt in plan.points:
                if len(claims_made) == plan.wanted:
                    break
                if pt.contention.claim in claims_made:
                    continue
                lead_template = leads[min(len(claims_made), len(leads) - 1)]
                paragraph = self._point(
                    request,
                    pt,
                    candidates[pt.contention.claim],
                    lead_template,
                    speech,
                    allow_repeat,
                )
                if paragraph:
                    claims_made.append(pt.contention.claim)
                    paragraphs.append(paragraph)
        if not claims_made:
            paragraphs.append(speech.line(t["no_evidence"]))
        if phase == "closing":  # recall what earlier speeches established, then close
            recap = self._recap(request, claims_made, speech)
            if recap:
                paragraphs.insert(1, recap)
        paragraphs.append(speech.line(t["conclusion"][phase]))
        text = "\n\n".join(p for p in paragraphs if p.strip())
        # Uncited passages follow the cited ones, so [n] in the text keeps its meaning.
        cited = speech.cited
        rest = [p for p in plan.pool if p not in cited]
        evidence = EvidenceList(cited + rest[: max(0, plan.size - len(cited))])
        return Reply(text=text, evidence=evidence, side=side, phase=phase, engine=self.name)

    def _opening(self, request: SpeechRequest, plan: TurnPlan, speech: _Speech) -> str:
        """The first paragraph: the intro, what the student said, and the pivot to our case."""
        t, line = self.templates, speech.line
        phase, side = request.phase, request.side
        opening_lines = [line(t["intro"].get(phase, []))]
        if request.student_argues_our_side:  # said first, plainly, before any rebuttal
            student = other_side(side)
            opening_lines.insert(
                0,
                line(
                    t["same_side"],
                    student_role=ROLE[student],
                    student_claim=request.motion.side_label(student).rstrip("."),
                ),
            )
        if plan.injection:
            opening_lines.append(line(t["injection"]))
        if plan.point_text:
            # Every way of naming their point is a question: we restate, never assert it.
            if plan.point_text.endswith("?"):
                address = t["address_question"]
            else:
                address = t["address_request"] if phase == "question" else t["address"][phase]
            opening_lines += [
                line(address),
                line(t["pivot"][phase]),
            ]
        return " ".join(x for x in opening_lines if x)

    def _direct_answer(
        self, request: SpeechRequest, plan: TurnPlan, ranked: list[Candidate], speech: _Speech
    ) -> str:
        """One quotation that answers the student's point itself (not in an opening), or ""."""
        phase = request.phase
        direct = [c for c in ranked if c.relevance >= DIRECT_MIN_RELEVANCE.get(phase, 1)]
        if not (plan.point_text and phase != "opening" and direct):
            return ""
        c = self.pick(direct, speech.taken, request.used_quotes, 1, allow_repeat=False)
        if not c:
            return ""
        return speech.line(
            self.templates["direct"][phase],
            quote=c[0].quote,
            n=speech.number(c[0].passage),
            publisher=c[0].passage.publisher,
        )

    def _point(
        self,
        request: SpeechRequest,
        pt: Point,
        ranked: list[Candidate],
        lead_template: str,
        speech: _Speech,
        allow_repeat: bool = True,
    ) -> str:
        """One contention's paragraph: its claim, then its quotations; "" when no quotation
        is close enough to back it (or, unless allow_repeat, none is fresh)."""
        t, phase = self.templates, request.phase
        relevant = [c for c in ranked if c.relevance >= MIN_RELEVANCE]
        quotes = self.pick(
            relevant,
            speech.taken,
            request.used_quotes,
            QUOTES_PER_POINT.get(phase, 1),
            allow_repeat,
        )
        if not quotes:
            return ""
        lead = lead_template.format(claim=pt.contention.claim)
        # The claim is the coach's argument; cite it only where the checker confirms a
        # passage of this turn supports it, else leave it as argument.
        backing = supporting_passage(lead, [c.passage for c in quotes] + pt.passages, self.settings)
        if backing is not None:
            lead = f"{lead.rstrip('.')} [{speech.number(backing)}]."
        elif states_facts(lead):
            lead = speech.line(
                t["unbacked_claim"],
                prefix=lead_template.split("{claim}")[0].strip(),
                claim_body=lower_first(pt.contention.claim.rstrip(".")),
            )
        sentences = [lead]
        for i, c in enumerate(quotes):
            n = speech.number(c.passage)
            if i == 0:
                pool = t["quote_first"]
            elif quotes[i - 1].passage.source_id == c.passage.source_id:
                pool = t["quote_more_same"]
            else:
                pool = t["quote_more"]
            sentences.append(speech.line(pool, quote=c.quote, n=n, publisher=c.passage.publisher))
        return " ".join(sentences)

    def _recap(self, request: SpeechRequest, claims_made: list[str], speech: _Speech) -> str:
        """In a closing, our contentions argued in earlier speeches and not in this one."""
        earlier = " ".join(request.previous_bot_texts())
        recap = [
            c.claim
            for c in request.motion.contentions_for(request.side)
            if c.claim in earlier and c.claim not in claims_made
        ]
        if not recap:
            return ""
        body = [lower_first(c.rstrip(".")) for c in recap]
        joined = body[0] if len(body) == 1 else ", that ".join(body[:-1]) + ", or that " + body[-1]
        return speech.line(self.templates["recap"], recap=joined)


class _Speech:
    """One speech being written: its seeded template choices, the quotations taken, and
    the evidence list, numbered in order of first citation."""

    def __init__(self, request: SpeechRequest, plan: TurnPlan):
        side, phase = request.side, request.phase
        self.rng = random.Random(f"{request.motion.id}|{side}|{phase}|{request.turn_number}")
        self.fill = {
            "side_role": ROLE[side],
            "side_claim": request.motion.side_label(side).rstrip("."),
            "thesis": request.motion.thesis.rstrip("."),
            "point": plan.point_text,
            "point_body": lower_first(plan.point_text.rstrip(".!?…")),
        }
        self.taken: set[str] = set()
        self.cited: list[Passage] = []

    def line(self, options: list[str], **extra) -> str:
        # Every template line starts a sentence: capitalise it even when it starts with
        # a name written in lower case ("pv magazine reports"), so sentences stay apart.
        text = self.rng.choice(options).format(**{**self.fill, **extra}) if options else ""
        return text[:1].upper() + text[1:]

    def number(self, passage: Passage) -> int:
        if passage not in self.cited:
            self.cited.append(passage)
        return self.cited.index(passage) + 1
