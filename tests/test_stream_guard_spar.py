"""No unchecked text on screen in `debate spar` (issue 10): the installed command, run as a
subprocess against the loopback replay server, streams a model reply that contains a
fabricated citation and an unsupported claim. stdout is read chunk by chunk as it is printed,
and no chunk may ever show either."""

from __future__ import annotations

import os
import re
import selectors
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.replay import faithful_quote, tokens

DEBATE = str(Path(sys.executable).parent / "debate")
STUDENT = "Serbia voted at the UN against Russia, so it is not Moscow's ally."
FABRICATED = "Serbia signed a secret defence pact with Moscow in 2031 [9]."
UNSUPPORTED = "Serbia joined NATO in 2019 [1]."  # a real citation number, a made-up claim
CLOSING = "So where does that leave your case?"
# Words of the two bad sentences that nothing else in the debate says.
BAD_WORDS = ("[9]", "2031", "defence pact", "joined NATO", "2019 [1]")
# After the speech, each removed sentence is named in a labelled notice (with a fabricated
# marker shown as [9?]); that line is the only place its words may appear.
REMOVAL_NOTE = re.compile(r"note: Removed a sentence the evidence does not support \(.*\n")


def mixed_reply(body: dict) -> str:
    return f"{faithful_quote(body)} {FABRICATED} {UNSUPPORTED} {CLOSING}"


def read_while_printed(proc: subprocess.Popen, timeout: float) -> list[str]:
    """Everything on proc's stdout so far, after each read: one snapshot per chunk that
    reached the pipe."""
    snapshots, text = [], b""
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not selector.select(timeout=1.0):
            continue
        data = os.read(proc.stdout.fileno(), 65536)
        if not data:
            return snapshots
        text += data
        snapshots.append(text.decode("utf-8", errors="replace"))
    proc.kill()
    pytest.fail(f"debate spar did not finish in {timeout} s; printed:\n{text.decode()[-3000:]}")


@pytest.mark.slow
def test_spar_never_prints_a_fabricated_citation_or_unsupported_sentence(
    default_settings, replay, tmp_path
):
    server = replay([mixed_reply], split=tokens, chunk_delay=0.02)
    env = {
        **os.environ,
        "DEBATE_DATA_DIR": str(default_settings.data_dir),
        "DEBATE_LLM": "openai:replay",
        "DEBATE_LLM_BASE_URL": server.openai_url,
        "DEBATE_LLM_TIMEOUT": "60",
        "COLUMNS": "1000",  # one notice per line
        "PYTHONUNBUFFERED": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    stderr = open(tmp_path / "stderr.txt", "w+b")
    proc = subprocess.Popen(
        [DEBATE, "spar", "serbia-russia", "--side", "attack"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=env,
    )
    proc.stdin.write(f"{STUDENT}\n".encode())
    proc.stdin.close()
    snapshots = read_while_printed(proc, timeout=300)
    assert proc.wait(timeout=30) == 0, (tmp_path / "stderr.txt").read_text()[-2000:]
    assert "Traceback" not in (tmp_path / "stderr.txt").read_text()

    [turn] = server.requests
    assert turn.body["stream"] is True
    good = faithful_quote(turn.body)
    final = snapshots[-1]
    speech = final.split("engine: ")[0]
    assert good in speech and CLOSING in speech  # the checked sentences were kept
    assert len(re.findall(REMOVAL_NOTE, final)) == 2  # and the two removals explained

    # The speech was on screen before the turn ended, and in no snapshot was any bad word.
    assert any(good in s and "engine: " not in s for s in snapshots)
    for snapshot in snapshots:
        shown = REMOVAL_NOTE.sub("", snapshot)
        for word in BAD_WORDS:
            assert word not in shown, f"{word!r} was printed:\n{snapshot}"
        assert "[9]" not in snapshot  # not even in a notice
