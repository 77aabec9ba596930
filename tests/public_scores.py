"""The scores behind test_public_eval's report, one (scorer, held-out set) per call, so that
its fixture can compute them side by side in a few processes: the same scorers on the same
pairs as `report.evaluate` calls them with, one set at a time (the cosine baseline on the
long QAGS evidence alone is minutes of embedding)."""

from __future__ import annotations

import numpy as np

from debate.tools import public_report as report

SCORERS = {
    "checker": report.checker_scorer,
    "cosine": report.cosine_scorer,
    "overlap": report.overlap_scorer,
}
_made: dict = {}


def score(job: tuple[str, str]) -> tuple[tuple[str, str], np.ndarray]:
    """((scorer, set), its scores of the set's sample pairs, in order)."""
    scorer, set_name = job
    if scorer not in _made:
        _made[scorer] = SCORERS[scorer]()
    rows = report.load_sets(sample=True)[set_name]
    claims, evidences = [r["claim"] for r in rows], [r["evidence"] for r in rows]
    return job, np.asarray(_made[scorer](claims, evidences), dtype=float)
