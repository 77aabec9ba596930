"""Ingestion into real Chroma (embedded and a `chroma run` server): query, idempotence,
incremental updates, deletions, and failures that leave the previous index intact."""

from __future__ import annotations

import dataclasses

import pytest

from debate.core.errors import IndexMissingError, MotionError, SourceError
from debate.corpus.ingest import ingest_motion
from debate.corpus.motions import load_motion
from debate.corpus.store import open_store
from debate.search.retrieval import Retriever

from .conftest import SOURCE_B


@pytest.fixture(params=["embedded", "server"])
def store_settings(request, settings):
    if request.param == "server":
        url = request.getfixturevalue("chroma_server")
        return dataclasses.replace(settings, chroma_url=url)
    return settings


def _ingest(folder, s):
    return ingest_motion(load_motion(folder, folder.parent), s)


def _top_text(folder, s, query):
    retriever = Retriever(load_motion(folder, folder.parent), s)
    return retriever.search(query, k=1, mode="dense")[0].passage.text


def test_ingest_then_query_returns_relevant_passage(store_settings, make_pack):
    folder = make_pack(f"q-{store_settings.chroma_url and 'srv' or 'emb'}-a")
    report = _ingest(folder, store_settings)
    assert report.added == report.passages == 4 and report.embedded == 4
    assert "Guide dogs" in _top_text(
        folder, store_settings, "assistance animals for the visually impaired"
    )
    stored = open_store(store_settings, report.motion).all_passages()
    source_texts = {
        p.source_id: (folder / "sources" / f"{p.source_id}.md").read_text().split("---\n", 2)[2]
        for p in stored
    }
    for p in stored:  # offsets are exact against the loaded source text
        assert source_texts[p.source_id][p.start : p.end] == p.text
        assert p.url.startswith("https://example.org/") and p.publisher


def test_reingesting_unchanged_motion_writes_nothing(store_settings, make_pack):
    folder = make_pack(f"q-{store_settings.chroma_url and 'srv' or 'emb'}-b")
    _ingest(folder, store_settings)
    again = _ingest(folder, store_settings)
    assert not again.wrote_anything and again.embedded == 0 and again.unchanged_sources == 2


def test_changed_source_replaces_exactly_its_passages(store_settings, make_pack):
    folder = make_pack(f"q-{store_settings.chroma_url and 'srv' or 'emb'}-c")
    _ingest(folder, store_settings)
    store = open_store(store_settings, load_motion(folder, folder.parent).id)
    before = {p.id: p for p in store.all_passages()}
    dogs = folder / "sources" / "dogs.md"
    dogs.write_text(dogs.read_text().replace("Guide dogs", "Trained guide dogs"), encoding="utf-8")
    report = _ingest(folder, store_settings)
    after = {p.id: p for p in store.all_passages()}
    assert report.changed_sources == ["dogs"] and report.embedded == 1
    assert {pid for pid in before if before[pid].source_id == "cats"} <= set(after)
    new_ids = set(after) - set(before)
    assert len(new_ids) == 1 and "Trained guide dogs" in after[new_ids.pop()].text
    assert len(after) == len(before)


def test_removed_source_passages_are_deleted(store_settings, make_pack):
    folder = make_pack(f"q-{store_settings.chroma_url and 'srv' or 'emb'}-d")
    _ingest(folder, store_settings)
    (folder / "sources" / "dogs.md").unlink()
    report = _ingest(folder, store_settings)
    assert report.removed_sources == ["dogs"] and report.deleted == 2
    remaining = open_store(store_settings, report.motion).all_passages()
    assert {p.source_id for p in remaining} == {"cats"}


@pytest.mark.parametrize(
    ("filename", "content", "error", "message"),
    [
        ("binary.txt", b"\x00\x00\xff\xfe junk", SourceError, "binary"),
        ("corrupt.pdf", b"%PDF-1.7 truncated", SourceError, "unreadable PDF"),
        (
            "nourl.md",
            SOURCE_B.replace("url: https://example.org/dogs\n", "").encode(),
            SourceError,
            "'url'",
        ),
        (
            "badstance.md",
            SOURCE_B.replace("stance: opposes", "stance: maybe").encode(),
            SourceError,
            "'stance'",
        ),
    ],
)
def test_bad_source_fails_with_file_named_and_previous_index_still_answers(
    settings, make_pack, filename, content, error, message
):
    folder = make_pack("bad-src")
    _ingest(folder, settings)
    (folder / "sources" / filename).write_bytes(content)
    with pytest.raises(error) as info:
        _ingest(folder, settings)
    assert filename in str(info.value) and message in str(info.value)
    assert "Guide dogs" in _top_text(folder, settings, "guide dogs for blind people")
    assert open_store(settings, "bad-src").count() == 4


def test_missing_source_path_in_motion_yaml_leaves_index_intact(settings, make_pack):
    folder = make_pack("bad-path")
    _ingest(folder, settings)
    yaml_file = folder / "motion.yaml"
    yaml_file.write_text(yaml_file.read_text() + "  - nowhere/file.md\n", encoding="utf-8")
    with pytest.raises(MotionError, match="path does not exist: nowhere/file.md"):
        load_motion(folder, folder.parent)
    assert open_store(settings, "bad-path").count() == 4


def test_querying_a_motion_that_was_never_ingested_says_how_to_fix_it(settings, make_pack):
    folder = make_pack("never")
    with pytest.raises(IndexMissingError, match="debate ingest never"):
        Retriever(load_motion(folder, folder.parent), settings)


def test_ingest_benchmark_embeds_every_passage_it_counts(embedder):
    """debate.tools.bench_ingest on a few documents: the corpus is deterministic (same seed, same
    texts) and the measured ingest embedded exactly the passages the baseline encoded."""
    from debate.tools.bench_ingest import make_documents, run

    assert make_documents(30, seed=5) == make_documents(30, seed=5)
    assert make_documents(30, seed=5) != make_documents(30, seed=6)
    lengths = sorted(len(d) for d in make_documents(300))
    assert lengths[-1] > 5 * lengths[len(lengths) // 2]  # a few long articles among briefs
    result = run(docs=12, seed=5)
    assert result["passages"] >= 12
    assert result["ratio"] == pytest.approx(
        result["ingest_passages_per_s"] / result["baseline_passages_per_s"], rel=0.01
    )
