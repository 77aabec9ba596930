"""Chunking: exact offsets, paragraph boundaries, stable content-derived ids."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from debate.core.config import PROJECT_ROOT
from debate.corpus.passages import chunk_spans, make_passages

SEED = (PROJECT_ROOT / "seeds" / "000_57c3401fa87d8d5d.txt").read_text(encoding="utf-8")

text_strategy = st.text(
    alphabet=st.sampled_from(list("abc XYZ.!?\n\n\t,’“”Šč0123")), min_size=0, max_size=3000
)


@settings(max_examples=300, deadline=None)
@given(text=text_strategy, max_chars=st.integers(20, 400), min_chars=st.integers(0, 60))
def test_every_chunk_is_the_exact_trimmed_slice_and_within_max(text, max_chars, min_chars):
    spans = chunk_spans(text, max_chars=max_chars, min_chars=min(min_chars, max_chars // 2))
    previous_end = 0
    for start, end, paragraph in spans:
        chunk = text[start:end]
        assert chunk and chunk == chunk.strip()
        assert end - start <= max_chars
        assert start >= previous_end and paragraph >= 1
        previous_end = end
    # nothing but whitespace is lost between chunks
    covered = "".join(text[s:e] for s, e, _ in spans)
    assert "".join(covered.split()) == "".join(text.split())


def test_seed_article_chunks_follow_its_paragraphs_with_exact_offsets():
    passages = make_passages("m", "seed", SEED, {"title": "T"})
    assert len(passages) == 19  # 21 lines; the title and subtitle are merged into the first
    for p in passages:
        assert SEED[p.start : p.end] == p.text
        assert "\n" not in p.text or p.paragraph == 1
    ammo = [p for p in passages if "artillery ammunition" in p.text]
    assert len(ammo) == 1 and ammo[0].text.startswith("Frequent reports of Serbia")


def test_long_paragraph_is_split_at_sentence_ends():
    text = " ".join(f"Sentence number {i} is here." for i in range(100))
    spans = chunk_spans(text, max_chars=200, min_chars=50)
    assert len(spans) > 5
    for start, end, _ in spans:
        assert text[start:end].endswith(".") and end - start <= 200


def test_ids_are_stable_and_depend_on_content_not_position():
    first = make_passages(
        "m", "s", "Alpha paragraph is long enough.\n\nBeta paragraph too.", {}, min_chars=0
    )
    again = make_passages(
        "m", "s", "Alpha paragraph is long enough.\n\nBeta paragraph too.", {}, min_chars=0
    )
    shifted = make_passages(
        "m",
        "s",
        "New first one.\n\nAlpha paragraph is long enough.\n\nBeta paragraph too.",
        {},
        min_chars=0,
    )
    assert [p.id for p in first] == [p.id for p in again]
    assert {p.id for p in first} <= {p.id for p in shifted}
    other_motion = make_passages("m2", "s", "Alpha paragraph is long enough.", {}, min_chars=0)
    assert other_motion[0].id != first[0].id


def test_repeated_paragraphs_get_distinct_ids():
    passages = make_passages("m", "s", "Same text here.\n\nSame text here.", {}, min_chars=0)
    assert len({p.id for p in passages}) == 2


def test_passages_carry_provenance_metadata():
    meta = {
        "title": "T",
        "publisher": "P",
        "date": "2024-01-01",
        "url": "https://u",
        "stance": "mixed",
    }
    p = make_passages("mot", "src", "Some paragraph of text.", meta, min_chars=0)[0]
    md = p.metadata()
    assert md["motion"] == "mot" and md["source_id"] == "src" and md["paragraph"] == 1
    assert (md["title"], md["publisher"], md["date"], md["url"], md["stance"]) == (
        "T",
        "P",
        "2024-01-01",
        "https://u",
        "mixed",
    )
    assert (md["start"], md["end"]) == (0, len("Some paragraph of text."))
