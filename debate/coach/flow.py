"""The flow sheet of a round, as debaters keep it: every argument either side made, the
later turns of the other side that answered it, and the ones dropped (never answered).

Arguments:
- the bot's: the contentions of its side it argued in a speech (found word for word, as the
  offline engine writes them, or as a sentence at least POINT_MIN close to the contention,
  as an LLM paraphrases them); a speech that argues none of them contributes its cited
  factual sentences instead (at most MAX_FALLBACK_POINTS);
- the student's: their claims (`student_claims`: sentences that are not questions and either
  state a checkable fact or argue, with at least CLAIM_MIN_WORDS content words).

Clash: each argument is paired with at most one sentence of a later turn by the other side,
and each sentence answers at most one argument (greedy, best pair first). A student answers
with their claims; the bot answers only with the content of its reply, the cards it used:
its sentences that carry a citation marker [n], each compared by its quoted card (the text
inside quotation marks) or, when it quotes nothing, by its own claim. A bot sentence
without a card never answers, so a speech that restates the student's point ("You say that
X; but does that decide this debate?") does not thereby answer X. A pair's score is
the cosine of their MiniLM embeddings plus TOPIC_BONUS for each topic word they share
(content words of three letters or more outside the thesis and the side labels, which
every sentence of the round shares: "gas", "Kosovo", "sanctions"); the sentence answers
the argument when the score reaches CLASH_MIN. Measured on tests/data/transcripts: answers
score 0.55-1.0, sentences about another contention 0.25-0.5 (everything in a round shares
its subject, so the cosine alone runs high).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from debate.check.citations import CITATION_RE
from debate.check.claims import claim_text, content_tokens, is_factual
from debate.core.config import Settings
from debate.core.embeddings import embed_cached
from debate.core.text import normalise, quoted_spans, sentence_spans, words
from debate.corpus.motions import ROLE, Motion, other_side
from debate.spar import transcript

log = logging.getLogger(__name__)

POINT_MIN = 0.7
MAX_FALLBACK_POINTS = 3
CLAIM_MIN_WORDS = 4
CLASH_MIN = 0.5
TOPIC_BONUS = 0.1


def student_claims(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of a student's turn that make a claim (see module doc)."""
    out = []
    for s, e in sentence_spans(text):
        claim = claim_text(text[s:e])
        if claim.rstrip(" \"'”’)").endswith("?"):
            continue
        if is_factual(claim) or len(content_tokens(claim)) >= CLAIM_MIN_WORDS:
            out.append((s, e))
    return out


def bot_points(text: str, motion: Motion, side: str, settings: Settings) -> list[str]:
    """The arguments of one bot speech: the contentions of its side that it argued (see
    module doc), in the order the speech makes them."""
    plain = normalise(CITATION_RE.sub("", text))
    found = []
    for c in motion.contentions_for(side):
        body = normalise(c.claim.rstrip("."))
        at = plain.find(body)
        if at < 0:  # the unbacked form lower-cases the first word: "... clear that serbia"
            at = plain.find(body[:1].lower() + body[1:])
        if at >= 0:
            found.append((at, c.claim))
    if found:
        return [claim for _, claim in sorted(found)]
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    claims = [c.claim for c in motion.contentions_for(side)]
    if sentences and claims:
        vectors = embed_cached(sentences + claims, settings)
        sims = vectors[: len(sentences)] @ vectors[len(sentences) :].T
        near = sorted(
            {
                int(sims[:, j].argmax()): claims[j]
                for j in range(len(claims))
                if sims[:, j].max() >= POINT_MIN
            }.items()
        )
        if near:
            return list(dict.fromkeys(claim for _, claim in near))
    cited = [s for s in sentences if CITATION_RE.search(s) and is_factual(claim_text(s))]
    return [claim_text(s) for s in cited[:MAX_FALLBACK_POINTS]]


def bot_answers(text: str) -> list[tuple[str, str]]:
    """The sentences of a bot speech that can answer an argument, each with what it answers
    with (see module doc): its quoted card, or its own claim when it quotes none (fewer than
    CLAIM_MIN_WORDS words). A sentence without a citation marker answers nothing: the
    speech's restatement of the student's point ("You say that X; but ...") is not a reply."""
    out = []
    for s, e in sentence_spans(text):
        sentence = text[s:e]
        if not CITATION_RE.search(sentence):
            continue
        card = " ".join(quoted_spans(sentence))
        enough = len(words(card)) >= CLAIM_MIN_WORDS
        out.append((sentence, card if enough else claim_text(sentence)))
    return out


def topic_words(motion: Motion) -> set[str]:
    """Words every sentence of this motion's round shares: not evidence of clash."""
    return content_tokens(" ".join([motion.thesis, *motion.sides.values()]))


def clash_matrix(
    arguments: list[str], sentences: list[str], motion: Motion, settings: Settings
) -> list[tuple[int, float]]:
    """For each argument, the sentence that answers it as (index, score), or (-1, best
    score) when none does, by the clash rule of the module doc."""
    if not arguments or not sentences:
        return [(-1, 0.0)] * len(arguments)
    vectors = embed_cached(arguments + sentences, settings)
    scores = vectors[: len(arguments)] @ vectors[len(arguments) :].T
    common = topic_words(motion)

    def topic(text: str) -> set[str]:
        return {t for t in content_tokens(text) - common if len(t) >= 3}

    theirs = [topic(s) for s in sentences]
    for i, argument in enumerate(arguments):
        mine = topic(argument)
        for j in range(len(sentences)):
            scores[i, j] += TOPIC_BONUS * len(mine & theirs[j])
    out = [(-1, float(scores[i].max())) for i in range(len(arguments))]
    free_args, free_sentences = set(range(len(arguments))), set(range(len(sentences)))
    pairs = sorted(
        ((float(scores[i, j]), i, j) for i in free_args for j in free_sentences), reverse=True
    )
    for score, i, j in pairs:
        if score < CLASH_MIN:
            break
        if i in free_args and j in free_sentences:
            out[i] = (j, score)
            free_args.discard(i)
            free_sentences.discard(j)
    return out


@dataclass
class Response:
    turn: int  # index of the answering turn in the round
    speaker: str
    text: str  # the sentence that answers
    similarity: float

    def to_dict(self) -> dict:
        return {**self.__dict__, "similarity": round(self.similarity, 3)}


@dataclass
class Argument:
    id: str  # B1, B2 ... for the bot, S1, S2 ... for the student
    speaker: str
    side: str  # the side this argument is for
    turn: int  # index of the turn that made it
    phase: str
    text: str
    responses: list[Response] = field(default_factory=list)
    extended: list[int] = field(default_factory=list)  # later turns that argued it again
    speech: str = ""  # the format's name of the speech that made it ("Con Constructive")

    @property
    def dropped(self) -> bool:
        return not self.responses

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "speaker": self.speaker,
            "side": self.side,
            "turn": self.turn,
            "phase": self.phase,
            "text": self.text,
            "responses": [r.to_dict() for r in self.responses],
            "extended": list(self.extended),
            "speech": self.speech,
            "dropped": self.dropped,
        }


@dataclass
class Flow:
    motion: str
    arguments: list[Argument]

    def dropped(self, speaker: str | None = None) -> list[Argument]:
        return [a for a in self.arguments if a.dropped and speaker in (None, a.speaker)]

    def of(self, speaker: str) -> list[Argument]:
        return [a for a in self.arguments if a.speaker == speaker]

    def to_dict(self) -> dict:
        return {
            "motion": self.motion,
            "arguments": [a.to_dict() for a in self.arguments],
            "dropped": [a.id for a in self.dropped()],
        }

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(id, who and turn, argument, responses or DROPPED) for tables."""
        out = []
        for a in self.arguments:
            who = (
                f"{'Bot' if a.speaker == 'bot' else 'Student'} ({ROLE[a.side]}), turn {a.turn + 1}"
                + (f", {a.speech}" if a.speech else "")
            )
            answers = "; ".join(f"turn {r.turn + 1}: {r.text}" for r in a.responses)
            out.append((a.id, who, a.text, answers or "DROPPED"))
        return out

    def to_markdown(self) -> str:
        def cell(text: str) -> str:
            return re.sub(r"\s+", " ", text).replace("|", "\\|")

        lines = ["| # | By | Argument | Answered by |", "|---|---|---|---|"]
        lines += [f"| {' | '.join(cell(x) for x in row)} |" for row in self.rows()]
        dropped = self.dropped()
        if dropped:
            lines += ["", "Dropped (never answered): " + ", ".join(a.id for a in dropped) + "."]
        return "\n".join(lines)


def build_from_turns(turns: list, motion: Motion, settings: Settings) -> Flow:
    """The flow of a round given its turns (`Turn` objects), in order."""
    arguments: list[Argument] = []
    counts = {"bot": 0, "student": 0}
    for index, turn in enumerate(turns):
        speaker, text = turn.speaker, turn.text or ""
        if speaker not in ("bot", "student") or not text.strip():
            continue
        bot_side = turn.side
        side = bot_side if speaker == "bot" else other_side(bot_side)
        if speaker == "bot":
            made = bot_points(text, motion, side, settings)
            cited = bot_answers(text)
            answering, basis = [c[0] for c in cited], [c[1] for c in cited]
        else:
            made = [text[s:e] for s, e in student_claims(text)]
            answering = basis = made
        # Answers: this turn's sentences (a bot's by their cards) against the other side's
        # earlier arguments.
        open_args = [a for a in arguments if a.speaker != speaker]
        for a, (j, sim) in zip(
            open_args,
            clash_matrix([a.text for a in open_args], basis, motion, settings),
            strict=True,
        ):
            if j >= 0:
                a.responses.append(Response(index, speaker, claim_text(answering[j]), sim))
        for point in made:
            point = point if speaker == "bot" else claim_text(point)
            again = next((a for a in arguments if a.speaker == speaker and a.text == point), None)
            if again is not None:
                again.extended.append(index)
                continue
            counts[speaker] += 1
            arguments.append(
                Argument(
                    f"{'B' if speaker == 'bot' else 'S'}{counts[speaker]}",
                    speaker,
                    side,
                    index,
                    turn.phase,
                    point,
                    speech=getattr(turn, "speech", ""),
                )
            )
    return Flow(motion.id, arguments)


def build(source, settings: Settings | None = None, motion: Motion | None = None) -> Flow:
    """The flow of a Session or of a saved transcript (`transcript.to_dict` output)."""
    from debate.core.config import load_settings
    from debate.corpus.motions import load_motion

    settings = settings or getattr(source, "settings", None) or load_settings()
    if isinstance(source, dict):
        motion = motion or load_motion(source["motion"], settings.corpus_dir)
        turns = [transcript.Turn.from_dict(t) for t in source.get("turns", [])]
    else:
        motion = motion or source.motion
        turns = source.turns
    return build_from_turns(turns, motion, settings)


def round_markdown(session) -> str:
    """The round's transcript in Markdown (`transcript.markdown`) with its flow sheet."""
    table = ""
    if any(t.speaker != "system" for t in session.turns):
        try:
            table = build_from_turns(session.turns, session.motion, session.settings).to_markdown()
        except Exception as exc:  # the export must not fail because of the flow sheet
            log.warning("no flow sheet in the transcript export: %s", exc)
    return transcript.markdown(session, table)
