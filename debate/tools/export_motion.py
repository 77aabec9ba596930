"""Export a motion's passages, chunked exactly as ingest chunks them, as a BEIR corpus.

    .venv/bin/python debate/tools/export_motion.py serbia-russia evals/retrieval/serbia-russia

Writes DIR/corpus.jsonl: one line per passage with `_id` (= Passage.id), `title` (the
source's title), `text`, and `metadata` (source id, stance, paragraph). Judgments in
DIR/qrels/*.tsv refer to these ids, so the file must be regenerated (and the judgments
checked) whenever the chunker, the chunking settings or the sources change;
tests/test_retrieval_eval.py fails when they drift apart.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from debate.core.config import load_settings
from debate.corpus.ingest import prepare_motion
from debate.corpus.motions import load_motion


def corpus_lines(motion_id: str) -> list[str]:
    """The corpus.jsonl lines of a motion under the default chunking settings."""
    settings = load_settings(environ={})
    motion = load_motion(motion_id, settings.corpus_dir)
    lines = []
    for source in prepare_motion(motion, settings):
        for p in source.passages:
            row = {
                "_id": p.id,
                "title": p.title,
                "text": p.text,
                "metadata": {"source": p.source_id, "stance": p.stance, "paragraph": p.paragraph},
            }
            lines.append(json.dumps(row, ensure_ascii=False))
    return lines


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        sys.exit(__doc__)
    motion_id, out = argv[0], Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    lines = corpus_lines(motion_id)
    (out / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} passages to {out / 'corpus.jsonl'}")


if __name__ == "__main__":
    main(sys.argv[1:])
