"""Motion packs: the default pack is valid; broken packs name the file and the field."""

from __future__ import annotations

import pytest

from debate.core.config import load_settings
from debate.core.errors import MotionError
from debate.corpus.motions import create_motion, list_motions, load_motion, oppose


def test_default_motion_pack_loads_with_seed_and_contentions_for_both_sides():
    s = load_settings(environ={})
    m = load_motion("serbia-russia", s.corpus_dir)
    assert m.thesis == "Serbia is not a Russian ally"
    assert set(m.sides) == {"defend", "attack"}
    assert all(len(m.contentions_for(side)) >= 3 for side in ("defend", "attack"))
    seed = [src for src in m.sources if src.path.name == "000_57c3401fa87d8d5d.txt"]
    assert seed and seed[0].meta["publisher"] == "The National Interest"
    assert "serbia-russia" in [x.id for x in list_motions(s.corpus_dir)]


def test_unknown_motion_lists_the_known_ones(tmp_path, make_pack):
    make_pack("cats-dogs")
    with pytest.raises(MotionError, match="unknown motion 'nope'.*cats-dogs"):
        load_motion("nope", tmp_path / "corpus")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda y: y.replace("thesis: Cats are better than dogs\n", ""),
            "missing required field 'thesis'",
        ),
        (lambda y: y.replace("  attack: Dogs are better than cats\n", ""), "'sides.attack'"),
        (
            lambda y: y.replace("  - sources\n", "  - missing-folder\n"),
            "path does not exist: missing-folder",
        ),
        (lambda y: y.replace("id: cats-dogs", "id: Cats Dogs!"), "field 'id'"),
        (lambda y: y + "  - [unclosed\n", "not valid YAML"),
        (
            lambda y: y.replace("  attack:\n    - Dogs are loyal companions.\n", "  attack: []\n"),
            "contentions.attack",
        ),
    ],
)
def test_broken_motion_yaml_names_file_and_field(make_pack, edit, message):
    folder = make_pack("cats-dogs")
    yaml_file = folder / "motion.yaml"
    yaml_file.write_text(edit(yaml_file.read_text()), encoding="utf-8")
    with pytest.raises(MotionError) as info:
        load_motion(folder, folder.parent)
    assert str(yaml_file) in str(info.value) and message in str(info.value)


# ---------------------------------------------------------------- the opposing side's label
@pytest.mark.parametrize(
    ("thesis", "label"),
    [
        ("We should abolish capital punishment", "We should not abolish capital punishment"),
        (
            "Nuclear power is essential to meeting climate targets",
            "Nuclear power is not essential to meeting climate targets",
        ),
        ("Zoos are cruel.", "Zoos are not cruel."),
        ("Students must wear uniforms", "Students must not wear uniforms"),
        ("We ought to tax meat", "We ought not to tax meat"),
        ("Sanctions have failed", "Sanctions have not failed"),
        ("Sanctions have been effective", "Sanctions have not been effective"),
        ("Schools have a duty to teach ethics", "Schools do not have a duty to teach ethics"),
        ("The city has a choice", "The city does not have a choice"),
        ("We do need nuclear power", "We do not need nuclear power"),
        # already negative: the negation is taken out
        ("Serbia is not a Russian ally", "Serbia is a Russian ally"),
        ("Machines can't think", "Machines can think"),
        ("AI cannot be trusted", "AI can be trusted"),
        ("We shouldn't intervene", "We should intervene"),
        ("Democracy won't survive", "Democracy will survive"),
        ("Vaccines don't cause autism", "Vaccines do cause autism"),
        ("The union will never expand again", "The union will expand again"),
        ("The region has no allies", "The region has allies"),
        # debating-society forms
        ("This house would ban zoos", "This house would not ban zoos"),
        (
            "This house believes that social media does more harm than good",
            "This house believes that social media does not do more harm than good",
        ),
        ("This house believes in free trade", "This house does not believe in free trade"),
        (
            "This House regrets the rise of populism",
            "This House does not regret the rise of populism",
        ),
        # the verb of the main clause, not of a clause before it or inside the subject
        ("If taxes are raised, growth will slow", "If taxes are raised, growth will not slow"),
        ("Countries that are poor should pay less", "Countries that are poor should not pay less"),
        (
            "The will of the people must be respected",
            "The will of the people must not be respected",
        ),
        # no auxiliary (or a question): a plain statement of opposition
        ("Sanctions work", "We oppose the motion: Sanctions work"),
        ("Is nuclear power safe?", "We oppose the motion: Is nuclear power safe?"),
    ],
)
def test_the_opposing_label_negates_the_thesis_as_a_coach_would(thesis, label):
    assert oppose(thesis) == label
    assert "not true that" not in oppose(thesis)


def test_a_new_motion_defaults_its_attack_label_to_the_negated_thesis(tmp_path):
    m = create_motion(
        tmp_path / "corpus", "Death penalty", "We should abolish capital punishment", ["a"], ["b"]
    )
    assert m.sides["attack"] == "We should not abolish capital punishment"
    assert m.sides["defend"] == "We should abolish capital punishment"
    given = create_motion(
        tmp_path / "corpus", "Zoos", "Zoos are cruel", ["a"], ["b"], attack_label="Zoos help"
    )
    assert given.sides["attack"] == "Zoos help"


def test_debate_new_motion_writes_the_negated_thesis_as_the_attack_label(tmp_path):
    from typer.testing import CliRunner

    from debate.cli import app

    corpus = tmp_path / "corpus"
    args = ["new-motion", "--title", "Nuclear", "--corpus-dir", str(corpus)]
    args += ["--thesis", "Nuclear power is essential", "--defend", "a", "--attack", "b"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert load_motion("nuclear", corpus).sides["attack"] == "Nuclear power is not essential"
