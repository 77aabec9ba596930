"""Background uploads (issue 12): a coach's upload is checked and copied at once, then
embedded by a background job that shows its progress and can be cancelled, while the
coach and the students keep working.

Non-blocking is proven by ordering, not timing: the job is held after its first written
batch (a wrapper around the real PassageStore.upsert waits on an event), other handler
calls complete meanwhile, and only then is the job let go. A cancel puts the pack back
byte for byte and the index back to the same ids. Over HTTP (`debate serve`), the job
endpoints refuse a tab without the coach password, and a server killed with SIGKILL in the
middle of a job completes the upload when it starts again, without re-embedding what was
already written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from debate.app import handlers as h
from debate.app import render
from debate.app.runtime import Runtime
from debate.core.config import load_settings
from debate.core.errors import DebateError
from debate.corpus import ingest
from debate.corpus.jobs import CANCELLED, DONE
from debate.corpus.motions import load_motion
from debate.corpus.store import PassageStore, open_store
from tests.apps import AppServer
from tests.conftest import ROOT

MOTION = "cats-dogs"
FORM = {
    "title": "Dog walking and health",
    "publisher": "Walk Weekly",
    "author": "",
    "date": "2024-02-03",
    "stance": "opposes",
    "url": "https://example.org/walks",
}


def long_source(paragraphs: int) -> str:
    """A .md body of `paragraphs` distinct passages (one paragraph each)."""
    return "\n\n".join(
        f"Walk report {i}: a dog called Rex{i} walked {i % 9 + 2} kilometres on day {i}, "
        f"and its owner's resting heart rate fell by {i % 7 + 1} beats over {i % 5 + 2} weeks."
        for i in range(paragraphs)
    )


@pytest.fixture
def room(make_pack, settings, tmp_path, monkeypatch):
    """A runtime over a small pack of its own (ingested), an unlocked coach tab, a file."""
    folder = make_pack()
    s = load_settings(
        environ={},
        data_dir=settings.data_dir,
        corpus_dir=folder.parent,
        default_motion=MOTION,
        coach_password="pw",
    )
    ingest.ingest_motion(load_motion(MOTION, s.corpus_dir), s)
    monkeypatch.setattr(ingest, "WRITE_BATCH", 8)  # several batches from a small file
    runtime = Runtime(s).start()
    runtime.wait(120)
    coach = h.new_tab(runtime)
    assert h.unlock_coach(coach, runtime, "pw")[0]
    upload = tmp_path / "uploads" / "walks.md"
    upload.parent.mkdir()
    upload.write_text(long_source(40), encoding="utf-8")
    return runtime, coach, folder, upload


@pytest.fixture
def held(monkeypatch):
    """Holds the job right after its first batch of the new source is written: `reached`
    is set then, and the job goes on once `release` is set."""
    reached, release = threading.Event(), threading.Event()
    original = PassageStore.upsert

    def upsert(self, passages, embeddings, source_hashes):
        original(self, passages, embeddings, source_hashes)
        if any(p.source_id == "walks" for p in passages) and not reached.is_set():
            reached.set()
            assert release.wait(300), "the test never released the job"

    monkeypatch.setattr(PassageStore, "upsert", upsert)
    return reached, release


def snapshot(runtime, folder: Path) -> tuple[bytes, list[str], set[str]]:
    """(motion.yaml bytes, files of the pack, ids in the index)."""
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    ids = set(open_store(runtime.settings, MOTION).state())
    return (folder / "motion.yaml").read_bytes(), files, ids


def test_upload_runs_in_the_background_shows_progress_and_other_calls_complete(room, held):
    runtime, coach, folder, upload = room
    reached, release = held
    student = h.new_tab(runtime)
    job = h.start_upload(coach, runtime, MOTION, str(upload), dict(FORM))
    assert job.live and "background" in h.upload_text(job)
    assert reached.wait(300)
    # The job is held mid-way: progress is visible and partial...
    view = h.upload_view(coach, runtime, MOTION)
    assert view.state == "running" and 0 < view.done < view.total == 40
    assert f"{view.done}/40 passages embedded" in render.upload_job_html(view)
    # ...and the page's other actions complete meanwhile, for the coach and for a student.
    side = coach.session.bot_side
    h.switch_side(coach, runtime)
    assert coach.session.bot_side != side
    assert list(h.send(student, "Dogs keep their owners healthy."))[-1]
    fresh = h.coach_restart(coach, runtime, "student", "offline")
    assert fresh.session.motion.id == MOTION
    assert h.upload_view(coach, runtime, MOTION).live  # still running: nothing waited on it
    release.set()
    done = runtime.uploads.wait(job.id, 300)
    assert done.state == DONE and "Added “Dog walking and health”" in done.message
    assert "walks" in {s.id for s in runtime.motion(MOTION).sources}
    stored = open_store(runtime.settings, MOTION).state()
    assert sum(1 for m in stored.values() if m["source_id"] == "walks") == 40
    assert not ingest.pending_sources(runtime.settings)  # the journal is gone
    h.upload_view(fresh, runtime, MOTION)
    assert "walks" in {s.id for s in fresh.session.motion.sources}


def test_cancel_puts_the_pack_and_the_index_back_as_they_were(room, held):
    runtime, coach, folder, upload = room
    reached, release = held
    before = snapshot(runtime, folder)
    job = h.start_upload(coach, runtime, MOTION, str(upload), dict(FORM))
    assert reached.wait(300)
    stored = open_store(runtime.settings, MOTION).state()
    assert any(m["source_id"] == "walks" for m in stored.values())  # written, mid-job
    assert h.cancel_upload(coach, runtime, MOTION).cancelling
    release.set()
    view = runtime.uploads.wait(job.id, 300)
    assert view.state == CANCELLED
    assert "Cancelled" in view.message and "as they were" in view.message
    assert snapshot(runtime, folder) == before  # yaml byte-identical, file gone, same ids
    assert open_store(runtime.settings, MOTION).status() == "ok"
    assert "walks" not in {s.id for s in runtime.motion(MOTION).sources}
    assert not ingest.pending_sources(runtime.settings)
    with pytest.raises(DebateError, match="nothing to cancel"):
        h.cancel_upload(coach, runtime, MOTION)


def test_a_second_upload_to_a_busy_motion_is_refused_and_writes_nothing(room, held, tmp_path):
    runtime, coach, folder, upload = room
    reached, release = held
    job = h.start_upload(coach, runtime, MOTION, str(upload), dict(FORM))
    assert reached.wait(300)
    second = tmp_path / "uploads" / "more.md"
    second.write_text(long_source(3).replace("Rex", "Max"), encoding="utf-8")
    yaml_mid = (folder / "motion.yaml").read_bytes()
    with pytest.raises(DebateError, match="still being indexed into cats-dogs"):
        h.start_upload(coach, runtime, MOTION, str(second), dict(FORM, title="More"))
    assert not (folder / "sources" / "more.md").exists()
    assert (folder / "motion.yaml").read_bytes() == yaml_mid
    release.set()
    assert runtime.uploads.wait(job.id, 300).state == DONE
    # once the first has finished the motion takes the next upload
    assert "Added" in h.add_source(coach, runtime, MOTION, str(second), dict(FORM, title="More"))


def test_job_actions_are_refused_without_the_coach_password(room):
    runtime, _, folder, upload = room
    outsider = h.new_tab(runtime)
    before = snapshot(runtime, folder)
    for call in (
        lambda: h.start_upload(outsider, runtime, MOTION, str(upload), dict(FORM)),
        lambda: h.upload_view(outsider, runtime, MOTION),
        lambda: h.cancel_upload(outsider, runtime, MOTION),
    ):
        with pytest.raises(DebateError, match="locked"):
            call()
    assert snapshot(runtime, folder) == before


def test_the_upload_limit_is_a_limit_on_passages_stated_in_the_message(room, tmp_path):
    runtime, coach, folder, _ = room
    big = tmp_path / "uploads" / "big.md"
    big.write_text(long_source(h.UPLOAD_MAX_PASSAGES + 1), encoding="utf-8")
    with pytest.raises(DebateError, match=f"{h.UPLOAD_MAX_PASSAGES:,} passages per file"):
        h.start_upload(coach, runtime, MOTION, str(big), dict(FORM))
    assert not runtime.uploads.live()


# ---------------------------------------------------------------- over HTTP


def html_text(value) -> str:
    import re

    return re.sub(r"<[^>]+>", " ", value) if isinstance(value, str) else ""


PROBE = Path(__file__).parent / "embed_probe"  # sitecustomize.py: the embedding counter


@pytest.fixture
def server(tmp_path, embedder):
    """`debate serve` over the cats-dogs pack, its indexing embeddings counted in
    `app.embed_log` (tests/embed_probe)."""
    log = tmp_path / "embedded.jsonl"
    path = os.pathsep.join(p for p in (str(PROBE), os.environ.get("PYTHONPATH", "")) if p)
    app = AppServer(tmp_path / "site", env={"PYTHONPATH": path, "EMBED_PROBE_LOG": str(log)})
    app.embed_log = log
    yield app.start()
    app.stop()


def embedded_texts(app, pid: int) -> list[str]:
    """The texts process `pid` embedded for its index (tests/embed_probe)."""
    lines = app.embed_log.read_text(encoding="utf-8").splitlines() if app.embed_log.exists() else []
    calls = [json.loads(line) for line in lines]
    return [t for c in calls if c["pid"] == pid for t in c["texts"]]


@pytest.mark.slow
def test_job_endpoints_refuse_a_tab_without_the_password_and_are_not_public(server):
    from gradio_client import Client

    outsider = server.client()
    for api_name in ("/upload_status", "/cancel_upload"):
        out = outsider.predict(MOTION, api_name=api_name)
        assert "locked" in html_text(out[0]).lower(), (api_name, out)
    info = Client(server.url, verbose=False, download_files=False).view_api(
        print_info=False, return_format="dict"
    )
    assert not {"/upload_status", "/cancel_upload"} & set(info["named_endpoints"])


def index_ids(settings) -> tuple[str, list[str], list[str]]:
    """(status, ids in the index, ids the pack makes), read in a fresh process (the server
    wrote the index from its own)."""
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from debate.core.config import load_settings\n"
        "from debate.corpus.ingest import prepare_motion\n"
        "from debate.corpus.motions import load_motion\n"
        "from debate.corpus.store import open_store\n"
        f"s = load_settings(environ={{}}, data_dir=Path({str(settings.data_dir)!r}), "
        f"corpus_dir=Path({str(settings.corpus_dir)!r}))\n"
        f"store = open_store(s, {MOTION!r})\n"
        f"want = [p.id for src in prepare_motion(load_motion({MOTION!r}, s.corpus_dir), s) "
        "for p in src.passages]\n"
        "print(json.dumps([store.status(), sorted(store.state()), sorted(want)]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return tuple(json.loads(out.stdout.strip().splitlines()[-1]))


def poll(client, until, what: str, limit: float = 900) -> str:
    """Call /upload_status until `until(text)`; the limit only stops a hung server."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        text = html_text(client.predict(MOTION, api_name="/upload_status")[0])
        if until(text):
            return text
        time.sleep(0.5)
    raise AssertionError(f"never saw {what}; last status: {text}")


def embedded(text: str) -> tuple[int, int]:
    import re

    found = re.search(r"(\d+)/(\d+) passages embedded", text)
    return (int(found[1]), int(found[2])) if found else (0, 0)


@pytest.mark.slow
def test_server_killed_mid_job_completes_the_upload_when_it_starts_again(server, tmp_path):
    from gradio_client import handle_file

    coach = server.client()
    coach.predict(server.password, api_name="/unlock")
    upload = tmp_path / "walks.md"
    upload.write_text(long_source(900), encoding="utf-8")
    out = coach.predict(
        MOTION, handle_file(str(upload)), *[FORM[k] for k in ("title", "publisher")],
        "", FORM["date"], FORM["stance"], FORM["url"], api_name="/add_source",
    )  # fmt: skip
    assert "background" in html_text(out[0]), out
    # Past the first written batch (WRITE_BATCH passages embedded and more): kill -9.
    poll(coach, lambda t: embedded(t)[0] > ingest.WRITE_BATCH, "a written batch")
    server.stop(kill=True)
    assert embedded_texts(server, server.proc.pid)  # the counter counts
    assert (server.data / "uploads" / f"{MOTION}.json").exists()  # the job's journal
    status, kept, wanted = index_ids(server.settings)
    assert status == "interrupted" and 6 < len(kept) < len(wanted)  # partly written
    server.start()
    coach = server.client()
    coach.predict(server.password, api_name="/unlock")
    done = poll(coach, lambda t: "Added" in t or "failed" in t, "the end of the job")
    assert "Added “Dog walking and health” to cats-dogs: 900 passages" in done
    # No re-embedding: the restarted server embedded exactly the passages the index lacked,
    # each once (counted in the server as it embeds, whether or not a poll saw the job run).
    again = embedded_texts(server, server.proc.pid)
    assert len(again) == len(wanted) - len(kept), (len(again), len(wanted), len(kept))
    assert len(set(again)) == len(again)
    server.stop()
    status, stored, wanted = index_ids(server.settings)
    assert status == "ok" and stored == wanted and len(wanted) == 906
    assert not (server.data / "uploads" / f"{MOTION}.json").exists()
