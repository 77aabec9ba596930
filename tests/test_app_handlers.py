"""The web app's behaviour without a browser: per-tab sessions, streaming chat, the evidence
panel, coach controls, uploads and transcript export (real model, real Chroma)."""

from __future__ import annotations

import re
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from debate.app import handlers as h
from debate.app import render
from debate.app.runtime import OFFLINE, Runtime
from debate.check.citations import EvidenceList
from debate.check.faithfulness import Verdict
from debate.core.errors import DebateError, MotionError, QueryError, SourceError
from debate.corpus.motions import load_motion
from debate.corpus.passages import Passage

ARGUMENT = "Serbia refuses to sanction Russia, so it is obviously Moscow's ally."


@pytest.fixture(scope="module")
def runtime(default_settings):
    rt = Runtime(default_settings).start()
    rt.wait(120)
    return rt


@pytest.fixture(scope="module")
def locked_runtime(default_settings):
    rt = Runtime(replace(default_settings, coach_password="s3cret")).start()
    rt.wait(120)
    return rt


@pytest.fixture(scope="module")
def debated(runtime):
    """One tab after one exchange (shared by read-only tests to keep the suite fast)."""
    state = h.new_tab(runtime)
    chats = list(h.send(state, ARGUMENT))
    return state, chats


def _last_bot(state):
    return state.session.turns[h.bot_turn_indices(state)[-1]]


def test_runtime_reports_loading_then_ready(default_settings):
    rt = Runtime(default_settings)
    text, kind = rt.status()
    assert kind == "loading" and "Loading" in text
    rt.start().wait(120)
    assert rt.status() == ("Ready.", "ok")


def test_send_streams_then_renders_clickable_citations_and_badge(debated):
    state, chats = debated
    assert len(chats) >= 3  # placeholder, at least one streamed chunk, final
    assert "streaming" in chats[1][-1]["content"]
    final = chats[-1]
    assert [m["role"] for m in final] == ["user", "assistant"]
    bot_html = final[-1]["content"]
    turn = h.bot_turn_indices(state)[-1]
    assert f'data-turn="{turn}"' in bot_html
    assert re.search(r'<a class="cite" href="#ev-1" data-cite="1">1</a>', bot_html)
    assert re.search(
        r'class="badge badge-(ok|warn)"[^>]*>[^<]*\d+/\d+ citations verified', bot_html
    )


def test_tabs_never_share_a_debate(runtime, debated):
    state, _ = debated
    other = h.new_tab(runtime)
    assert other.session is not state.session
    assert other.session.turns == [] and h.chat_messages(other) == []
    assert len(state.session.turns) >= 2


def test_empty_message_is_refused_before_anything_changes(runtime):
    state = h.new_tab(runtime)
    with pytest.raises(QueryError, match="empty"):
        list(h.send(state, "   "))
    assert state.session.turns == []


def test_student_html_is_escaped(runtime):
    assert "<script>" not in render.student_message_html("<script>alert(1)</script>")
    assert "&lt;script&gt;" in render.student_message_html("<script>alert(1)</script>")


def test_clicked_citation_shows_passage_with_quoted_span_highlighted(debated):
    state, _ = debated
    turn_index = h.bot_turn_indices(state)[-1]
    turn = state.session.turns[turn_index]
    # A citation whose sentence quotes its passage (some cite a paraphrased claim instead).
    quoted = [
        c
        for c in dict.fromkeys(int(x) for x in re.findall(r"\[(\d+)\]", turn.text))
        if render.quotes_citing(turn.text, c)
    ]
    assert quoted, "the evidence engine quotes its passages"
    n = quoted[0]
    h.select_citation(state, f"{turn_index}:{n}")
    panel = h.evidence_html(state)
    focused = re.search(r'<div class="ev-card focused" id="ev-(\d+)".*?</blockquote>', panel, re.S)
    assert focused and int(focused.group(1)) == n
    passage = turn.evidence.get(n)
    assert passage.title.replace("'", "&#x27;") in focused.group(0)
    assert passage.publisher in focused.group(0) and passage.url in focused.group(0)
    marks = re.findall(r'<mark class="quote">(.*?)</mark>', focused.group(0), re.S)
    assert marks and all(
        m.replace("&#x27;", "'").replace("&quot;", '"') in passage.text for m in marks
    )


def test_uncited_evidence_is_listed_separately(debated):
    state, _ = debated
    turn = _last_bot(state)
    cited = {int(x) for x in re.findall(r"\[(\d+)", turn.text)}
    state.focus_turn, state.focus_n = h.bot_turn_indices(state)[-1], None
    panel = h.evidence_html(state)
    if len(turn.evidence) > len(cited):
        assert '<details class="ev-uncited"' in panel
    else:
        assert "ev-uncited" not in panel


def test_bad_citation_target_is_ignored(debated):
    state, _ = debated
    before = (state.focus_turn, state.focus_n)
    h.select_citation(state, "not-a-turn")
    h.select_citation(state, "0:1")  # turn 0 is the student's
    assert (state.focus_turn, state.focus_n) == before


def test_highlight_ignores_case_curly_quotes_and_spacing():
    text = "Vučić said Serbia “will never   impose” sanctions — ever."
    body, found = render.highlight(text, ['"will never impose" sanctions - ever'])
    assert found == 1
    assert '<mark class="quote">will never   impose” sanctions — ever</mark>' in body
    assert render.highlight(text, ["invented words"]) == (render.esc(text), 0)


def _passage(text: str, **meta) -> Passage:
    fields = {"title": "T", "publisher": "P", "date": "2024-01-01", "url": "https://e.org"}
    return Passage("p1", "m", "s", text, 0, len(text), 1, **{**fields, **meta})


def test_panel_highlights_quotes_the_checker_accepts_with_guillemets_and_odd_dashes():
    from debate.core.text import quote_found, quoted_spans

    passage = _passage(
        "Belgrade calls its policy military neutrality and says Serbia stays non-aligned."
    )
    # «…» quote marks and a non-breaking hyphen (U+2011), as an LLM may write them.
    text = "Belgrade speaks of «military neutrality» and a “non‑aligned” Serbia [1]."
    quotes = quoted_spans(text)
    assert quotes == ["military neutrality", "non‑aligned"]
    assert all(quote_found(q, passage.text) for q in quotes)  # what the checker asks
    panel = render.evidence_panel(0, text, EvidenceList([passage]), focus=1)
    assert '<mark class="quote">military neutrality</mark>' in panel
    assert '<mark class="quote">non-aligned</mark>' in panel
    assert "not found" not in panel


def test_bot_turn_shows_the_verdicts_the_session_recorded(debated):
    state, _ = debated
    turn = _last_bot(state)
    assert turn.verdicts and all(isinstance(v, Verdict) for v in turn.verdicts)
    html = h.chat_messages(state)[-1]["content"]
    assert "not checked" not in html
    from debate.check.faithfulness import badge

    assert render.esc(badge(turn.verdicts)) in html


def test_a_turn_without_verdicts_is_shown_as_not_checked():
    p = _passage("Serbia buys gas from Russia.")
    html = render.bot_message_html(1, "Serbia buys gas [1].", EvidenceList([p]), [], checked=False)
    assert "citations not checked" in html and "badge-warn" in html and "badge-ok" not in html


def test_app_code_has_no_module_missing_guards():
    import debate.app

    for path in Path(debate.app.__file__).parent.glob("*.py"):
        code = path.read_text(encoding="utf-8")
        assert "find_spec" not in code and "ImportError" not in code, path.name


def test_unverified_sentence_and_fabricated_citation_are_marked():
    p = _passage("Serbia buys gas from Russia.")
    text = 'Serbia buys "gas from Russia" [1]. Serbia owns the moon [3].'
    verdicts = [
        Verdict(text[:34], 0, 34, (1,), "supported", "ok", supported_by=(1,)),
        Verdict(text[35:], 35, len(text), (3,), "fabricated-citation", "no [3]", fabricated=(3,)),
    ]
    html = render.bot_message_html(1, text, EvidenceList([p]), verdicts)
    assert '<span class="unverified" title="Not verified: no [3]">' in html
    assert '<span class="cite-bad" title="no such evidence">3?</span>' in html
    assert "badge-warn" in html and "badge-ok" not in html
    panel = render.evidence_panel(1, text, EvidenceList([p]), focus=1)
    assert '<mark class="quote">gas from Russia</mark>' in panel
    assert "fabricated citation" in panel


def test_switch_side_is_open_without_a_coach_password(runtime):
    state = h.new_tab(runtime)
    assert state.coach_ok
    ack = h.switch_side(state, runtime)
    assert state.session.bot_side == "defend" and "proposition" in ack
    assert ack in h.chat_messages(state)[-1]["content"]


def test_coach_password_guards_side_switch_then_next_speech_argues_new_side(locked_runtime):
    state = h.new_tab(locked_runtime)
    assert not state.coach_ok
    with pytest.raises(DebateError, match="locked"):
        h.switch_side(state, locked_runtime)
    ok, text = h.unlock_coach(state, locked_runtime, "wrong")
    assert not ok and "Wrong" in text
    with pytest.raises(DebateError, match="locked"):
        h.coach_restart(state, locked_runtime, "bot", OFFLINE)
    ok, _ = h.unlock_coach(state, locked_runtime, "s3cret")
    assert ok
    h.switch_side(state, locked_runtime, "defend")
    list(h.send(state, "Serbia is Russia's friend because it buys Russian gas."))
    assert _last_bot(state).side == "defend"
    assert "bot defends" in h.chat_messages(state)[-1]["content"]


def test_coach_restart_with_bot_opening_keeps_side_and_coach_access(runtime):
    state = h.new_tab(runtime)
    h.switch_side(state, runtime, "defend")
    fresh = h.coach_restart(state, runtime, "bot", OFFLINE)
    assert fresh.session is not state.session
    assert fresh.session.bot_side == "defend" and fresh.coach_ok
    assert [t.speaker for t in fresh.session.turns] == ["bot"]
    assert fresh.focus_turn == 0
    with pytest.raises(DebateError, match="unknown engine"):
        h.coach_restart(state, runtime, "student", "openai:not-configured")


def test_transcript_export_has_speeches_sides_and_bibliography(runtime):
    state = h.new_tab(runtime)
    list(h.send(state, ARGUMENT))
    h.switch_side(state, runtime, "defend")
    list(h.send(state, "Serbia depends on Russian gas, so it cannot be independent."))
    text = Path(h.transcript_file(state)).read_text(encoding="utf-8")
    assert "# Serbia and Russia" in text and ARGUMENT in text
    assert "opposition" in text and "proposition" in text  # both sides over time
    bib = text.split("## Sources", 1)[1]
    entries = re.findall(r"^(\d+)\. .+ https?://\S+$", bib, re.M)
    assert entries and entries == [str(i) for i in range(1, len(entries) + 1)]
    assert len(list(state.export_dir.glob("*.md"))) == 1  # old exports replaced


def test_transcript_download_lives_in_the_data_dir_and_goes_when_the_tab_closes(runtime):
    temp = Path(tempfile.gettempdir())
    before = set(temp.glob("debate-tab-*"))
    state = h.new_tab(runtime)
    list(h.send(state, ARGUMENT))
    path = Path(h.transcript_file(state))
    assert path.parent == runtime.settings.data_dir / "exports" / state.tab_id
    assert set(temp.glob("debate-tab-*")) == before  # nothing left in the system temp dir
    h.close_tab(state)
    assert not path.exists() and not state.export_dir.exists()
    h.close_tab(None)  # a tab closed before its debate was loaded


def test_the_page_deletes_a_tab_state_with_close_tab(default_settings):
    from debate.app import build_app

    demo = build_app(default_settings)
    states = [b for b in demo.blocks.values() if type(b).__name__ == "State"]
    assert [s.delete_callback for s in states] == [h.close_tab]


def test_phase_control_and_timer_lengths(runtime):
    state = h.new_tab(runtime)
    assert 'class="phase current" data-phase="opening"' in h.phase_html(state)
    h.set_phase_minutes(state, {"rebuttal": "2.5", "closing": "oops"})
    assert h.next_phase(state) == "rebuttal"
    assert 'data-seconds="150"' in h.timer_html(state) and "02:30" in h.timer_html(state)
    assert state.phase_seconds["closing"] == h.DEFAULT_PHASE_SECONDS["closing"]


# ---------------------------------------------------------------- uploads and new motions


@pytest.fixture
def pack_runtime(make_pack, settings):
    """A runtime over a small cats-vs-dogs pack of its own (uploads write into it)."""
    from debate.corpus.ingest import ingest_motion

    folder = make_pack()
    s = replace(settings, corpus_dir=folder.parent, default_motion="cats-dogs", upload_max_mb=0.05)
    ingest_motion(load_motion("cats-dogs", s.corpus_dir), s)
    rt = Runtime(s).start()
    rt.wait(120)
    return rt, folder


FORM = {
    "title": "Cats and allergies",
    "publisher": "Allergy Today",
    "date": "2024-05-06",
    "url": "https://example.org/allergy",
    "stance": "opposes",
    "author": "",
}
BODY = (
    "Cat dander causes allergies in about ten percent of people, far more often than "
    "dogs do, according to a 2022 clinical review of 3,000 patients.\n"
)


def _upload(tmp_path, name: str, data: bytes | str) -> Path:
    path = tmp_path / "uploads" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def test_md_upload_without_front_matter_gets_it_and_is_searchable(pack_runtime, tmp_path):
    rt, folder = pack_runtime
    state = h.new_tab(rt)
    upload = str(_upload(tmp_path, "allergy.md", BODY))
    status = h.add_source(state, rt, "cats-dogs", upload, dict(FORM))
    assert "searchable now" in status and "Cats and allergies" in status
    written = (folder / "sources" / "allergy.md").read_text(encoding="utf-8")
    assert written.startswith("---\ntitle: Cats and allergies\n") and BODY in written
    job = h.upload_view(state, rt, "cats-dogs")  # the background job's progress, at its end
    assert job.state == "done" and job.done == job.total > 0
    assert any(s.id == "allergy" for s in state.session.motion.sources)
    from debate.search.retrieval import get_retriever

    hits = get_retriever(rt.motion("cats-dogs"), rt.settings).search("dander allergies", k=2)
    assert hits[0].passage.source_id == "allergy"


def test_html_upload_gets_an_entry_in_motion_yaml(pack_runtime, tmp_path):
    rt, folder = pack_runtime
    state = h.new_tab(rt)
    page = (
        f"<html><head><title>x</title></head><body><article><p>{BODY}</p></article></body></html>"
    )
    h.add_source(
        state, rt, "cats-dogs", str(_upload(tmp_path, "Allergy Page.html", page)), dict(FORM)
    )
    assert (folder / "sources" / "uploads" / "Allergy-Page.html").is_file()
    entry = yaml.safe_load((folder / "motion.yaml").read_text())["sources"][-1]
    assert entry["path"] == "sources/uploads/Allergy-Page.html"
    assert entry["publisher"] == "Allergy Today" and entry["stance"] == "opposes"
    assert load_motion(folder, folder.parent).sources[-1].id == "allergy-page"


@pytest.mark.parametrize(
    ("name", "data", "form", "reason"),
    [
        ("notes.xlsx", b"PK\x03\x04", FORM, "unsupported file type .xlsx"),
        ("big.txt", "x " * 40_000, FORM, "over the 0.05 MB upload limit"),
        ("empty.md", b"", FORM, "the file is empty"),
        ("bare.md", BODY, {**FORM, "publisher": "", "url": ""}, "fill in publisher, url"),
        ("binary.txt", b"\x00\x01\x02" * 10, FORM, "binary file"),
        ("badurl.md", BODY, {**FORM, "url": "ftp://x"}, "must be an http(s) URL"),
        ("cats.md", BODY, FORM, "already has a source with id 'cats'"),
        ("scan.pdf", b"%PDF-1.4 not really a pdf", FORM, "unreadable PDF"),
    ],
)
def test_rejected_upload_gives_reason_and_leaves_pack_unchanged(
    pack_runtime, tmp_path, name, data, form, reason
):
    rt, folder = pack_runtime
    state = h.new_tab(rt)
    before_yaml = (folder / "motion.yaml").read_text()
    before_files = sorted(p.name for p in folder.rglob("*") if p.is_file())
    with pytest.raises(SourceError) as err:
        h.add_source(state, rt, "cats-dogs", str(_upload(tmp_path, name, data)), dict(form))
    # The reason names the uploaded file, not the staging copy it was checked as.
    assert reason in str(err.value) and str(err.value).startswith(f"{name}: ")
    assert (folder / "motion.yaml").read_text() == before_yaml
    assert sorted(p.name for p in folder.rglob("*") if p.is_file()) == before_files
    load_motion(folder, folder.parent)  # the pack still loads


def test_upload_requires_coach_when_locked(pack_runtime, tmp_path):
    rt, _ = pack_runtime
    locked = Runtime(replace(rt.settings, coach_password="pw")).start()
    state = h.new_tab(locked)
    with pytest.raises(DebateError, match="locked"):
        h.add_source(state, locked, "cats-dogs", str(_upload(tmp_path, "a.md", BODY)), dict(FORM))


def test_create_motion_writes_a_valid_pack_and_refuses_duplicates(pack_runtime):
    rt, folder = pack_runtime
    state = h.new_tab(rt)
    motion = h.create_motion(
        state,
        rt,
        title="School uniforms",
        thesis="Schools should require uniforms",
        defend_claims="- Uniforms cut bullying\n",
        attack_claims="Uniforms limit expression\nThey cost families",
    )
    assert (
        motion.id == "school-uniforms" and (folder.parent / "school-uniforms" / "sources").is_dir()
    )
    loaded = load_motion("school-uniforms", folder.parent)
    assert [c.claim for c in loaded.contentions["attack"]] == [
        "Uniforms limit expression",
        "They cost families",
    ]
    assert (
        "School uniforms: Schools should require uniforms",
        "school-uniforms",
    ) in h.motion_choices(rt)
    with pytest.raises(MotionError, match="already exists"):
        h.create_motion(
            state, rt, title="School Uniforms", thesis="x", defend_claims="a", attack_claims="b"
        )
    with pytest.raises(MotionError, match="at least one contention"):
        h.create_motion(
            state, rt, title="Another", thesis="x", defend_claims="a", attack_claims=" "
        )


def test_tab_opened_before_an_upload_debates_the_updated_pack(pack_runtime, tmp_path):
    rt, _ = pack_runtime
    older, coach = h.new_tab(rt), h.new_tab(rt)
    h.add_source(coach, rt, "cats-dogs", str(_upload(tmp_path, "allergy.md", BODY)), dict(FORM))
    assert not any(s.id == "allergy" for s in older.session.motion.sources)
    list(h.send(older, "Cats cause allergies in many people, so dogs are better.", rt))
    assert older.session.motion is rt.motion("cats-dogs")
    assert any(s.id == "allergy" for s in older.session.motion.sources)


def _html_values(demo) -> str:
    return " ".join(str(getattr(b, "value", "")) for b in demo.blocks.values())


def test_page_says_single_user_mode_without_a_coach_password(default_settings):
    from debate.app import build_app

    open_page = _html_values(build_app(default_settings))
    assert "Single-user mode" in open_page and "locked" not in open_page
    locked_page = _html_values(build_app(replace(default_settings, coach_password="pw")))
    assert "Coach controls are locked" in locked_page and "Single-user" not in locked_page


def test_question_phase_shows_only_while_it_lasts():
    phases = ("opening", "rebuttal", "closing", "question")
    assert "Questions" not in render.phase_indicator(phases, "rebuttal")
    assert 'class="phase current" data-phase="question"' in render.phase_indicator(
        phases, "question"
    )
