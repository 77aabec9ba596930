"""Run the unseen-motion check: ingest each pack into a scratch corpus, answer every student
message of messages.yaml with the bot on the OTHER side, and score the on-side rate (the
share of quoted passages whose source's hidden label in labels.yaml is the bot's side).

    PYTHONPATH=<checkout> python evals/unseen/run_check.py [--variant none|mixed|labelled]
        [--work /tmp/unseen-run] [--llm SPEC]

Variants (how the stance the loader asks for is filled; the pack's files carry none):
  none      no stance at all: the source's stance is stored as "" (the evidence engine's
            unlabelled case). At b90960f ingest refuses a source without a stance, so this
            script wraps debate.ingest.source_metadata in its own process to let one through;
            nothing in the package is changed. This is the measurement the check is for.
  mixed     every source `stance: mixed` (a folder entry in a scratch copy of motion.yaml):
            what the coach's upload form gives when nobody picks a stance.
  labelled  each source gets its hidden label (supports/opposes): a reference point only,
            showing what the labels are worth; never report it as the unseen result.

Written against the package at b90960f (load_motion, ingest_motion, Session.respond,
Reply.cited_passages); the scratch corpus and index live under --work, never in corpus/.
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
TO_STANCE = {"defend": "supports", "attack": "opposes"}
OTHER = {"defend": "attack", "attack": "defend"}


def scratch_corpus(root: Path, labels: dict, variant: str) -> Path:
    corpus = root / "corpus"
    shutil.rmtree(root, ignore_errors=True)
    for motion_id, by_source in labels.items():
        shutil.copytree(HERE / motion_id, corpus / motion_id)
        path = corpus / motion_id / "motion.yaml"
        text = path.read_text(encoding="utf-8")
        if variant == "mixed":
            entries = "\n  - {path: sources, stance: mixed}\n"
        elif variant == "labelled":
            entries = (
                "".join(
                    f"\n  - {{path: sources/{sid}.md, stance: {TO_STANCE[side]}}}"
                    for sid, side in by_source.items()
                )
                + "\n"
            )
        else:
            entries = "\n  - sources\n"
        assert "\n  - sources\n" in text, f"{path}: expected the plain 'sources' entry"
        path.write_text(text.replace("\n  - sources\n", entries), encoding="utf-8")
    return corpus


def _module(*names: str):
    """The first module that imports: the package is being reorganised (b90960f has
    debate.ingest, later trees debate.corpus.ingest and so on)."""
    import importlib

    for name in names:
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError:
            continue
    raise ModuleNotFoundError(f"none of {names}")


def allow_missing_stance() -> None:
    """Let ingest store stance "" for a source that has none (this process only)."""
    ingest = _module("debate.ingest", "debate.corpus.ingest")

    original = ingest.source_metadata

    def source_metadata(spec, front_matter):
        if "stance" in {**front_matter, **spec.meta}:
            return original(spec, front_matter)
        probe = spec.__class__(spec.id, spec.path, {**spec.meta, "stance": "mixed"})
        meta = original(probe, front_matter)  # every other field still validated
        meta["stance"] = ""
        return meta

    ingest.source_metadata = source_metadata


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=("none", "mixed", "labelled"), default="none")
    parser.add_argument("--work", type=Path, default=Path("/tmp/unseen-run"))
    parser.add_argument("--llm", default="", help="chat model spec; empty = offline engine")
    args = parser.parse_args()

    config = _module("debate.config", "debate.core.config")
    load_settings, offline_environment = config.load_settings, config.offline_environment
    ingest_motion = _module("debate.ingest", "debate.corpus.ingest").ingest_motion
    load_motion = _module("debate.motions", "debate.corpus.motions").load_motion
    Session = _module("debate.session", "debate.spar.session").Session

    labels = yaml.safe_load((HERE / "labels.yaml").read_text(encoding="utf-8"))
    messages = yaml.safe_load((HERE / "messages.yaml").read_text(encoding="utf-8"))["motions"]
    root = args.work / args.variant
    corpus = scratch_corpus(root, labels, args.variant)
    if args.variant == "none":
        allow_missing_stance()
    if not args.llm:
        offline_environment()
    settings = load_settings(
        environ={"DEBATE_CORPUS_DIR": str(corpus), "DEBATE_DATA_DIR": str(root / "data")},
        llm=args.llm or None,
    )
    report = {"variant": args.variant, "engine": args.llm or "offline evidence", "motions": {}}
    for motion_id, by_source in labels.items():
        motion = load_motion(motion_id, settings.corpus_dir)
        ingested = ingest_motion(motion, settings)
        stances, totals, rows = collections.Counter(), collections.Counter(), []
        for msg in messages[motion_id]:
            bot = OTHER[msg["student_side"]]
            session = Session(motion, settings, bot_side=bot, opener="student")
            session.set_phase("rebuttal")
            reply = session.respond(msg["text"])
            cited = [p for _, p in reply.cited_passages()]
            on = sum(by_source.get(p.source_id) == bot for p in cited)
            stances.update(p.stance or "(none)" for p in cited)
            totals.update(
                replies=1, quotes=len(cited), on_side=on, replies_without_quote=int(not cited)
            )
            totals.update({f"quotes_bot_{bot}": len(cited), f"on_side_bot_{bot}": on})
            rows.append(
                {
                    "id": msg["id"],
                    "bot_side": bot,
                    "cited": [p.source_id for p in cited],
                    "on_side": on,
                    "reply": reply.text,
                }
            )
        rate = totals["on_side"] / totals["quotes"] if totals["quotes"] else None
        report["motions"][motion_id] = {
            "sources": len(motion.sources),
            "passages": ingested.passages,
            "stances_of_cited_passages": dict(stances),
            "totals": dict(totals),
            "on_side_rate": rate,
            "rows": rows,
        }
        print(
            f"{args.variant:9} {motion_id:18} quotes {totals['quotes']:3}  on-side "
            f"{totals['on_side']:3}  rate {rate if rate is None else round(rate, 3)}"
        )
    out = args.work / f"{args.variant}.json"
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    print("report:", out)


if __name__ == "__main__":
    main()
