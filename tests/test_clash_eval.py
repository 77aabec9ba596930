"""The clash and unseen suites (debate.evals.clash): the metric functions on hand-made
replies, and one real run of each suite against its thresholds (slow)."""

from __future__ import annotations

import time

import pytest

from debate.check.citations import EvidenceList, Reply
from debate.corpus.passages import Passage
from debate.evals.clash import (
    ClashDataError,
    ClashRow,
    attributed_quotes,
    check_ids,
    cited_passages,
    first_hit,
    hit_at,
    hit_ratio,
    near_duplicate_pairs,
    on_side_quotes,
    ranking_scores,
    summarise_clash,
)


def passage(pid: str, stance: str = "", source: str = "") -> Passage:
    text = f"Text of passage {pid}."
    return Passage(pid, "m", source or f"src-{pid}", text, 0, len(text), 1, stance=stance)


def reply(text: str, *passages: Passage) -> Reply:
    return Reply(text, EvidenceList(list(passages)), side="attack", phase="rebuttal")


P = [passage("a", "supports"), passage("b", "opposes"), passage("c", "mixed"), passage("d")]


def test_cited_passages_follow_the_order_of_first_citation_and_skip_fabricated_numbers():
    r = reply("First [3]. Then [1, 3] and a made-up one [9]. Last [2][4].", *P)
    assert [p.id for p in cited_passages(r)] == ["c", "a", "b", "d"]


def test_hit_at_3_counts_only_the_first_three_cited_passages():
    grades = {"d": 2, "a": 1}
    r = reply("See [3]. Also [9] (not in the list) and [2]. Finally [4] and [1].", *P)
    ids = [p.id for p in cited_passages(r)]
    assert ids == ["c", "b", "d", "a"]  # [9] ignored: d is third, not fourth
    assert hit_at(ids, grades, 3) and hit_at(ids, grades, 3, grade=2)
    assert not hit_at(ids, {"a": 2}, 3)  # graded, but cited fourth
    assert not first_hit(ids, grades) and first_hit(["a", "c"], grades)
    assert first_hit([], grades) is False


def test_a_quote_is_attributed_to_the_citation_right_after_it():
    text = (
        'They wrote "cats sleep a lot" [2] and later "dogs bark" and "birds sing" [1]. '
        '"Made up" [7]. A closing "orphan quote" with no marker.'
    )
    quotes = attributed_quotes(reply(text, *P))
    assert [(q, p and p.id) for q, p in quotes] == [
        ("cats sleep a lot", "b"),
        ("dogs bark", "a"),
        ("birds sing", "a"),
        ("Made up", None),  # fabricated [7]
        ("orphan quote", None),  # no marker after it
    ]


def test_on_side_counts_graded_or_own_side_quotes_and_never_unattributed_ones():
    quotes = [("x", P[0]), ("y", P[1]), ("z", P[2]), ("w", None)]
    # bot attacks: "opposes" (b) is its side; a is graded for the message; c is neither
    assert on_side_quotes(quotes, "attack", {"a": 1}) == 2
    assert on_side_quotes(quotes, "defend", {}) == 1  # only "supports" (a)


def test_the_baseline_is_scored_from_the_ranking_it_is_given():
    grades = {"p2": 1, "p5": 2}
    assert ranking_scores(["p1", "p2", "p3"], grades) == {
        "hit@3": True,
        "best@3": False,
        "first_hit": False,
    }
    assert ranking_scores(["p5", "p2", "p3"], grades) == {
        "hit@3": True,
        "best@3": True,
        "first_hit": True,
    }
    assert ranking_scores(["p1", "p3", "p4", "p5"], grades)["hit@3"] is False


def row(mid, split, model, base, turn=False, quotes=2, on=1) -> ClashRow:
    keys = ("hit@3", "best@3", "first_hit")
    return ClashRow(
        mid,
        split,
        "attack",
        turn,
        dict(zip(keys, model, strict=True)),
        dict(zip(keys, base, strict=True)),
        ["x"],
        quotes,
        on,
        0,
        0.0,
    )


def test_summary_rates_and_the_ratio_to_the_baseline():
    rows = [
        row("m1", "test", (True, True, True), (True, False, False), turn=True),
        row("m2", "test", (True, False, False), (False, False, False)),
        row("m3", "test", (False, False, False), (False, False, False), turn=True, on=2),
        row("m4", "test", (True, False, True), (True, True, True)),
    ]
    s = summarise_clash(rows)
    assert s["n"] == 4 and s["hit@3"] == 0.75 and s["best@3"] == 0.25 and s["first_hit"] == 0.5
    assert s["on_side"] == 5 / 8 and s["turn_hit@3"] == 0.5
    assert s["baseline_hit@3"] == 0.5 and s["hit@3_vs_baseline"] == 1.5
    assert hit_ratio(0.0, 0.0) == 1.0 and hit_ratio(0.2, 0.0) > 1 and hit_ratio(None, 0.5) is None


def test_graded_ids_missing_from_the_index_fail_with_a_clear_error(tmp_path):
    (tmp_path / "c.jsonl").write_text('{"_id": "p1"}\n{"_id": "p2"}\n', encoding="utf-8")
    data = {"motion": "m", "corpus": "c.jsonl", "messages": [{"rebuttals": {"p2": 2}}]}
    check_ids(data, tmp_path, {"p1", "p2", "p3"})  # extra passages in the index are fine
    with pytest.raises(ClashDataError, match="1 of 1 graded passage ids are not in the ingested"):
        check_ids(data, tmp_path, {"p1"})
    with pytest.raises(ClashDataError, match="passage ids of c.jsonl"):
        check_ids({**data, "messages": []}, tmp_path, {"p2"})


def test_near_duplicate_quotes_are_counted_in_pairs(settings):
    quotes = [
        "Serbia buys most of its gas from Russia",
        "Serbia buys most of its gas from Russia",
        "Guide dogs help blind people walk safely through busy cities",
    ]
    assert near_duplicate_pairs(quotes, settings) == 1
    assert near_duplicate_pairs(quotes[:1], settings) == 0
    assert near_duplicate_pairs([quotes[0]] * 3, settings) == 3


# ------------------------------------------------------------------ the real suites
def failed(result) -> str:
    misses = [f"{m} = {v} (needs {op} {t})" for m, op, t, v, ok in result.checks if not ok]
    return "\n".join(misses + result.notes + result.failures[:20])


@pytest.mark.slow
def test_clash_suite_on_the_test_split_meets_its_thresholds(default_settings):
    """Both motions' test messages (51); the thresholds gate the test split only."""
    from debate.evals.suites import apply_thresholds, load_thresholds, run_clash

    started = time.perf_counter()
    result = apply_thresholds(
        run_clash(default_settings, ("test",)), load_thresholds(default_settings)
    )
    print(f"clash (test split): {time.perf_counter() - started:.0f} s")
    assert any(m.endswith("/test/hit@3_vs_baseline") for m, *_ in result.checks)
    assert result.passed, failed(result)


@pytest.mark.slow
def test_unseen_suite_meets_its_thresholds_without_touching_the_users_index(default_settings):
    from debate.evals.suites import apply_thresholds, load_thresholds, run_unseen

    before = sorted(p.name for p in default_settings.data_dir.iterdir())
    started = time.perf_counter()
    result = apply_thresholds(run_unseen(default_settings), load_thresholds(default_settings))
    print(f"unseen: {time.perf_counter() - started:.0f} s")
    assert result.passed, failed(result)
    after = sorted(p.name for p in default_settings.data_dir.iterdir())
    assert set(after) - set(before) <= {"eval-unseen"}
