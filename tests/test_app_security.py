"""Coach access at the HTTP level: `debate serve` on loopback with DEBATE_COACH_PASSWORD set,
called as an outsider would (gradio_client, and raw HTTP on Gradio's queue by fn_index, which
reaches even the endpoints hidden from the API docs). Every coach action is refused by the
server without the password; failed unlocks are rate-limited; the password is never echoed,
logged or written to disk.

`AppServer` and the HTTP helpers are in tests/apps.py, the `app` fixture in tests/conftest.py.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.apps import MOTION, AppServer, config, fn_index, listing, raw_call, status_text

pytestmark = pytest.mark.slow  # starts `debate serve` (the guard's unit tests ride along)
# `app` (tests/conftest.py): a `debate serve` of this module's own over the cats-dogs pack


def transcripts(app: AppServer) -> list[dict]:
    folder = app.data / "transcripts"
    return [json.loads(p.read_text()) for p in sorted(folder.rglob("*.json"))]


def bot_side_of_last_turn(app: AppServer, token: str) -> str:
    for t in transcripts(app):
        if any(token in (turn.get("text") or "") for turn in t.get("turns", [])):
            return t["bot_side"]
    raise AssertionError(f"no transcript holds {token}")


# ---------------------------------------------------------------- coach actions refused

COACH_ENDPOINTS = ["switch_side", "restart", "add_source", "create_motion"]


def coach_calls(tmp_file: str):
    from gradio_client import handle_file

    return {
        "switch_side": {},
        "restart": {"opener": "bot", "engine": "offline"},
        "add_source": {
            "motion_id": MOTION,
            "path": handle_file(tmp_file),
            "title": "Injected",
            "publisher": "X",
            "author": "",
            "date": "2024-01-01",
            "stance": "mixed",
            "url": "https://example.org/x",
        },
        "create_motion": {
            "title": "Hostile takeover",
            "thesis": "Coaches need no password",
            "defend": "a",
            "attack": "b",
        },
    }


def call(client, api_name: str, args: dict):
    return client.predict(*args.values(), api_name="/" + api_name)


def test_every_coach_action_is_refused_by_the_server_without_the_password(app, tmp_path):
    upload = tmp_path / "planted.md"
    upload.write_text("# planted\n\nA planted paragraph long enough to be one passage, " * 5)
    before = listing(app.corpus)
    client = app.client()
    token = f"tok{uuid.uuid4().hex[:8]}"
    client.predict(f"Cats are cheaper to keep than dogs {token}", api_name="/send")
    side = bot_side_of_last_turn(app, token)
    for name, args in coach_calls(str(upload)).items():
        out = call(client, name, args)
        text = status_text(out[0] if isinstance(out, tuple) else out)
        assert "locked" in text.lower(), (name, text)
    assert listing(app.corpus) == before  # no source added, no motion created
    assert bot_side_of_last_turn(app, token) == side  # side unchanged


def test_coach_actions_are_refused_over_raw_http_by_fn_index(app):
    """Without gradio_client: join the queue by fn_index, as any script could, including
    for endpoints the API docs do not list."""
    session = uuid.uuid4().hex[:10]
    raw_call(app, session, fn_index(app, "load"), [])
    before = listing(app.corpus)
    calls = {
        "switch_side": [None],
        "restart": [None, "bot", "offline"],
        "create_motion": [None, "Raw motion", "Raw thesis is here", "a", "b"],
    }
    for name, data in calls.items():
        out = raw_call(app, session, fn_index(app, name), data)
        assert "locked" in json.dumps(out).lower(), (name, out)
    assert listing(app.corpus) == before


def test_a_fresh_session_without_load_is_refused_too(app):
    """Calling a coach endpoint before the page loaded (no debate state): refused."""
    session = uuid.uuid4().hex[:10]
    out = raw_call(app, session, fn_index(app, "switch_side"), [None])
    assert "loading" in json.dumps(out).lower() or "locked" in json.dumps(out).lower()


def test_coach_endpoints_are_not_in_the_public_api_docs(app):
    from gradio_client import Client

    info = Client(app.url, verbose=False, download_files=False).view_api(
        print_info=False, return_format="dict"
    )
    public = set(info["named_endpoints"])
    for name in COACH_ENDPOINTS + ["unlock"]:
        assert "/" + name not in public
    assert "/send" in public and "/load" in public


def test_right_password_unlocks_and_the_coach_can_switch_sides(app):
    client = app.client()
    out = client.predict(app.password, api_name="/unlock")
    assert "unlocked" in status_text(out[0]).lower()
    assert app.password not in json.dumps(out)
    token = f"tok{uuid.uuid4().hex[:8]}"
    client.predict(f"Dogs cost more per year than cats do {token}", api_name="/send")
    before = bot_side_of_last_turn(app, token)
    out = client.predict(api_name="/switch_side")
    assert "switching sides" in status_text(out[0]).lower()
    assert bot_side_of_last_turn(app, token) != before


def test_failed_unlocks_are_rate_limited_per_client(app):
    """Five wrong passwords, then a lockout that even the right password cannot pass, and a
    new tab from the same address is locked out too."""
    client = app.client()
    for i in range(4):
        out = client.predict(f"guess-{i}", api_name="/unlock")
        assert "wrong coach password" in status_text(out[0]).lower()
    out = client.predict("guess-5", api_name="/unlock")
    assert "too many" in status_text(out[0]).lower()
    out = client.predict(app.password, api_name="/unlock")
    assert "too many" in status_text(out[0]).lower()
    other_tab = app.client()
    out = other_tab.predict(app.password, api_name="/unlock")
    assert "too many" in status_text(out[0]).lower()
    switched = other_tab.predict(api_name="/switch_side")
    assert "locked" in status_text(switched[0]).lower()


def test_the_password_is_never_logged_echoed_or_stored(app):
    client = app.client()
    client.predict(app.password + "x", api_name="/unlock")  # a near miss, echoed nowhere
    token = f"tok{uuid.uuid4().hex[:8]}"
    client.predict(f"My password is {app.password} and cats win {token}", api_name="/send")
    wrong = app.password + "x"
    for path, _ in listing(app.data).items():
        text = Path(path).read_bytes().decode("utf-8", "replace")
        assert wrong not in text, path
    assert app.password not in app.log()
    assert wrong not in app.log()
    cfg = json.dumps(config(app))
    assert app.password not in cfg


# ---------------------------------------------------------------- the rate limiter itself


def test_unlock_guard_locks_out_after_free_failures_and_doubles_the_delay():
    from debate.app.access import UnlockGuard

    now = [0.0]
    guard = UnlockGuard("pw", free=3, base_delay=2, max_delay=60, clock=lambda: now[0])
    keys = ["tab:a", "client:1.2.3.4"]
    assert guard.attempt("x", keys) == (False, 0.0)
    assert guard.attempt("x", keys) == (False, 0.0)
    assert guard.attempt("x", keys) == (False, 2.0)  # third failure: locked for 2 s
    assert guard.attempt("pw", keys)[0] is False  # right password refused while locked
    now[0] += 2.1
    assert guard.attempt("x", keys) == (False, 4.0)  # doubles
    now[0] += 4.1
    assert guard.attempt("pw", keys) == (True, 0.0)
    assert guard.attempt("x", keys) == (False, 0.0)  # success cleared the count


def test_unlock_guard_locks_an_address_across_tabs():
    from debate.app.access import UnlockGuard

    guard = UnlockGuard("pw", free=2, clock=lambda: 0.0)
    for tab in range(2):
        guard.attempt("x", [f"tab:{tab}", "client:9.9.9.9"])
    assert guard.attempt("pw", ["tab:new", "client:9.9.9.9"])[0] is False
    assert guard.attempt("pw", ["tab:other", "client:8.8.8.8"])[0] is True


def test_delay_is_capped():
    from debate.app.access import UnlockGuard

    guard = UnlockGuard("pw", free=1, base_delay=2, max_delay=10, clock=lambda: 0.0)
    waits = []
    for _ in range(3):
        waits.append(guard.attempt("x", ["k"])[1])
    assert waits[0] == 2.0 and max(waits) <= 10


def test_no_coach_password_means_single_user_mode_and_says_so():
    from debate.app.render import coach_note

    assert "anyone" in coach_note(False)
