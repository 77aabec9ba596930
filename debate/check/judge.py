"""Layer 5 of the checker: an LLM judge, used only when an LLM is configured; the guard calls it.

For each sentence the deterministic layers found supported, the model sees the sentence and
its cited passages (prompts/judge.txt), decomposes the claim and answers SUPPORTED or
UNSUPPORTED with a reason. The judge can only veto: it never rescues a sentence the cheaper
layers rejected, so a confused model cannot let a fabricated citation through.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from debate.check.citations import Reply
from debate.core.chat_model import make_chat_model
from debate.core.config import Settings
from debate.core.errors import DebateError

log = logging.getLogger(__name__)

_ANSWER = re.compile(r"\b(SUPPORTED|UNSUPPORTED)\b\s*[:\-–]?\s*(.*)", re.S)


def parse_answer(text: str) -> tuple[bool, str] | None:
    """(supported, reason) from the judge's answer; None when it gave neither word."""
    found = _ANSWER.findall(text or "")
    if not found:
        return None
    word, reason = found[-1]
    return word == "SUPPORTED", " ".join(reason.split())[:200]


def judge_verdicts(reply: Reply, verdicts: list, settings: Settings) -> list:
    """Verdicts with supported sentences re-judged by the configured LLM (veto only)."""
    try:
        model = make_chat_model(settings)
    except DebateError as exc:
        log.warning("LLM judge unavailable: %s", exc)
        return verdicts
    template = (settings.prompts_dir / "judge.txt").read_text(encoding="utf-8")
    out = []
    for v in verdicts:
        if v.status != "supported":
            out.append(v)
            continue
        evidence = "\n\n".join(f"[{n}] {reply.evidence.get(n).text}" for n in v.citations)
        prompt = template.format(sentence=v.sentence, evidence=evidence)
        try:
            answer = model.invoke(prompt)
        except Exception as exc:  # noqa: BLE001 - any client failure: keep the cheaper verdict
            log.warning("LLM judge failed, keeping the checker's verdict: %s", exc)
            out.append(v)
            continue
        parsed = parse_answer(getattr(answer, "content", str(answer)))
        if parsed is not None and not parsed[0]:
            out.append(
                replace(
                    v,
                    status="unsupported",
                    supported_by=(),
                    reason=f"LLM judge: {parsed[1] or 'not supported'}",
                )
            )
        else:
            out.append(v)
    return out
