"""Every setting does something: one test per field of `Settings`, each setting it through its
DEBATE_* environment variable (`load_settings(environ=...)`, or the real environment for the
CLI) and observing what the product does differently, never by reading the field back.

`test_every_setting_has_a_test` fails when a field is added without a test here.
"""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import fields
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from typer.testing import CliRunner

from debate.app import handlers as h
from debate.app.runtime import Runtime
from debate.cli import app
from debate.core.chat_model import make_chat_model
from debate.core.config import PROJECT_ROOT, Settings, describe_settings, env_name, load_settings
from debate.core.errors import DebateError, IndexMissingError, SourceError
from debate.corpus import ingest
from debate.corpus.ingest import ingest_motion, prepare_source
from debate.corpus.motions import load_motion
from debate.corpus.store import open_store
from debate.evals.suites import EvalError, SuiteResult, apply_thresholds, load_thresholds
from debate.search.fusion import Fusion
from debate.search.retrieval import get_retriever
from debate.spar.engines import get_engine
from debate.spar.engines.evidence import EvidenceEngine
from debate.spar.engines.llm import LLMEngine
from debate.spar.plan import SpeechRequest, plan_turn
from debate.spar.session import Session
from tests.conftest import SMALL_MOTION, SOURCE_A, SOURCE_B, free_port
from tests.served import ServedApp

ARGUMENT = "Serbia refuses to sanction Russia, so it is obviously Moscow's ally."
QUERY = "Serbia refuses to sanction Russia"

# field name -> the tests that prove it changes behaviour (filled by @covers)
COVERED: dict[str, list[str]] = {}


def covers(*names: str):
    """Record that the decorated test proves these settings change behaviour."""

    def mark(fn):
        for name in names:
            COVERED.setdefault(name, []).append(fn.__name__)
        return fn

    return mark


def env(**variables) -> dict[str, str]:
    """{"DEBATE_TOP_K": "3"} from top_k=3: the environment load_settings reads."""
    return {env_name(name): str(value) for name, value in variables.items()}


def settings_from_env(**variables) -> Settings:
    return load_settings(environ=env(**variables))


@pytest.fixture
def clean_environ(monkeypatch):
    """The real process environment without any DEBATE_* variable (for CLI tests)."""
    for name in list(os.environ):
        if name.startswith("DEBATE_"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.fixture(scope="module")
def pets(tmp_path_factory, embedder):
    """A small motion (cats-dogs, two sources) in a corpus of its own, ingested into a data
    dir of its own: {"corpus_dir": ..., "data_dir": ...} as environment values."""
    root = tmp_path_factory.mktemp("pets")
    folder = root / "corpus" / "cats-dogs"
    (folder / "sources").mkdir(parents=True)
    (folder / "motion.yaml").write_text(SMALL_MOTION.format(id="cats-dogs"), encoding="utf-8")
    (folder / "sources" / "cats.md").write_text(SOURCE_A, encoding="utf-8")
    (folder / "sources" / "dogs.md").write_text(SOURCE_B, encoding="utf-8")
    places = {"corpus_dir": root / "corpus", "data_dir": root / "data"}
    s = settings_from_env(**places)
    ingest_motion(load_motion("cats-dogs", s.corpus_dir), s)
    return places


def serbia(default_settings, **variables) -> tuple[Settings, object]:
    """Settings from the environment, pointing at the session-wide serbia-russia index."""
    s = settings_from_env(data_dir=default_settings.data_dir, **variables)
    return s, load_motion("serbia-russia", s.corpus_dir)


# ------------------------------------------------------------------------------ places


@covers("corpus_dir")
def test_corpus_dir_is_where_debate_motions_looks(pets, clean_environ):
    runner = CliRunner()
    found = runner.invoke(app, ["motions"], env=env(corpus_dir=pets["corpus_dir"]))
    assert found.exit_code == 0, found.output
    assert "cats-dogs" in found.output and "serbia-russia" not in found.output
    default = runner.invoke(app, ["motions"])
    assert "serbia-russia" in default.output and "cats-dogs" not in default.output


@covers("prompts_dir")
def test_prompts_dir_supplies_the_llm_engines_system_prompt(pets, tmp_path):
    prompts = tmp_path / "prompts"
    shutil.copytree(PROJECT_ROOT / "prompts", prompts)
    (prompts / "system.txt").write_text(
        "PROMPT-FROM-TEMP-DIR: argue for {side_label}.", encoding="utf-8"
    )

    def system_prompt(**variables) -> str:
        s = settings_from_env(**pets, **variables)
        request = SpeechRequest(load_motion("cats-dogs", s.corpus_dir), s, "attack", "rebuttal")
        request.student_text = "Cats are cheaper to keep than dogs."
        engine = LLMEngine(s, model=GenericFakeChatModel(messages=iter([])))
        plan = plan_turn(request)
        return engine.messages(request, plan, plan.evidence())[0].content

    assert system_prompt(prompts_dir=prompts) == (
        "PROMPT-FROM-TEMP-DIR: argue for Dogs are better than cats."
    )
    assert "PROMPT-FROM-TEMP-DIR" not in system_prompt()


@covers("prompts_dir")
def test_prompts_dir_without_speech_templates_is_a_clear_error(tmp_path):
    with pytest.raises(DebateError, match="cannot read speech templates"):
        EvidenceEngine(settings_from_env(prompts_dir=tmp_path))


@covers("evals_dir")
def test_evals_dir_supplies_the_pass_thresholds(tmp_path):
    (tmp_path / "thresholds.yaml").write_text(
        "debate:\n  min_case_pass_rate: 0.5\n", encoding="utf-8"
    )

    def passes(**variables) -> bool:
        thresholds = load_thresholds(settings_from_env(**variables))
        return apply_thresholds(SuiteResult("debate", {"case_pass_rate": 0.6}), thresholds).passed

    assert passes(evals_dir=tmp_path)
    assert not passes()  # the repository's thresholds ask for 1.0
    with pytest.raises(EvalError, match="thresholds.yaml is missing"):
        load_thresholds(settings_from_env(evals_dir=tmp_path / "empty"))


@covers("data_dir")
def test_data_dir_holds_the_index_and_the_transcripts(pets, tmp_path):
    s = settings_from_env(**pets)
    motion = load_motion("cats-dogs", s.corpus_dir)
    assert any((Path(pets["data_dir"]) / "chroma").iterdir())  # written by the pets fixture
    assert open_store(s, "cats-dogs").count() == 4
    session = Session(motion, s, bot_side="attack")
    session.respond("Cats are cheaper to keep than dogs.")
    assert session.transcript_path.is_file()
    assert Path(pets["data_dir"]) in session.transcript_path.parents

    elsewhere = settings_from_env(corpus_dir=pets["corpus_dir"], data_dir=tmp_path / "other")
    assert not open_store(elsewhere, "cats-dogs").exists()
    with pytest.raises(IndexMissingError, match="debate ingest cats-dogs"):
        get_retriever(motion, elsewhere)


@covers("chroma_url")
def test_chroma_url_sends_the_index_to_a_server(pets, tmp_path):
    closed = f"http://127.0.0.1:{free_port()}"
    s = settings_from_env(corpus_dir=pets["corpus_dir"], data_dir=tmp_path, chroma_url=closed)
    started = time.monotonic()
    with pytest.raises(DebateError, match="cannot reach the Chroma server at " + closed):
        ingest_motion(load_motion("cats-dogs", s.corpus_dir), s)
    assert time.monotonic() - started < 30
    assert not (tmp_path / "chroma").exists()  # the embedded store was not used


@covers("model_path")
def test_model_path_is_the_embedding_model_loaded(pets, tmp_path):
    missing = tmp_path / "no-such-model"
    s = settings_from_env(corpus_dir=pets["corpus_dir"], data_dir=tmp_path, model_path=missing)
    with pytest.raises(DebateError, match=f"embedding model directory not found: {missing}"):
        ingest_motion(load_motion("cats-dogs", s.corpus_dir), s)


@covers("default_motion")
def test_default_motion_is_what_a_new_web_tab_debates(pets):
    runtime = Runtime(settings_from_env(**pets, default_motion="cats-dogs")).start()
    runtime.wait(120)
    assert h.new_tab(runtime).session.motion.id == "cats-dogs"

    # the default (serbia-russia) is not in this corpus: start-up says which motion is missing
    runtime = Runtime(settings_from_env(**pets)).start()
    with pytest.raises(DebateError, match="serbia-russia"):
        runtime.wait(120)


# ------------------------------------------------------------------------------ chunking


def passage_lengths(pets, **variables) -> list[int]:
    s = settings_from_env(**pets, **variables)
    motion = load_motion("cats-dogs", s.corpus_dir)
    spec = next(src for src in motion.sources if src.id == "cats")
    return [len(p.text) for p in prepare_source(motion, spec, s).passages]


@covers("chunk_max_chars")
def test_chunk_max_chars_splits_long_paragraphs(pets):
    default = passage_lengths(pets)
    assert len(default) == 2  # two paragraphs
    short = passage_lengths(pets, chunk_max_chars=80)
    assert len(short) > len(default)
    assert max(short) <= 80


@covers("chunk_min_chars")
def test_chunk_min_chars_merges_short_paragraphs(pets):
    default = passage_lengths(pets)
    merged = passage_lengths(pets, chunk_min_chars=sum(default))
    assert len(merged) == 1 and merged[0] > max(default)


# ------------------------------------------------------------------------------ retrieval


def turn_plan(default_settings, **variables):
    s, motion = serbia(default_settings, **variables)
    return plan_turn(SpeechRequest(motion, s, "attack", "rebuttal", ARGUMENT))


@pytest.fixture(scope="module")
def default_plan(default_settings):
    """The turn planned with every setting at its default (shared: planning is not cheap)."""
    return turn_plan(default_settings)


@covers("top_k")
def test_top_k_is_the_size_of_a_turns_evidence_and_of_a_search(default_settings, default_plan):
    assert len(turn_plan(default_settings, top_k=3).evidence()) == 3
    assert len(default_plan.pool) > 8 and len(default_plan.evidence()) == 8  # the default
    for k in (3, 5):
        s, motion = serbia(default_settings, top_k=k)
        assert len(get_retriever(motion, s).search(QUERY)) == k


@covers("per_source_cap")
def test_per_source_cap_bounds_one_sources_passages_in_a_turn(default_settings, default_plan):
    def most_from_one_source(plan) -> int:
        return max(Counter(p.source_id for p in plan.pool).values())

    assert most_from_one_source(turn_plan(default_settings, per_source_cap=1)) == 1
    assert most_from_one_source(default_plan) == 2  # the default cap, reached on this turn


@covers("per_source_cap")
def test_per_source_cap_bounds_one_sources_passages_in_a_search(default_settings):
    def sources(**variables) -> Counter:
        s, motion = serbia(default_settings, **variables)
        return Counter(r.passage.source_id for r in get_retriever(motion, s).search(QUERY, k=8))

    assert max(sources(per_source_cap=1).values()) == 1
    assert max(sources().values()) == 2


def search(default_settings, **variables):
    s, motion = serbia(default_settings, per_source_cap=0, **variables)
    return get_retriever(motion, s).search(QUERY, k=8)


def increasing(ranks) -> bool:
    return None not in ranks and ranks == sorted(ranks)


@covers("rrf_k")
def test_rrf_k_is_the_constant_of_the_fused_score(default_settings):
    for rrf_k in (1, 5, 60):
        results = search(default_settings, fusion="rrf", rrf_k=rrf_k, dense_weight=1.0)
        for r in results:
            expected = sum(1 / (rrf_k + rank) for rank in (r.bm25_rank, r.dense_rank) if rank)
            assert r.score == pytest.approx(expected)
    first = search(default_settings, fusion="rrf", rrf_k=1)[0].score
    assert first > search(default_settings, fusion="rrf", rrf_k=60)[0].score


@covers("bm25_weight", "dense_weight")
@pytest.mark.parametrize("fusion", ["convex", "rrf"])
def test_ranking_weights_choose_between_bm25_and_dense_order(default_settings, fusion):
    hybrid = search(default_settings, fusion=fusion)
    assert not increasing([r.dense_rank for r in hybrid])
    assert not increasing([r.bm25_rank for r in hybrid])

    dense_only = search(default_settings, fusion=fusion, bm25_weight=0)
    assert [r.dense_rank for r in dense_only] == list(range(1, 9))
    bm25_only = search(default_settings, fusion=fusion, dense_weight=0)
    assert [r.bm25_rank for r in bm25_only] == list(range(1, 9))


@covers("bm25_weight", "dense_weight")
def test_ranking_weights_scale_each_rankings_share_of_the_score(default_settings):
    for bm25_weight, dense_weight in ((2.0, 0.5), (0.25, 3.0)):
        results = search(
            default_settings, fusion="rrf", bm25_weight=bm25_weight, dense_weight=dense_weight
        )
        for r in results:
            expected = (bm25_weight / (60 + r.bm25_rank) if r.bm25_rank else 0.0) + (
                dense_weight / (60 + r.dense_rank) if r.dense_rank else 0.0
            )
            assert r.score == pytest.approx(expected)


def raw_rankings(default_settings, n: int):
    s, motion = serbia(default_settings)
    retriever = get_retriever(motion, s)
    return retriever.bm25_ranking(QUERY, n), retriever.dense_ranking(QUERY, n)


@covers("fusion")
def test_fusion_chooses_how_the_two_rankings_merge(default_settings):
    bm25, dense = raw_rankings(default_settings, 40)
    convex = dict(Fusion("convex", alpha=0.6, norm="zscore", depth=40)(bm25, dense))
    for r in search(default_settings):  # the default: convex, z-scores, dense 1.5 : bm25 1
        assert r.score == pytest.approx(convex[r.passage.id])
    assert [r.dense_rank for r in search(default_settings, fusion="dense")] == list(range(1, 9))
    assert [r.bm25_rank for r in search(default_settings, fusion="bm25")] == list(range(1, 9))
    assert {r.bm25_rank for r in search(default_settings, fusion="dense")} <= {None} | set(
        range(1, 41)
    )
    with pytest.raises(DebateError, match="DEBATE_FUSION"):
        search(default_settings, fusion="magic")


@covers("candidates")
def test_candidates_is_how_deep_each_ranking_is_read(default_settings):
    for depth in (40, 150):
        bm25, dense = raw_rankings(default_settings, depth)
        convex = dict(Fusion("convex", alpha=0.6, norm="zscore", depth=depth)(bm25, dense))
        results = search(default_settings, candidates=depth)
        for r in results:
            assert r.score == pytest.approx(convex[r.passage.id])
            assert (r.bm25_rank or 0) <= depth and (r.dense_rank or 0) <= depth
    shallow = search(default_settings, candidates=40)[0].score
    assert shallow != pytest.approx(search(default_settings, candidates=150)[0].score)


# ------------------------------------------------------------------------------ messages


@covers("max_message_chars")
def test_max_message_chars_truncates_a_long_message_with_a_notice(pets):
    message = " ".join(["Cats are cheaper to keep than dogs and need less daily care."] * 8)
    assert 300 < len(message) < 4000

    def respond(**variables):
        s = settings_from_env(**pets, **variables)
        session = Session(load_motion("cats-dogs", s.corpus_dir), s, bot_side="attack")
        reply = session.respond(message)
        return session.turns[0].text, reply.notices

    kept, notices = respond(max_message_chars=300)
    assert len(kept) <= 300 and message.startswith(kept)
    assert any(f"was {len(message):,} characters long" in n for n in notices)
    kept, notices = respond()
    assert kept == message and not any("characters long" in n for n in notices)


# ------------------------------------------------------------------------------ LLM


@covers("llm")
def test_llm_chooses_the_llm_engine():
    engine = get_engine(settings_from_env(llm="openai:gpt-4o-mini", llm_api_key="sk-test"))
    assert isinstance(engine, LLMEngine) and engine.name == "llm:openai:gpt-4o-mini"
    assert type(get_engine(settings_from_env())) is EvidenceEngine


@covers("llm_base_url", "llm_api_key", "llm_timeout")
def test_llm_client_carries_base_url_key_and_timeout():
    model = make_chat_model(
        settings_from_env(
            llm="gpt-test",
            llm_base_url="http://127.0.0.1:9/v1",
            llm_api_key="sk-from-env",
            llm_timeout=2.5,
        )
    )
    assert model.openai_api_base == "http://127.0.0.1:9/v1"
    assert model.openai_api_key.get_secret_value() == "sk-from-env"
    assert model.request_timeout == 2.5
    assert model.model_name == "gpt-test"
    default = make_chat_model(settings_from_env(llm="gpt-test", llm_base_url="http://x/v1"))
    assert default.request_timeout == 60.0
    assert default.openai_api_key.get_secret_value() != "sk-from-env"


@covers("llm_base_url", "llm_api_key")
def test_llm_base_url_and_key_are_where_and_how_the_model_is_called(replay):
    server = replay(["Hello from the replay server."])
    model = make_chat_model(
        settings_from_env(llm="gpt-test", llm_base_url=server.openai_url, llm_api_key="sk-env")
    )
    assert model.invoke("hi").text == "Hello from the replay server."
    [request] = server.requests
    assert request.path.endswith("/chat/completions")
    assert request.headers["authorization"] == "Bearer sk-env"
    assert request.body["model"] == "gpt-test"


@covers("llm_timeout")
def test_llm_timeout_bounds_the_wait_for_the_model(replay):
    server = replay(["too late"], delay=4)
    model = make_chat_model(
        settings_from_env(llm="gpt-test", llm_base_url=server.openai_url, llm_timeout=0.5)
    )
    started = time.monotonic()
    with pytest.raises(Exception, match="(?i)time"):
        model.invoke("hi")
    assert time.monotonic() - started < 3


@covers("llm_mode")
def test_llm_mode_decides_whether_a_model_may_state_facts_in_its_own_words():
    from debate.check.citations import EvidenceList, Reply
    from debate.check.guard import check
    from debate.corpus.passages import Passage

    text = "Serbia has not imposed any sanctions on Russia since the full-scale invasion began."
    passage = Passage("p", "serbia-russia", "s", text, 0, len(text), 1)
    said = "Serbia has imposed no sanctions on Russia since the invasion began [1]."
    reply = Reply(said, EvidenceList([passage]), side="attack", engine="llm")
    statuses = {
        mode: check(reply, settings_from_env(llm_mode=mode))[0].status
        for mode in ("cards", "paraphrase")
    }
    assert statuses == {"cards": "unsupported", "paraphrase": "supported"}


# ------------------------------------------------------------------------------ web app


@covers("speaking_rate")
def test_speaking_rate_sets_the_word_budget_of_the_bots_speeches(default_settings):
    from debate.corpus.formats import load_format
    from debate.spar.speech_order import word_count

    words = {}
    for rate in ("150", "50"):
        settings, motion = serbia(default_settings, speaking_rate=rate)
        session = Session(motion, settings, bot_side="attack", fmt=load_format("pf"))
        session.autosave = False
        session.respond("Serbia voted at the UN to condemn Russia's invasion of Ukraine.")
        words[rate] = word_count(session.turns[-1].text)  # Con Constructive, 4 minutes
    assert words["50"] <= 200 < words["150"] <= 600
    with pytest.raises(DebateError, match="DEBATE_SPEAKING_RATE"):
        settings_from_env(speaking_rate=0)


@pytest.mark.slow
@covers("host", "port")
def test_host_and_port_are_where_debate_serve_listens(tmp_path, clean_environ):
    # 127.0.0.2 is loopback too, but not the default host: only DEBATE_HOST puts it there
    # (ServedApp passes host and port to the server as DEBATE_HOST and DEBATE_PORT only)
    port = free_port()
    with ServedApp(tmp_path, env(data_dir=tmp_path / "data"), host="127.0.0.2", port=port):
        with pytest.raises(urllib.error.URLError):  # not on the default host
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)


@covers("coach_password")
def test_coach_password_locks_the_coach_controls(pets):
    locked = Runtime(settings_from_env(**pets, default_motion="cats-dogs", coach_password="s3"))
    locked.start().wait(120)
    state = h.new_tab(locked)
    with pytest.raises(DebateError, match="Coach controls are locked"):
        h.switch_side(state, locked, "defend")
    assert h.unlock_coach(state, locked, "wrong")[0] is False
    with pytest.raises(DebateError, match="Coach controls are locked"):
        h.create_motion(state, locked, "Tea or coffee", "Tea beats coffee", "Calm", "Taste")
    assert h.unlock_coach(state, locked, "s3")[0] is True
    assert "Switching sides" in h.switch_side(state, locked, "defend")

    open_ = Runtime(settings_from_env(**pets, default_motion="cats-dogs")).start()
    open_.wait(120)
    state = h.new_tab(open_)
    assert "Switching sides" in h.switch_side(state, open_, "defend")


@covers("upload_max_mb")
def test_upload_max_mb_refuses_a_bigger_source(make_pack, tmp_path):
    folder = make_pack("upload-limit")
    big = tmp_path / "big.md"
    front = SOURCE_B.replace("Dogs and people", "Dogs at work").replace("/dogs", "/work")
    paragraph = "Working dogs herd sheep, find people under rubble and sniff out explosives."
    big.write_text(front + f"\n{paragraph}\n" * 12, encoding="utf-8")
    assert 1024 < big.stat().st_size < 20 * 1024
    places = {"corpus_dir": folder.parent, "data_dir": tmp_path / "data"}
    yaml_before = (folder / "motion.yaml").read_text(encoding="utf-8")

    tight = settings_from_env(**places, upload_max_mb=0.001)
    with pytest.raises(SourceError, match=r"over the 0\.001 MB upload limit"):
        ingest.add_source(load_motion("upload-limit", tight.corpus_dir), big, tight)
    assert not (folder / "sources" / "big.md").exists()
    assert (folder / "motion.yaml").read_text(encoding="utf-8") == yaml_before

    # the web app's upload handler refuses it too, before anything is written
    runtime = Runtime(
        settings_from_env(**places, default_motion="upload-limit", upload_max_mb=0.001)
    )
    ingest_motion(load_motion("upload-limit", tight.corpus_dir), tight)
    runtime.start().wait(120)
    state = h.new_tab(runtime)
    with pytest.raises(SourceError, match=r"over the 0\.001 MB upload limit"):
        h.add_source(state, runtime, "upload-limit", str(big), {})
    assert not (folder / "sources" / "big.md").exists()

    default = settings_from_env(**places)
    added = ingest.add_source(load_motion("upload-limit", default.corpus_dir), big, default)
    assert added.source_id == "big" and (folder / "sources" / "big.md").is_file()


# ------------------------------------------------------------------------------ debate config


def config_row(output: str, name: str) -> list[str]:
    line = next(line for line in output.splitlines() if f" {name} " in line)
    return [cell.strip() for cell in line.split("│")[1:-1]]


def test_debate_config_shows_a_set_secret_as_stars_and_an_unset_one_as_nothing(clean_environ):
    runner = CliRunner()
    shown = runner.invoke(app, ["config"], env={"DEBATE_COACH_PASSWORD": "hunter2"})
    assert shown.exit_code == 0, shown.output
    assert "hunter2" not in shown.output
    assert config_row(shown.output, "DEBATE_COACH_PASSWORD")[1] == "***"
    assert config_row(shown.output, "DEBATE_LLM_API_KEY")[1] == ""

    unset = runner.invoke(app, ["config"], env={"DEBATE_TOP_K": "5"})
    assert config_row(unset.output, "DEBATE_COACH_PASSWORD")[1] == ""
    assert config_row(unset.output, "DEBATE_TOP_K")[1:] == ["5", "8"]


@pytest.mark.parametrize("name, raw", [("top_k", "abc"), ("llm_timeout", "soon")])
def test_an_invalid_number_is_a_clear_error_naming_the_variable(name, raw):
    with pytest.raises(DebateError, match=f"{env_name(name)}='{raw}' is not a valid"):
        settings_from_env(**{name: raw})


def test_an_invalid_number_on_the_command_line_is_one_line_naming_the_variable(clean_environ):
    result = subprocess.run(
        [sys.executable, "-m", "debate.cli", "config"],
        env={**{k: v for k, v in os.environ.items()}, "DEBATE_TOP_K": "abc"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "DEBATE_TOP_K='abc' is not a valid int" in result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------------------ meta


def test_every_setting_has_a_test():
    names = {f.name for f in fields(Settings)}
    assert set(COVERED) == names, f"settings without a test: {sorted(names - set(COVERED))}"
    # `debate config` lists exactly these settings
    assert {row[2] for row in describe_settings()} == names
    # and each is set through its environment variable in at least one of its tests
    module = sys.modules[__name__]
    for name, tests in COVERED.items():
        sources = "".join(inspect.getsource(getattr(module, t)) for t in tests)
        assert f"{name}=" in sources or env_name(name) in sources, name
