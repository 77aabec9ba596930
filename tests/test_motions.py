"""Motion packs: the default pack is valid; broken packs name the file and the field."""

from __future__ import annotations

import pytest

from debate.core.config import load_settings
from debate.core.errors import MotionError
from debate.corpus.motions import list_motions, load_motion


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
