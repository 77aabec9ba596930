"""The `debate` CLI as a user runs it (subprocess): listings, search, and clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DEBATE = str(Path(sys.executable).parent / "debate")


def run(*args: str, data_dir: Path | None = None, corpus_dir: Path | None = None, stdin: str = ""):
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "COLUMNS": "200"}
    if data_dir:
        env["DEBATE_DATA_DIR"] = str(data_dir)
    if corpus_dir:
        env["DEBATE_CORPUS_DIR"] = str(corpus_dir)
    return subprocess.run(
        [DEBATE, *args], capture_output=True, text=True, env=env, input=stdin, timeout=300
    )


def test_help_lists_the_commands():
    out = run("--help")
    assert out.returncode == 0
    for command in ("motions", "ingest", "search", "serve"):
        assert command in out.stdout


def test_motions_lists_the_default_motion():
    out = run("motions")
    assert out.returncode == 0 and "serbia-russia" in out.stdout and "Russian ally" in out.stdout


def test_unknown_motion_is_a_one_line_error_with_nonzero_exit(tmp_path):
    out = run("ingest", "no-such-motion", data_dir=tmp_path)
    assert out.returncode == 1
    assert "unknown motion 'no-such-motion'" in out.stderr and "Traceback" not in out.stderr


def test_empty_query_is_refused_with_a_message(tmp_path):
    out = run("search", "serbia-russia", "   ", data_dir=tmp_path)
    assert out.returncode == 1 and "empty query" in out.stderr


def test_search_before_ingest_says_to_run_ingest(tmp_path):
    out = run("search", "serbia-russia", "gas", data_dir=tmp_path)
    assert out.returncode == 1 and "debate ingest serbia-russia" in out.stderr


def test_ingest_with_a_corrupt_file_fails_and_keeps_the_previous_index(tmp_path, make_pack):
    folder = make_pack("cli-pack")
    corpus, data = folder.parent, tmp_path / "data"
    assert run("ingest", "cli-pack", data_dir=data, corpus_dir=corpus).returncode == 0
    (folder / "sources" / "scan.pdf").write_bytes(b"%PDF-1.4 garbage")
    out = run("ingest", "cli-pack", data_dir=data, corpus_dir=corpus)
    assert out.returncode == 1 and "scan.pdf" in out.stderr and "unreadable PDF" in out.stderr
    search = run("search", "cli-pack", "guide dogs", "--json", data_dir=data, corpus_dir=corpus)
    assert search.returncode == 0
    assert "Guide dogs" in json.loads(search.stdout)[0]["text"]


@pytest.mark.slow
def test_search_default_motion_ranks_the_seed_ammunition_paragraph_first_and_survives_100kb(
    default_settings,
):
    data = default_settings.data_dir
    out = run("search", "serbia-russia", "weapons to Ukraine", "-k", "5", "--json", data_dir=data)
    assert out.returncode == 0, out.stderr
    results = json.loads(out.stdout)
    assert len(results) == 5
    assert results[0]["source"] == "nationalinterest-serbia-not-russian-ally"
    assert "artillery ammunition" in results[0]["text"]
    huge = "Serbia gas pipeline Bulgaria " * 4000  # ~116 KB
    out = run("search", "serbia-russia", huge, "-k", "3", data_dir=data)
    assert out.returncode == 0, out.stderr
    assert "truncated" in out.stderr
