"""What a model's speech may not contain, whatever its citations say: the rules the guard
applies after the evidence check (`apply_rules`), to every sentence of an LLM reply.

- **scaffolding**: the prompt's own machinery, never shown: tags (`<student_message>`,
  `<|im_start|>`, `[INST]`), role lines ("Assistant:", "System:") and sentences that echo a
  line of the prompt templates (prompts/*.txt: six or more words in a row, covering at least
  half of the sentence).
- **meta**: lines about the prompt rather than a speech ("Your message is as follows:",
  "The student claims ...": a speech speaks to the student); named in the notice.
- **unfinished**: a sentence with no stop at its end (the model ran out of tokens).
- **repeated**: a sentence that says again what an earlier sentence of the same reply said
  (the same words, or embedding cosine >= REPEAT_COSINE).
- **uncited-factual** (card-bound speeches, the LLM default, `Settings.llm_mode = "cards"`):
  an uncited sentence may argue, but it may not name anyone or anything the motion itself
  does not name (its thesis, sides and contentions), give a number or date, or date an
  event ("this week", "yesterday"): those are checkable facts, so they need a card. A cited sentence that states a checkable fact must quote its card verbatim
  (quotes are found, or not, by the evidence check).
- **off-side**: a sentence that is about the other side's contentions far more than about
  ours (OFF_SIDE); held back with its margin.

Framed claims ("I will argue that X", "the evidence shows X") are unwrapped by
`claims.claim_text` before any of this, so X is what is checked.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from debate.check.citations import Reply
from debate.check.claims import claim_text, entities_in, is_factual, numbers_in
from debate.check.faithfulness import Verdict
from debate.core.config import Settings
from debate.core.embeddings import embed_cached
from debate.core.errors import MotionError
from debate.core.text import words
from debate.corpus.motions import load_motion, other_side

# Two sentences of one reply this close (cosine) say the same thing (the evidence engine's
# NEAR_DUPLICATE for quotes).
REPEAT_COSINE = 0.9
# A sentence at least this much closer to the other side's contentions than to ours argues
# theirs. On the 162 faithful sentences of evals/llm_replies.yaml and independent_replies.yaml
# (each written for its reply's side), 0.25 flags 1 (0.2 flags 3, 0.1 flags 17); of five
# off-side sentences written by hand for the check it catches one. The sentence stance model
# was worse: at <= -0.8 it flagged openers such as "Let's start with the one policy that sets
# Serbia apart from the rest of Europe" (-0.96).
OFF_SIDE = 0.25
ECHO_WORDS = 6
# A finished sentence ends with its stop (or a closing quote or bracket after it, or a
# citation); one that does not was cut off, e.g. when the model ran out of tokens.
_FINISHED = re.compile(r"[.!?…][\"”’')\]]*\s*(?:\[[\d,\s]+\][.!?]?)?\s*$|\]\s*[.!?]?\s*$")

_TAG = re.compile(r"</?\s*[a-z][a-z_ -]{1,40}>|<\|[^|>]{1,40}\|>|\[/?INST\]|<<\s*/?SYS\s*>>", re.I)
_ROLE = re.compile(
    r"^\W*(system|user|assistant|human|ai|bot|student|debater|model|instructions?)\s*:", re.I
)
# Lines about the prompt rather than to the student: "Your message is as follows:", "Here is
# my rebuttal:", "The student claims ..." (a speech says "you", the prompt says "the student").
_META = re.compile(
    r"^\W*(?:the student\b|(?:here is|here's|below is|this is) (?:my|the|your)\b"
    r"|(?:your|the student's|the) (?:message|prompt|question|transcript|instructions?)"
    r" (?:is|was|reads|says)\b)",
    re.I,
)
# When a sentence reports a dated event: "this week", "yesterday", "last year".
_WHEN = re.compile(
    r"\b(?:(?:this|last|next) (?:week|month|year|spring|summer|autumn|fall|winter)|yesterday"
    r"|(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|\d+ (?:days|weeks|months"
    r"|years) ago)\b",
    re.I,
)


@lru_cache(maxsize=8)
def _prompt_grams(prompts_dir: str) -> frozenset[tuple[str, ...]]:
    """Every run of ECHO_WORDS words of the prompt templates' own text (not their {fields})."""
    grams: set[tuple[str, ...]] = set()
    for path in sorted(Path(prompts_dir).glob("*.txt")):
        text = re.sub(r"\{[a-z_]+\}", " | ", path.read_text(encoding="utf-8"))
        for line in text.splitlines():
            for part in line.split("|"):
                ws = words(part)
                grams.update(tuple(ws[i : i + ECHO_WORDS]) for i in range(len(ws) - 5))
    return frozenset(grams)


def scaffolding(sentence: str, prompts_dir: Path) -> str | None:
    """Why the sentence is prompt scaffolding, or None."""
    tag = _TAG.search(sentence)
    if tag:
        return "a tag of the prompt"
    if _ROLE.match(sentence):
        return "a role line of the prompt"
    ws = words(sentence)
    grams = _prompt_grams(str(prompts_dir))
    echoed = [i for i in range(len(ws) - 5) if tuple(ws[i : i + ECHO_WORDS]) in grams]
    covered = {j for i in echoed for j in range(i, i + ECHO_WORDS)}
    if ws and len(covered) >= max(ECHO_WORDS, len(ws) / 2):
        return "it repeats the instructions of the prompt"
    return None


def repeated(claim: str, earlier: list[str], settings: Settings) -> bool:
    """Does the claim say again what one of the earlier claims said?"""
    if not earlier:
        return False
    mine = " ".join(words(claim))
    if any(mine == " ".join(words(e)) for e in earlier):
        return True
    vectors = embed_cached([claim, *earlier], settings)
    return float((vectors[1:] @ vectors[0]).max()) >= REPEAT_COSINE


def motion_names(reply: Reply, settings: Settings) -> frozenset[str] | None:
    """The names the motion itself uses (thesis, side labels, contentions), or None when the
    reply has no evidence to tell its motion by."""
    key = _pack_key(reply, settings)
    try:
        return None if key is None else _names_of(*key)
    except MotionError:
        return None


@lru_cache(maxsize=32)
def _names_of(motion_id: str, corpus_dir: str, stamp: int) -> frozenset[str]:
    motion = _pack(motion_id, corpus_dir, stamp)
    texts = [motion.thesis, motion.title, *motion.sides.values()]
    texts += [c.claim for side in motion.contentions for c in motion.contentions_for(side)]
    return frozenset(n for t in texts for n in entities_in(t))


@lru_cache(maxsize=32)
def _pack(motion_id: str, corpus_dir: str, stamp: int):
    """The motion pack, read once per version of its motion.yaml (stamp: its mtime), not
    once per sentence; a coach's edit gives a new stamp."""
    return load_motion(motion_id, Path(corpus_dir))


def _pack_key(reply: Reply, settings: Settings) -> tuple[str, str, int] | None:
    passages = reply.evidence.passages if reply.evidence is not None else []
    if not passages:
        return None
    path = Path(settings.corpus_dir) / passages[0].motion / "motion.yaml"
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    return passages[0].motion, str(settings.corpus_dir), stamp


def _motion_of(reply: Reply, settings: Settings):
    """The motion of the reply's evidence, or None when it has none or its motion pack is
    not in the corpus folder: then every name of an uncited sentence needs a card, and the
    side rule cannot apply (it needs the motion's contentions)."""
    key = _pack_key(reply, settings)
    if key is None:
        return None
    try:
        return _pack(*key)
    except MotionError:
        return None


def uncited_names(claim: str, reply: Reply, settings: Settings) -> list[str]:
    """Names of an uncited claim that the motion does not use itself."""
    known = motion_names(reply, settings)
    if known is None:
        return entities_in(claim)
    return [n for n in entities_in(claim) if n not in known]


def side_score(claim: str, reply: Reply, settings: Settings) -> float | None:
    """How much closer the claim is to our side's contentions than to the other side's
    (embedding cosine, best of each side), or None when the reply has no side or no
    evidence to tell its motion by. The sentence stance model is not used here: on the
    LLM replies' faithful sentences it called rhetorical openers the other side's with
    scores near -1 (see OFF_SIDE)."""
    motion = _motion_of(reply, settings)
    if motion is None or reply.side not in ("defend", "attack"):
        return None
    own = [c.claim for c in motion.contentions_for(reply.side)]
    other = [c.claim for c in motion.contentions_for(other_side(reply.side))]
    if not own or not other:
        return None
    vectors = embed_cached([claim, *own, *other], settings)
    to_own = float((vectors[1 : 1 + len(own)] @ vectors[0]).max())
    to_other = float((vectors[1 + len(own) :] @ vectors[0]).max())
    return to_own - to_other


def _card_bound(claim: str, verdict: Verdict, reply: Reply, settings: Settings) -> tuple[str, str]:
    """Card-bound speeches: an uncited sentence names nothing the motion does not; a cited
    sentence that states a checkable fact quotes its card. ("", "") when it complies."""
    names = uncited_names(claim, reply, settings)
    factual = bool(names) or bool(numbers_in(claim)) or is_factual(claim)
    factual = factual or bool(_WHEN.search(claim))
    if not verdict.citations and factual:
        what = f'the name "{names[0]}"' if names else "a checkable fact"
        return "uncited-factual", f"{what} without a card to quote"
    if verdict.citations and factual and verdict.status == "supported" and not verdict.quotes:
        return "unsupported", "a fact stated in the speaker's words: quote the card"
    return "", ""


def apply_rules(verdict: Verdict, reply: Reply, settings: Settings, earlier: list[str]) -> Verdict:
    """The verdict after the speech rules (module docstring): unchanged when none applies.
    `earlier` holds the claims of the reply's sentences already kept; a kept sentence's
    claim is added to it here."""
    if not reply.engine.startswith("llm") or verdict.status == "fabricated-citation":
        return verdict
    sentence = verdict.sentence
    claim = claim_text(sentence)
    reason = scaffolding(sentence, settings.prompts_dir)
    status = "scaffolding" if reason else ""
    if not status and _META.match(sentence):
        status, reason = "meta", "a line about the prompt, not a speech to the student"
    if not status and not _FINISHED.search(sentence):
        status, reason = "unfinished", "the sentence is cut off"
    if not status and repeated(claim, earlier, settings):
        status, reason = "repeated", "it repeats an earlier sentence of this speech"
    if not status and settings.llm_mode == "cards":
        status, reason = _card_bound(claim, verdict, reply, settings)
    if not status and verdict.status not in ("unsupported", "uncited-factual"):
        score = side_score(claim, reply, settings)
        if score is not None and score <= -OFF_SIDE:
            status = "off-side"
            reason = f"it argues the other side's case (margin {score:+.2f})"
    if not status:
        if verdict.status not in ("unsupported", "uncited-factual"):
            earlier.append(claim)
        return verdict
    return replace(verdict, status=status, reason=reason)
