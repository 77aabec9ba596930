"""What makes a warm turn cheap (memoised sentences and tokens, embeddings computed ahead)
never changes what a turn says: caches are keyed by text, so an edited source is quoted from
its new text, and sessions on different motions and sides, interleaved, say exactly what
each says alone with every memo cleared. Real index, real model; no timings here (speed is
measured by `debate bench`)."""

from __future__ import annotations

from dataclasses import replace

from debate.check.claims import content_tokens
from debate.check.faithfulness import _passage_sentences, passage_sentences
from debate.core.config import load_settings
from debate.core.text import quoted_spans
from debate.corpus.ingest import ingest_motion
from debate.corpus.motions import load_motion
from debate.spar.engines import evidence, warmup
from debate.spar.engines.evidence import quotable
from debate.spar.session import Session, warm_first_turn
from tests.conftest import SOURCE_A


def clear_memos() -> None:
    evidence._quotable.cache_clear()
    _passage_sentences.cache_clear()
    content_tokens.cache_clear()


def pack_settings(make_pack, tmp_path, motion_id: str, sources: dict | None = None):
    folder = make_pack(motion_id, sources)
    settings = load_settings(environ={}, data_dir=tmp_path / "data", corpus_dir=folder.parent)
    motion = load_motion(motion_id, settings.corpus_dir)
    ingest_motion(motion, settings)
    return folder, settings, motion


def test_quotable_sentences_follow_the_passage_text_not_its_id(default_settings, default_motion):
    """Same passage id, edited text: the memo must give the new text's sentences."""
    from debate.search.retrieval import get_retriever

    passage = get_retriever(default_motion, default_settings).all_passages()[0]
    before = quotable(passage)
    edited = replace(passage, text="An entirely new sentence about something else, long enough.")
    assert quotable(edited) == ["An entirely new sentence about something else, long enough"]
    assert quotable(passage) == before
    assert passage_sentences(edited.text) == [edited.text]


def test_edited_source_is_quoted_from_its_new_text(make_pack, tmp_path, embedder):
    old = "Cats sleep for about fifteen hours a day and groom themselves"
    new = "Cats sleep for about sixteen hours a day and wash their own fur"
    folder, settings, motion = pack_settings(make_pack, tmp_path, "cats-edited")
    first = Session(motion, settings, bot_side="defend").respond("Dogs are loyal companions.")
    assert old in first.text  # the pack's care sentence backs "Cats need less care."
    (folder / "sources" / "cats.md").write_text(SOURCE_A.replace(old, new), encoding="utf-8")
    assert ingest_motion(motion, settings).wrote_anything  # the next search sees the new text
    again = Session(motion, settings, bot_side="defend").respond("Dogs are loyal companions.")
    assert old not in again.text and new in again.text
    texts = [p.text for p in again.evidence.passages]
    for quote in quoted_spans(again.text):
        assert any(quote in t for t in texts), quote


def _debate(session: Session, messages: list[str]) -> list[str]:
    return [session.respond(m).text for m in messages]


def test_interleaved_sessions_on_two_motions_say_what_each_says_alone(
    make_pack, tmp_path, default_settings, default_motion
):
    _, cats_settings, cats = pack_settings(make_pack, tmp_path, "cats-interleaved")
    plans = [
        (default_motion, default_settings, "attack", ["Serbia refuses to sanction Russia."] * 2),
        (cats, cats_settings, "defend", ["Dogs are loyal companions.", "Dogs guide the blind."]),
        (default_motion, default_settings, "defend", ["Serbia voted against Russia at the UN."]),
    ]
    alone = []
    for motion, settings, side, messages in plans:
        clear_memos()
        session = Session(motion, settings, bot_side=side)
        session.autosave = False
        alone.append(_debate(session, messages))
    sessions = [Session(m, s, bot_side=side) for m, s, side, _ in plans]
    together: list[list[str]] = [[] for _ in plans]
    for turn in range(2):  # turn by turn, one session after the other
        for i, (_, _, _, messages) in enumerate(plans):
            sessions[i].autosave = False
            if turn < len(messages):
                together[i].append(sessions[i].respond(messages[turn]).text)
    assert together == alone


def test_passage_texts_hold_every_sentence_a_turn_compares(default_settings, default_motion):
    passages = warmup.contention_passages(default_motion, default_settings)
    texts = set(warmup.passage_texts(passages))
    assert passages
    for p in passages:
        assert set(quotable(p)) <= texts
        assert set(quotable(p, skip_concessions=True)) <= texts
        assert set(passage_sentences(p.text)) <= texts


def test_warm_first_turn_never_calls_an_llm_and_saves_nothing(default_settings):
    """Start-up plays throwaway turns: offline engine only, even with an (unreachable) LLM
    configured, and no transcript written."""
    settings = replace(
        default_settings, llm="openai:gpt-4o-mini", llm_base_url="http://127.0.0.1:9/v1"
    )
    saved = set(settings.transcripts_dir.rglob("*.json"))
    motion = load_motion(settings.default_motion, settings.corpus_dir)
    warm_first_turn(motion, settings)
    assert set(settings.transcripts_dir.rglob("*.json")) == saved


def test_content_tokens_are_immutable_so_a_memoised_value_cannot_be_changed():
    tokens = content_tokens("Serbia imposed no sanctions on Russia in 2022.")
    assert isinstance(tokens, frozenset)
    assert tokens == content_tokens("Serbia imposed no sanctions on Russia in 2022.")
    assert "sanction" in tokens
