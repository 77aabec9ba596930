"""Shared fixtures: real model (loaded once per session), real Chroma in temp dirs."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Workers run side by side on the cores: one torch thread each (and in the servers and
    # commands they start) costs about a third less CPU than two that wait on each other.
    os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def embedder():
    """The real MiniLM model, loaded once for the whole test session."""
    from debate.core.embeddings import get_embedder

    return get_embedder()


@pytest.fixture
def settings(tmp_path, embedder):
    """Settings with an empty data dir of their own (embedded Chroma)."""
    from debate.core.config import load_settings

    return load_settings(environ={}, data_dir=tmp_path / "data")


def shared_dir(tmp_path_factory, name: str, build) -> Path:
    """A folder made by `build(folder)` once per test run. Without xdist, built in place.
    Under xdist the first worker to ask builds it in the run's shared temp folder, holding a
    file lock (the others wait for it), and each worker gets a copy of its own, so that no
    two processes ever open the same Chroma files."""
    import shutil

    if not os.environ.get("PYTEST_XDIST_WORKER"):
        folder = tmp_path_factory.mktemp(name)
        build(folder)
        return folder
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent / f"shared-{name}"
    with FileLock(f"{shared}.lock"):
        if not (shared / ".built").exists():
            shutil.rmtree(shared, ignore_errors=True)  # a build that failed part-way
            shared.mkdir()
            build(shared)
            (shared / ".built").touch()
    folder = tmp_path_factory.mktemp(name)
    shutil.copytree(shared, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".built"))
    return folder


@pytest.fixture(scope="session")
def default_settings(tmp_path_factory, embedder):
    """The default motion (seed + corpus) ingested once into a session-wide data dir (under
    xdist: ingested once per run, copied for each worker; see shared_dir).
    Tests must not write to it; copy the pack (make_pack) for tests that change sources."""
    from debate.core.config import load_settings
    from debate.corpus.ingest import ingest_motion
    from debate.corpus.motions import load_motion

    def build(folder: Path) -> None:
        s = load_settings(environ={}, data_dir=folder)
        ingest_motion(load_motion("serbia-russia", s.corpus_dir), s)

    return load_settings(environ={}, data_dir=shared_dir(tmp_path_factory, "default-index", build))


@pytest.fixture
def default_motion(default_settings):
    from debate.corpus.motions import load_motion

    return load_motion("serbia-russia", default_settings.corpus_dir)


SMALL_MOTION = """\
id: {id}
title: Test motion
thesis: Cats are better than dogs
sides:
  defend: Cats are better than dogs
  attack: Dogs are better than cats
contentions:
  defend:
    - Cats need less care.
  attack:
    - Dogs are loyal companions.
sources:
  - sources
"""

SOURCE_A = """\
---
title: Cats at home
publisher: Pet Weekly
date: 2024-01-02
url: https://example.org/cats
stance: supports
---
Cats sleep for about fifteen hours a day and groom themselves, so owners spend little time on daily care, brushing or bathing.

A 2023 survey of 1,200 pet owners found that cats cost 40 percent less per year than dogs, mostly because of food and vet bills.
"""

SOURCE_B = """\
---
title: Dogs and people
publisher: Canine Review
date: 2024-03-04
url: https://example.org/dogs
stance: opposes
---
Dogs were domesticated at least 15,000 years ago and have evolved to read human faces and bond closely with their owners.

Guide dogs help blind people walk safely through busy cities every day, stopping at kerbs and steering around obstacles.
"""


@pytest.fixture
def make_pack(tmp_path):
    """Write a small motion pack under tmp_path/corpus/<id>; returns its folder."""

    def make(motion_id: str = "cats-dogs", sources: dict | None = None) -> Path:
        folder = tmp_path / "corpus" / motion_id
        (folder / "sources").mkdir(parents=True, exist_ok=True)
        (folder / "motion.yaml").write_text(SMALL_MOTION.format(id=motion_id), encoding="utf-8")
        for name, text in (sources or {"cats.md": SOURCE_A, "dogs.md": SOURCE_B}).items():
            (folder / "sources" / name).write_text(text, encoding="utf-8")
        return folder

    return make


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real `chroma run` server on a free loopback port, stopped after the session."""
    from tests.served import ChromaServer

    server = ChromaServer(tmp_path_factory.mktemp("chroma-server")).start()
    yield server.url
    server.stop()


@pytest.fixture
def replay():
    """Start loopback LLM servers (tests/replay.py: OpenAI and Ollama wire formats);
    `replay(replies, judge=..., delay=...)` returns a started ReplayServer, closed after the
    test."""
    from tests.replay import ReplayServer

    servers: list[ReplayServer] = []

    def start(replies=("",), **options) -> ReplayServer:
        servers.append(ReplayServer(replies, **options))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture(scope="module")
def app(request, tmp_path_factory, embedder):
    """`debate serve` over the small cats-dogs pack with a coach password (tests/apps.py
    AppServer), one for each test module that asks for it, stopped after the module."""
    from tests.apps import AppServer

    name = request.module.__name__.rsplit(".", 1)[-1]
    server = AppServer(tmp_path_factory.mktemp(name)).start()
    yield server
    server.stop()


# ---------------------------------------------------------------- parallel runs (pytest-xdist)
# `make test` spreads the suite over worker processes (pytest -n N --dist loadgroup). Tests
# that share a module-scoped fixture worth keeping (a served app, a browser, an index, an eval
# run) or that rely on running in file order are one unit of work, run by one worker in file
# order (GROUPED modules; test_hostile_input in two parts, by the module fixture its tests
# share); every other test is a unit of its own. Units are handed out longest first, so that
# the last one to finish is a short one: costs are rough seconds on two cores (--durations);
# a test not listed counts 1. (xdist's own xdist_group marks do nothing under pytest 9: they
# rename Node._nodeid, which pytest 9 no longer reads; hence the scheduler below.)
GROUPED = {  # module -> cost of the whole module
    "test_public_eval": 500,
    "test_app_security": 110,
    "test_browser": 110,
    "test_coaching_browser": 100,
    "test_evals": 90,
    "test_settings": 80,
    "test_app_handlers": 70,
    "test_corpus": 60,
    "test_feedback": 40,
    "test_coaching_ui": 40,
    "test_injection": 40,
    "test_real_llm": 60,  # one llama.cpp server for the module (tests/llm_local.py)
    "test_prep": 90,  # one ingested case file and one blocked pack per module
    "test_docx": 40,  # one ingested motion for the module
}
SPLIT = {  # module -> {part: (its test functions, cost of the part)}; the rest: one by one
    "test_hostile_input": {
        "app": (
            {
                "test_200_generated_messages_through_the_app_api",
                "test_every_reply_from_the_api_run_cites_only_its_evidence",
                "test_scripts_in_messages_and_uploaded_sources_never_run_in_the_browser",
            },
            130,
        ),
        "small_index": (
            {
                "test_the_session_survives_1000_generated_messages",
                "test_the_session_takes_raw_lone_surrogates_without_a_crash",
                "test_edge_cases_through_the_real_model",
                "test_cli_invalid_utf8_arguments_give_one_line_no_traceback",
            },
            300,
        ),
    },
}
SINGLE = {  # test function -> cost of each of its tests
    "test_cards_in_the_page_save_cut_insert_check_and_export": 100,
    "test_spar_holds_a_scripted_five_turn_debate_on_its_side": 100,
    "test_search_default_motion_ranks_the_seed_ammunition_paragraph_first_and_survives_100kb": 70,
    "test_ingest_with_a_corrupt_file_fails_and_keeps_the_previous_index": 65,
    "test_rebuild_killed_between_its_renames_restores_the_previous_index": 70,
    "test_debate_ingest_finishes_a_killed_upload_or_rolls_back_a_killed_cancel": 65,
    "test_server_killed_mid_job_completes_the_upload_when_it_starts_again": 60,
    "test_the_shipped_default_keeps_its_quality_floor_on_our_labelled_set": 50,
    "test_upload_killed_mid_job_is_completed_on_restart_without_reembedding": 47,
    "test_browser_never_shows_a_fabricated_citation_or_unsupported_sentence": 45,
    "test_web_handler_and_cli_make_the_same_pack_change": 43,
    "test_update_killed_at_any_point_leaves_the_previous_index_answering": 30,
    "test_five_sessions_at_once_have_no_errors_and_no_crosstalk": 30,
    "test_server_killed_mid_turn_leaves_every_transcript_valid_json": 30,
    "test_chroma_server_gone_mid_session_is_said_clearly_and_recovers": 25,
    "test_coach_uploads_debates_while_it_indexes_then_cancels": 25,
    "test_cli_add_source_keeps_comments_and_key_order_of_motion_yaml": 24,
    "test_upload_killed_while_being_cancelled_is_rolled_back_on_restart": 22,
    "test_first_ingest_killed_mid_write_is_reported_incomplete_then_finished_without_reembedding": 15,
    "test_ingest_benchmark_embeds_every_passage_it_counts": 15,
    "test_job_endpoints_refuse_a_tab_without_the_password_and_are_not_public": 15,
}


def work_unit(nodeid: str) -> tuple[str, float]:
    """(the unit of work a test belongs to, that unit's cost), from its node id."""
    path, _, rest = nodeid.partition("::")
    module = Path(path).stem
    function = rest.split("[", 1)[0]
    if module in GROUPED:
        return module, GROUPED[module]
    for part, (functions, cost) in SPLIT.get(module, {}).items():
        if function in functions:
            return f"{module}:{part}", cost
    return nodeid, SINGLE.get(function, 1)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("PYTEST_XDIST_WORKER"):  # one process: file order, as always
        items.sort(key=lambda item: -work_unit(item.nodeid)[1])  # stable: file order kept


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class Units(LoadScopeScheduling):
        """LoadScopeScheduling with work_unit as the scope, in the order collected."""

        def __init__(self, config, log=None):
            super().__init__(config, log)
            config.option.loadscopereorder = False

        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)[0]

    return Units(config, log)
