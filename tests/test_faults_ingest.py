"""Faults during an ingest: a process killed (SIGKILL) at several points, a rebuild killed
between its renames, a damaged data directory. Afterwards the previous index answers (or a
first ingest is reported incomplete, never silently empty), and the next ingest repairs it
without re-embedding what was already stored.

The kill is injected in a child process that runs the real ingest against real Chroma: a
wrapper around one PassageStore method sends SIGKILL to its own process on the n-th call,
so the fault lands at a known point of the write."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from debate.core.config import load_settings
from debate.core.errors import DebateError, IndexMissingError
from debate.corpus.ingest import ingest_motion, pending_sources, prepare_motion
from debate.corpus.motions import load_motion
from debate.corpus.store import open_store
from debate.search.retrieval import Retriever
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
        import debate.corpus.ingest as ingest
        from debate.corpus.store import PassageStore
        from debate.core.config import load_settings
        from debate.corpus.motions import load_motion

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
    from debate.corpus import store as store_module

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


# ---------------------------------------------------------------- a background upload killed

WALKS = (
    "---\ntitle: Dog walks\npublisher: Walk Weekly\ndate: 2024-02-03\n"
    "url: https://example.org/walks\nstance: opposes\n---\n"
    + "\n\n".join(
        f"Walk report {i}: a dog called Rex{i} walked {i % 9 + 2} kilometres on day {i}, "
        f"and its owner's resting heart rate fell by {i % 7 + 1} beats in {i % 5 + 2} weeks."
        for i in range(20)
    )
)


def run_upload_killed(settings, corpus: Path, upload: Path, method: str, cancel: bool) -> int:
    """In a child process: add `upload` to the pack (ingest.stage_source + index_source,
    as a background upload job does), 4 passages per write batch. With `cancel`, the job
    is cancelled after its first written batch. The child SIGKILLs itself on the first
    call of PassageStore.`method` after that batch."""
    script = textwrap.dedent(
        f"""
        import os, signal, threading
        from pathlib import Path
        import debate.corpus.ingest as ingest
        from debate.corpus.store import PassageStore
        from debate.core.config import load_settings
        from debate.corpus.motions import load_motion

        ingest.WRITE_BATCH = 4
        cancel, written = threading.Event(), []
        upsert = PassageStore.upsert

        def upserting(self, passages, *args):
            upsert(self, passages, *args)
            if any(p.source_id == "walks" for p in passages):
                written.append(1)
                if {cancel}:
                    cancel.set()

        def dying(self, *args, **kwargs):
            if written and len(written) >= (1 if {cancel} else 2):
                os.kill(os.getpid(), signal.SIGKILL)
            return target(self, *args, **kwargs)

        PassageStore.upsert = upserting
        target = PassageStore.{method}
        PassageStore.{method} = dying
        settings = load_settings(environ={{}}, data_dir=Path({str(settings.data_dir)!r}),
                                 corpus_dir=Path({str(corpus)!r}))
        motion = load_motion("cats-dogs", settings.corpus_dir)
        staged = ingest.stage_source(motion, Path({str(upload)!r}), settings)
        ingest.index_source(staged, settings, cancel=cancel)
        """
    )
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, timeout=300).returncode


def resumed(settings):
    """What a restarted server does: its upload jobs resume what the journal lists. Like a
    new process, it opens the index afresh (this process's Chroma client still holds the
    vectors it knew before the child wrote)."""
    from chromadb.api.client import SharedSystemClient

    from debate.app import handlers as h
    from debate.app.runtime import Runtime
    from debate.corpus import store as store_module

    store_module._client.cache_clear()
    SharedSystemClient.clear_system_cache()

    from dataclasses import replace

    runtime = Runtime(replace(settings, default_motion="cats-dogs")).start()
    runtime.wait(120)
    jobs = h.resume_uploads(runtime)
    assert len(jobs) == 1
    return runtime.uploads.wait(jobs[0].id, 300)


def killed_mid_upload(settings, folder: Path, tmp_path: Path) -> int:
    """An upload of walks.md SIGKILLed while writing; returns how many of its passages
    were written before the kill."""
    upload = tmp_path / "walks.md"
    upload.write_text(WALKS, encoding="utf-8")
    assert run_upload_killed(settings, folder.parent, upload, "upsert", cancel=False) == (
        -signal.SIGKILL
    )
    store = open_store(settings, "cats-dogs")
    already = sum(1 for m in store.state().values() if m["source_id"] == "walks")
    assert already >= 4 and store.status() == "interrupted"
    return already


def ingested_by_cli(settings, corpus: Path) -> subprocess.CompletedProcess:
    """What a coach who runs `debate ingest` (instead of restarting the server) gets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEBATE_")}
    env.update(COLUMNS="200", DEBATE_CORPUS_DIR=str(corpus), DEBATE_DATA_DIR=str(settings.data_dir))
    command = [sys.executable, "-c", "from debate.cli import main; main()", "ingest", "cats-dogs"]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


@pytest.mark.slow
def test_upload_killed_mid_job_is_completed_on_restart_without_reembedding(pack, tmp_path):
    settings, folder = pack
    ingest_motion(load_motion("cats-dogs", settings.corpus_dir), settings)
    already = killed_mid_upload(settings, folder, tmp_path)
    job = resumed(settings)
    assert job.state == "done" and "Added “Dog walks”" in job.message
    assert job.total <= 20 - already  # the resumed job embedded only what was missing
    motion = load_motion("cats-dogs", settings.corpus_dir)
    store = open_store(settings, "cats-dogs")
    assert "walks" in {s.id for s in motion.sources} and store.status() == "ok"
    wanted = {p.id for src in prepare_motion(motion, settings) for p in src.passages}
    assert set(store.state()) == wanted
    assert not pending_sources(settings)


@pytest.mark.slow
def test_upload_killed_while_being_cancelled_is_rolled_back_on_restart(pack, tmp_path):
    settings, folder = pack
    ingest_motion(load_motion("cats-dogs", settings.corpus_dir), settings)
    yaml_before = (folder / "motion.yaml").read_bytes()
    files_before = sorted(p.name for p in (folder / "sources").iterdir())
    ids_before = set(open_store(settings, "cats-dogs").state())
    upload = tmp_path / "walks.md"
    upload.write_text(WALKS, encoding="utf-8")
    # killed while the cancel deletes the passages already written
    assert run_upload_killed(settings, folder.parent, upload, "delete", cancel=True) == (
        -signal.SIGKILL
    )
    assert [s.phase for s in pending_sources(settings)] == ["removing"]
    job = resumed(settings)
    assert job.state == "cancelled" and "it is out now" in job.message
    assert (folder / "motion.yaml").read_bytes() == yaml_before
    assert sorted(p.name for p in (folder / "sources").iterdir()) == files_before
    store = open_store(settings, "cats-dogs")
    assert set(store.state()) == ids_before and store.status() == "ok"
    assert not pending_sources(settings)


@pytest.mark.slow
def test_debate_ingest_finishes_a_killed_upload_or_rolls_back_a_killed_cancel(pack, tmp_path):
    """`debate ingest` settles a half-indexed upload as a restarted server would."""
    settings, folder = pack
    ingest_motion(load_motion("cats-dogs", settings.corpus_dir), settings)
    yaml_before = (folder / "motion.yaml").read_bytes()
    ids_before = set(open_store(settings, "cats-dogs").state())
    already = killed_mid_upload(settings, folder, tmp_path)
    assert [s.phase for s in pending_sources(settings)] == ["adding"]
    done = ingested_by_cli(settings, folder.parent)
    assert done.returncode == 0, done.stderr
    assert "finished the upload" in done.stdout and "“Dog walks”" in done.stdout
    embedded = int(re.search(r"(\d+) embedded now", done.stdout).group(1))
    assert embedded <= 20 - already  # what was written before the kill is reused
    assert not pending_sources(settings)
    motion = load_motion("cats-dogs", settings.corpus_dir)
    wanted = {p.id for src in prepare_motion(motion, settings) for p in src.passages}
    assert set(open_store(settings, "cats-dogs").state()) == wanted

    # Now a second upload killed while its cancel was taking it out again: rolled back.
    (folder / "motion.yaml").write_bytes(yaml_before)
    next(src.path for src in motion.sources if src.id == "walks").unlink()
    assert ingested_by_cli(settings, folder.parent).returncode == 0
    assert set(open_store(settings, "cats-dogs").state()) == ids_before
    upload = tmp_path / "walks.md"
    assert run_upload_killed(settings, folder.parent, upload, "delete", cancel=True) == (
        -signal.SIGKILL
    )
    assert [s.phase for s in pending_sources(settings)] == ["removing"]
    done = ingested_by_cli(settings, folder.parent)
    assert done.returncode == 0, done.stderr
    assert "it is out now" in done.stdout
    assert (folder / "motion.yaml").read_bytes() == yaml_before
    assert set(open_store(settings, "cats-dogs").state()) == ids_before
    assert not pending_sources(settings)
