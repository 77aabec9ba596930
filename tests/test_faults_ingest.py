"""Faults during an ingest: a process killed (SIGKILL) at several points, a rebuild killed
between its renames, a damaged data directory. Afterwards the previous index answers (or a
first ingest is reported incomplete, never silently empty), and the next ingest repairs it
without re-embedding what was already stored.

The kill is injected in a child process that runs the real ingest against real Chroma: a
wrapper around one PassageStore method sends SIGKILL to its own process on the n-th call,
so the fault lands at a known point of the write."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from debate.config import load_settings
from debate.errors import DebateError, IndexMissingError
from debate.ingest import ingest_motion
from debate.motions import load_motion
from debate.retrieval import Retriever
from debate.store import open_store
from tests.conftest import SOURCE_A, SOURCE_B

ROOT = Path(__file__).resolve().parents[1]
LONG = "\n\n".join(
    f"Paragraph {i} about cats: a cat named Tom{i} sleeps {i % 12 + 4} hours on sofa {i} "
    f"while its owner reads volume {i} of an encyclopedia about domestic animals."
    for i in range(1, 25)
)
SOURCE_LONG = (
    SOURCE_A.split("---\n", 2)[0] + "---\n" + SOURCE_A.split("---\n", 2)[1] + "---\n" + LONG
)


def run_killed(settings, corpus: Path, method: str, on_call: int, rebuild: bool = False) -> int:
    """Run ingest_motion in a child process that SIGKILLs itself on the `on_call`-th call of
    PassageStore.`method`; returns the child's exit code."""
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from pathlib import Path
        import debate.ingest as ingest
        from debate.store import PassageStore
        from debate.config import load_settings
        from debate.motions import load_motion

        ingest.WRITE_BATCH = 4
        calls = 0
        original = PassageStore.{method}

        def dying(self, *args, **kwargs):
            global calls
            calls += 1
            if calls == {on_call}:
                os.kill(os.getpid(), signal.SIGKILL)
            return original(self, *args, **kwargs)

        PassageStore.{method} = dying
        settings = load_settings(environ={{}}, data_dir=Path({str(settings.data_dir)!r}),
                                 corpus_dir=Path({str(corpus)!r}))
        ingest.ingest_motion(load_motion("cats-dogs", settings.corpus_dir), settings,
                             rebuild={rebuild})
        """
    )
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, timeout=300).returncode


@pytest.fixture
def pack(make_pack, tmp_path):
    folder = make_pack(sources={"cats.md": SOURCE_LONG, "dogs.md": SOURCE_B})
    settings = load_settings(environ={}, data_dir=tmp_path / "data", corpus_dir=folder.parent)
    return settings, folder


def dog_ids(results) -> set[str]:
    return {r.passage.id for r in results if r.passage.source_id == "dogs"}


def search(settings, folder, query="cats sleep on the sofa"):
    motion = load_motion("cats-dogs", settings.corpus_dir)
    return Retriever(motion, settings).search(query, k=3)


@pytest.mark.slow
def test_first_ingest_killed_mid_write_is_reported_incomplete_then_finished_without_reembedding(
    pack, embedder
):
    settings, folder = pack
    assert run_killed(settings, folder.parent, "upsert", on_call=3) == -signal.SIGKILL
    store = open_store(settings, "cats-dogs")
    assert store.status() == "incomplete"
    with pytest.raises(IndexMissingError, match="incomplete"):
        search(settings, folder)
    already = len(store.state())
    assert already > 0  # batches written before the kill were kept
    report = ingest_motion(load_motion("cats-dogs", settings.corpus_dir), settings)
    assert store.status() == "ok"
    assert report.embedded == report.passages - already
    assert search(settings, folder)


@pytest.mark.slow
@pytest.mark.parametrize("method,on_call", [("upsert", 2), ("delete", 1), ("finish", 1)])
def test_update_killed_at_any_point_leaves_the_previous_index_answering(
    pack, embedder, method, on_call
):
    settings, folder = pack
    ingest_motion(load_motion("cats-dogs", settings.corpus_dir), settings)
    before = dog_ids(search(settings, folder, "dogs read human faces"))
    changed = SOURCE_LONG.replace("encyclopedia", "atlas")
    (folder / "sources" / "cats.md").write_text(changed, encoding="utf-8")
    assert run_killed(settings, folder.parent, method, on_call) == -signal.SIGKILL
    store = open_store(settings, "cats-dogs")
    assert store.status() == "interrupted"
    # the unchanged source still answers exactly as before
    assert dog_ids(search(settings, folder, "dogs read human faces")) == before
    report = ingest_motion(load_motion("cats-dogs", settings.corpus_dir), settings)
    assert store.status() == "ok"
    changed_passages = sum(1 for p in store.all_passages() if p.source_id == "cats")
    # Only the changed source's passages may be embedded again (Chroma may not have made
    # the vectors written just before a SIGKILL durable); the unchanged source never is.
    assert set(report.changed_sources) <= {"cats"} and report.embedded <= changed_passages
    assert all(
        "atlas" in p.text
        for p in store.all_passages()
        if p.source_id == "cats" and "volume" in p.text
    )


@pytest.mark.slow
def test_rebuild_killed_between_its_renames_restores_the_previous_index(pack, embedder):
    settings, folder = pack
    ingest_motion(load_motion("cats-dogs", settings.corpus_dir), settings)
    before = [r.passage.id for r in search(settings, folder)]
    code = run_killed(settings, folder.parent, "swap_in", on_call=1, rebuild=True)
    assert code == -signal.SIGKILL
    assert [r.passage.id for r in search(settings, folder)] == before
    assert open_store(settings, "cats-dogs").status() == "ok"


@pytest.mark.slow
def test_rebuild_killed_after_renaming_the_old_index_aside_recovers_on_open(pack, embedder):
    settings, folder = pack
    ingest_motion(load_motion("cats-dogs", settings.corpus_dir), settings)
    before = [r.passage.id for r in search(settings, folder)]
    store = open_store(settings, "cats-dogs")
    store._get(store.name).modify(name=store.name + "--old")  # the state a kill leaves
    assert [r.passage.id for r in search(settings, folder)] == before
    assert store.status() == "ok"


def test_a_damaged_data_directory_says_to_rebuild_and_rebuild_repairs_it(pack, embedder):
    settings, folder = pack
    ingest_motion(load_motion("cats-dogs", settings.corpus_dir), settings)
    from debate import store as store_module

    store_module._client.cache_clear()
    sqlite = settings.chroma_path / "chroma.sqlite3"
    sqlite.write_bytes(b"this is not a database" * 100)
    try:
        with pytest.raises(DebateError, match="--rebuild"):
            search(settings, folder)
        store_module._client.cache_clear()
        report = ingest_motion(
            load_motion("cats-dogs", settings.corpus_dir), settings, rebuild=True
        )
        assert report.passages > 0 and search(settings, folder)
        assert list(settings.data_dir.glob("chroma.damaged-*"))  # moved aside, not deleted
    finally:
        store_module._client.cache_clear()
