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
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from debate.cards.card import clause_cut
from debate.check.citations import CITATION_RE, EvidenceList, Reply
from debate.check.faithfulness import check_claim, claim_text, is_factual
from debate.core.config import Settings
from debate.core.embeddings import embed_cached
from debate.core.errors import DebateError
from debate.core.text import STOPWORDS, fold_accents, quote_key, quoted_spans, sentence_spans
from debate.corpus import stance
from debate.corpus.motions import ROLE, SIDES, other_side
from debate.corpus.passages import Passage
from debate.search.retrieval import SIDE_STANCE
from debate.spar.blocks import block_answers
from debate.spar.engines.base import Engine
from debate.spar.message import looks_like_instruction
from debate.spar.plan import Point, SpeechRequest, TurnPlan, plan_turn

log = logging.getLogger(__name__)

MIN_QUOTE = 40
# A card quotes the words that carry the claim: a sentence or a clause of it, at most
# MAX_QUOTE_WORDS words (debate.cards.card.clause_cut; debaters cut cards, and the whole
# passage stays in the evidence panel).
DIRECT = "\x00direct"  # key of the candidates that answer the student's point itself
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
        sentence = clause_cut(sentence)
        if sentence is None:
            continue
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


def lower_first(text: str, names: frozenset[str] | None = None) -> str:
    """Lower-case a sentence's first word for use mid-sentence, unless it looks like a name
    ('Serbia', 'Vučić' stay as they are; 'The', 'Most', 'Anti-Western' do not). With `names`
    (words written capitalised inside sentences of the motion's text: see `names_in`), a
    capitalised first word that is not among them is lowered too ('Kids need ...')."""
    word = text.split(" ", 1)[0]
    common = (
        word.lower() in _COMMON_FIRST
        or word.lower() in STOPWORDS
        or word.lower().startswith(("anti-", "pro-", "non-"))
    )
    unknown = (
        names is not None
        and word[:1].isupper()
        and not word.isupper()
        and fold_accents(word.strip(",;:'’s")).lower() not in names
    )
    if common or unknown:
        return text[:1].lower() + text[1:]
    return text


_INNER_CAPITAL = re.compile(r"(?<=[a-z,;:] )[A-Z][\w’'-]+")


def names_in(texts: list[str]) -> frozenset[str]:
    """Words written with a capital inside a sentence (not at its start) in these texts,
    accent-folded and in lower case: the names a speech must keep capitalised."""
    return frozenset(
        fold_accents(m.group(0).strip("’'s")).lower()
        for t in texts
        for m in _INNER_CAPITAL.finditer(t)
    )


def _stance_of(passage: Passage, quote: str) -> float:
    """The stance score (toward the thesis) of the sentence a quote comes from; 0 when the
    passage was stored without scores."""
    start = passage.text.find(quote)
    score = stance.score_at(passage.stances, start, start + len(quote)) if start >= 0 else None
    return 0.0 if score is None else score


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
    each) and with the student's point, and its stance toward our side."""

    best_own: np.ndarray
    best_other: np.ndarray
    margins: np.ndarray
    fits: np.ndarray
    to_point: np.ndarray
    has_point: bool
    own_stance: np.ndarray  # the sentence's stance score, signed so that > 0 argues our side
    lean: dict = field(default_factory=dict)  # passage id -> mean side lean of its sentences


# Which sentences argue our side. Three signals: the source's label (a prior: a source the
# coach labelled for our side argues it, one labelled for theirs argues theirs), the
# sentence's own stance score (read at ingest, debate.corpus.stance), and how much closer
# it sounds to our contentions than to theirs (margin). A sentence of a source labelled
# for the other side is quoted only as a turn: when its own stance clearly argues ours.
# On the dev split of evals/clash (1,799 pool sentences of labelled sources, 82% ours), the
# margin alone told ours from theirs with AUC 0.70 and the stance score with 0.61; together
# (margin + 0.1 stance > 0) they kept 67% of sentences, 90% of them ours. A source without a
# label, or a mixed one, is held to that bar; one labelled ours to a looser one.
STANCE_WEIGHT = 0.1  # one unit of stance score counts as this much margin
PRIOR = {"own": 0.04, "other": -0.06, "mixed": -0.05, "": -0.05}
SIDE_MIN = 0.0  # side score at or below this: not ours
TURN_STANCE_MIN = 0.6  # a turn (their source, our stance) needs a stance score this clear


def _passage_leans(keys: list[tuple[str, str]], sim: _Similarities) -> dict[str, float]:
    """Per passage, the mean of margin + STANCE_WEIGHT * stance over its quotable sentences."""
    sums: dict[str, list[float]] = {}
    for i, (pid, _) in enumerate(keys):
        sums.setdefault(pid, []).append(
            float(sim.margins[i]) + STANCE_WEIGHT * float(sim.own_stance[i])
        )
    return {pid: sum(v) / len(v) for pid, v in sums.items()}


def _prior(stance: str, wanted: str) -> str:
    if stance in ("", "mixed"):
        return stance
    return "own" if stance == wanted else "other"


def side_score(prior: str, margin: float, own_stance: float) -> float:
    return margin + STANCE_WEIGHT * own_stance + PRIOR[prior]


# A sentence of a source with no label (or a mixed one) is ours when its passage, on the
# whole, leans to our side (the mean of margin + STANCE_WEIGHT * stance over the passage's
# sentences above PASSAGE_LEAN_MIN) and the sentence itself does not clearly lean to theirs
# (above UNLABELLED_SENTENCE_MIN). On the dev split of evals/clash, with the labels hidden, the
# passage mean told ours from theirs with AUC 0.81 against 0.72 for the sentence alone; this
# rule kept 60% of sentences, 93% of them ours (the sentence rule alone: 67%, 90%).
PASSAGE_LEAN_MIN = 0.02
UNLABELLED_SENTENCE_MIN = -0.1


def _on_side(prior: str, margin: float, own_stance: float, passage_lean: float) -> bool:
    """Stay on side (see STANCE_WEIGHT): embeddings judge topic better than polarity, so
    the stance score and the source's label decide with the margin."""
    if prior == "other":
        return own_stance >= TURN_STANCE_MIN and margin > -0.02
    if prior in ("", "mixed"):
        sentence = margin + STANCE_WEIGHT * own_stance
        return passage_lean > PASSAGE_LEAN_MIN and sentence > UNLABELLED_SENTENCE_MIN
    return side_score(prior, margin, own_stance) > SIDE_MIN


# The answer to the student's point (clash), scored per sentence as
#   CLASH_POINT * cos(sentence, point) + CLASH_STANCE * own stance + CLASH_MARGIN * margin
#   + CLASH_FOUND * (its passage was found by searching the point)
# with weights chosen on the dev split of evals/clash (41 messages; debate/tools/fit_clash.py,
# 2026-12-04): the grid's best hit@2 was 0.73 and hit@3 0.83, against 0.59 / 0.71 for the
# earlier guess (margin 0.5, stance 0.1, found 0.05). The contention margin only hurt: the
# clash is about the point, not about our contentions. Cards pass the contentions' side
# filter too (_on_side; on dev, with it: hit@2 0.68 and 83% of cards graded or from our
# sources; with a looser floor of -0.1: 0.63 and 72%; with none: 0.71 and about half), and
# CLASH_TURN_FLOOR: a sentence of a source labelled for their side is a turn only when its
# stance score argues ours (on dev: the same hit@2, 84% instead of 83%). Below CLASH_MIN nothing answers the point, and the speech says so and outweighs.
CLASH_POINT = 1.0
CLASH_STANCE = 0.05
CLASH_MARGIN = 0.0
CLASH_FOUND = 0.0
CLASH_TURN_FLOOR = 0.3
CLASH_MIN = 0.3
# A sentence this close to the student's point (cosine) says what they said: it is no answer
# (on dev, leaving such sentences out kept hit@2 at 0.71 and stopped cards that restate it).
CLASH_RESTATES = 0.7
CLASH_CARDS = {"rebuttal": 2, "closing": 1, "question": 2}
# A card denies the point (rather than mitigating it) when it argues our side this clearly
# and is this close to the point.
DENY_STANCE, DENY_RELEVANCE = 0.5, 0.5
# A contention of ours counts as answered by the student when one of their sentences is at
# least this close to it; below, a rebuttal extends it as dropped.
ANSWERED_MIN = 0.5
# Two quotes at least this close (cosine of their embeddings) say the same thing: a round
# quotes only one of them.
NEAR_DUPLICATE = 0.9


_NAME = re.compile(r"\b[A-ZČĆŠŽĐ][\w’'-]{2,}")


def _names(text: str) -> dict[str, str]:
    """The capitalised words of text, by their folded lower-case form."""
    return {fold_accents(w.lower()): w for w in _NAME.findall(text)}


def _false_friend(sentence: str, names: dict[str, str]) -> bool:
    """Does the sentence name something that only looks like a name of the contention once
    accents and case are folded ("NIS", an oil company, for "Niš", a city)? The embedding
    model folds them too, so such a sentence fits the contention for the wrong reason."""
    for word in _NAME.findall(sentence):
        if word.lower() in STOPWORDS:
            continue
        theirs = names.get(fold_accents(word.lower()))
        if theirs is not None and theirs != word:
            accents = fold_accents(word) != word or fold_accents(theirs) != theirs
            acronym = word.isupper() != theirs.isupper() and min(len(word), len(theirs)) <= 5
            if accents or acronym:
                return True
    return False


def clash_score(rel: float, own_stance: float, margin: float, found: bool) -> float:
    return (
        CLASH_POINT * rel
        + CLASH_STANCE * own_stance
        + CLASH_MARGIN * margin
        + (CLASH_FOUND if found else 0.0)
    )


class EvidenceEngine(Engine):
    name = "evidence"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.templates = load_templates(str(settings.prompts_dir))

    # -- choosing quotations -------------------------------------------------------------
    def candidates(self, request: SpeechRequest, plan: TurnPlan) -> dict[str, list[Candidate]]:
        """For each chosen contention, quotable sentences from the turn's passages, best
        first. Score = closeness to the contention, plus closeness to the student's point,
        plus how much more the sentence argues our side than the other side. Under DIRECT,
        the sentences that answer the student's point (clash_score), best first."""
        wanted = SIDE_STANCE[request.side]
        # Concessions inside a source of our own stance argue the other side: skip them.
        sentences = {
            (p.id, q): p
            for p in plan.pool
            for q in quotable(p, skip_concessions=p.stance == wanted)
        }
        keys = list(sentences)
        sim = self._similarities(request, plan, keys, sentences)
        sim.lean = _passage_leans(keys, sim)
        result: dict[str, list[Candidate]] = {DIRECT: []}
        for j, pt in enumerate(plan.points):
            result[pt.contention.claim] = self._for_point(j, pt, keys, sentences, sim, wanted)
        if sim.has_point:  # sentences that meet the student's point itself
            found = {p.id for p in plan.point_passages}
            for i, (pid, quote) in enumerate(keys):
                passage = sentences[(pid, quote)]
                margin, own = float(sim.margins[i]), float(sim.own_stance[i])
                prior = _prior(passage.stance, wanted)
                if prior == "other":
                    if own < CLASH_TURN_FLOOR or side_score(prior, margin, own) <= SIDE_MIN:
                        continue
                elif not _on_side(prior, margin, own, sim.lean[pid]):
                    continue
                rel = float(sim.to_point[i])
                if rel >= CLASH_RESTATES:
                    continue
                score = clash_score(rel, own, margin, pid in found)
                result[DIRECT].append(Candidate(passage, quote, score, rel))
            result[DIRECT].sort(key=lambda c: -c.score)
        return result

    def _for_point(self, j, pt: Point, keys, sentences, sim, wanted: str) -> list[Candidate]:
        point_ids = {p.id for p in pt.passages}
        scored = []
        names = _names(pt.contention.claim)
        for i, (pid, quote) in enumerate(keys):
            passage = sentences[(pid, quote)]
            if _false_friend(quote, names):
                continue
            margin, own = float(sim.margins[i]), float(sim.own_stance[i])
            prior = _prior(passage.stance, wanted)
            if not _on_side(prior, margin, own, sim.lean[pid]):
                continue
            # Fit: the sentence must be about this contention more than (or about as much
            # as) any other claim of either side; embeddings rank topics well even where
            # their absolute similarities are all alike.
            fit = float(sim.fits[i, j])
            if fit < max(sim.best_own[i], sim.best_other[i]) - FIT_SLACK:
                continue
            score = fit + 0.6 * side_score(prior, margin, own)
            score += 0.05 if pid in point_ids else 0.0
            if sim.has_point:
                score += 0.25 * float(sim.to_point[i])
            scored.append(Candidate(passage, quote, score, fit))
        return sorted(scored, key=lambda c: -c.score)

    def _similarities(self, request: SpeechRequest, plan: TurnPlan, keys, sentences):
        """Cosines of the quotable sentences with our contentions, the other side's, the
        turn's chosen contentions and the student's point (one matrix product each), and
        each sentence's stance toward our side."""
        motion, side = request.motion, request.side
        texts = [q for _, q in keys]
        own_claims = [c.claim for c in motion.contentions_for(side)]
        other_claims = [c.claim for c in motion.contentions_for(other_side(side))]
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
        sign = 1.0 if side == "defend" else -1.0
        own_stance = np.array(
            [sign * _stance_of(sentences[k], k[1]) for k in keys], dtype=np.float32
        )
        return _Similarities(
            best_own=best_own,
            best_other=best_other,
            margins=best_own - best_other,
            fits=sent_v @ claim_v.T if n_s else np.zeros((0, len(claims))),
            to_point=sent_v @ point_v if point_v is not None and n_s else np.zeros(n_s),
            has_point=point_v is not None,
            own_stance=own_stance,
        )

    def pick(
        self,
        ranked: list[Candidate],
        taken: set[str],
        used: frozenset[str],
        n: int,
        allow_repeat: bool = True,
        taken_texts: list[str] | None = None,
    ) -> list[Candidate]:
        """Best n candidates not yet used in this speech nor earlier in the debate, and not
        saying the same as one of taken_texts (the round's quotes so far, by meaning: see
        NEAR_DUPLICATE). Only when nothing fresh is left (and allow_repeat) is one earlier
        quote used again, so that a contention is never argued without evidence."""
        taken_texts = [] if taken_texts is None else taken_texts
        fresh = [c for c in ranked if quote_key(c.quote) not in taken | used]
        chosen: list[Candidate] = []
        for c in fresh:
            if len(chosen) == n:
                break
            if quote_key(c.quote) in taken or self._repeats(c.quote, taken_texts):
                continue
            # two quotes from one passage in one point read as padding: vary the source
            if chosen and any(c.passage.id == x.passage.id for x in chosen) and len(fresh) > n:
                continue
            chosen.append(c)
            taken.add(quote_key(c.quote))
            taken_texts.append(c.quote)
        if not chosen and allow_repeat:
            repeat = [c for c in ranked if quote_key(c.quote) in used - taken]
            if repeat:
                chosen.append(repeat[0])
                taken.add(quote_key(repeat[0].quote))
        return chosen

    def _repeats(self, quote: str, others: list[str]) -> bool:
        if not others:
            return False
        vectors = embed_cached([quote, *others], self.settings)
        return float((vectors[1:] @ vectors[0]).max()) >= NEAR_DUPLICATE

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
        answer = self._clash(request, plan, candidates[DIRECT], speech)
        if answer:
            paragraphs.append(answer)
        leads = speech.rng.choice(t["point_lead"][phase])
        claims_made = []
        # Fresh quotations only, reserves included: a round never quotes the same words (or
        # words that say the same) twice; a contention with nothing fresh left is skipped.
        for allow_repeat in (False,):
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
        elif phase == "rebuttal":  # extend what the student dropped
            dropped = self.dropped(request, claims_made)
            if dropped:
                paragraphs.append(speech.line(t["extend"], dropped=_joined(dropped)))
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

    def _clash(
        self, request: SpeechRequest, plan: TurnPlan, ranked: list[Candidate], speech: _Speech
    ) -> str:
        """The answer to the student's point, first (not in an opening): up to CLASH_CARDS
        cards from different passages, each framed by the kind of answer it is (a turn when
        it comes from a source of their side, a denial when it clearly argues ours, else a
        mitigation), then why it matters. When nothing answers the point, say so and
        outweigh. "" when there is no point to answer."""
        phase, t = request.phase, self.templates
        if not plan.point_text or phase == "opening":
            return ""
        answers = self._coached(request, plan) + [c for c in ranked if c.score >= CLASH_MIN]
        cards = self.pick(
            answers,
            speech.taken,
            request.used_quotes,
            CLASH_CARDS.get(phase, 1),
            False,
            speech.quoted,
        )
        if not cards:
            return speech.line(t["outweigh"])
        lines = []
        for i, c in enumerate(cards):
            kind = "more" if i else self._kind(c, request)
            lines.append(
                speech.line(
                    t["clash"][kind],
                    quote=c.quote,
                    n=speech.number(c.passage),
                    publisher=c.passage.publisher,
                )
            )
        lines.append(speech.line(t["clash_therefore"]))
        return " ".join(lines)

    def clash_cards(self, request: SpeechRequest, plan: TurnPlan) -> list[tuple[Candidate, str]]:
        """The cards that answer the student's point, best first, with the kind of answer
        each is (deny, mitigate or turn): what the LLM engine's prompt carries."""
        if not plan.point_text or request.phase == "opening":
            return []
        ranked = [c for c in self.candidates(request, plan)[DIRECT] if c.score >= CLASH_MIN]
        ranked = self._coached(request, plan) + ranked
        cards = self.pick(ranked, set(), request.used_quotes, CLASH_CARDS.get(request.phase, 1))
        return [(c, self._kind(c, request)) for c in cards]

    @staticmethod
    def _coached(request: SpeechRequest, plan: TurnPlan) -> list[Candidate]:
        """The coach's block for the contention the student's point makes (motion.yaml
        `blocks:`; debate.spar.blocks), as cards that come before any the engine finds.
        Responses that are the coach's own analysis carry no card and are left out here."""
        return [
            Candidate(a.passage, a.card().body, float("inf"), 1.0)
            for a in block_answers(request, plan.point_text)
            if a.passage is not None
        ]

    @staticmethod
    def _kind(card: Candidate, request: SpeechRequest) -> str:
        wanted = SIDE_STANCE[request.side]
        if _prior(card.passage.stance, wanted) == "other":
            return "turn"
        sign = 1.0 if request.side == "defend" else -1.0
        own = sign * _stance_of(card.passage, card.quote)
        return "deny" if own >= DENY_STANCE and card.relevance >= DENY_RELEVANCE else "mitigate"

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
            speech.quoted,
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

    def dropped(self, request: SpeechRequest, claims_made: list[str]) -> list[str]:
        """Our contentions argued in earlier speeches (not this one) that no student message
        since has come near (cosine below ANSWERED_MIN with every sentence of theirs)."""
        earlier: dict[str, int] = {}
        for i, turn in enumerate(request.history):
            if getattr(turn, "speaker", "") != "bot":
                continue
            for c in request.motion.contentions_for(request.side):
                if c.claim in turn.text and c.claim not in claims_made:
                    earlier.setdefault(c.claim, i)
        if not earlier:
            return []
        replies = [request.student_text] + [
            t.text for t in request.history if getattr(t, "speaker", "") == "student"
        ]
        said = [s for text in replies for s in _sentences(text)]
        claims = list(earlier)
        if not said:
            return claims
        vectors = embed_cached(claims + said, self.settings)
        closest = (vectors[: len(claims)] @ vectors[len(claims) :].T).max(axis=1)
        return [c for c, best in zip(claims, closest, strict=True) if best < ANSWERED_MIN]

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
        return speech.line(self.templates["recap"], recap=_joined(recap))


def _joined(claims: list[str]) -> str:
    """Claims as one clause: "X, that Y, or that Z" (each starting in lower case)."""
    body = [lower_first(c.rstrip(".")) for c in claims]
    return body[0] if len(body) == 1 else ", that ".join(body[:-1]) + ", or that " + body[-1]


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text or "")]


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
            "point_body": lower_first(
                plan.point_text.rstrip(".!?…"),
                names_in(
                    [request.motion.thesis, *(p.text for p in plan.pool)]
                    + [c.claim for s in SIDES for c in request.motion.contentions_for(s)]
                ),
            ),
        }
        self.taken: set[str] = set()
        # The round's quotes so far (earlier speeches, then this one's): none is said twice.
        self.quoted: list[str] = [
            q for text in request.previous_bot_texts() for q in quoted_spans(text)
        ]
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
