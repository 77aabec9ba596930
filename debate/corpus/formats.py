"""Debate formats: the speeches of a round in order, its questioning periods, prep time.

One YAML file per format in `debate/corpus/data/formats/` (package data, beside the
gazetteer's table: a format is a rule of the activity, the same for every motion, so it ships
with the package rather than sitting among the motion packs in corpus/). A file gives:

- `id`, `name`, `description`; `prep_minutes` (per side); `points_of_information` (bool);
- `turns`: `ordered` (the default: the round follows `round` entry by entry) or `free` (the
  practice round: the student leads, the coach moves the phases; `round` gives the phases'
  lengths and purposes);
- `round`: the entries in order. A speech has `id`, `name`, `side` (defend | attack: the side
  giving it), `minutes`, `purpose` (constructive | rebuttal | summary | final-focus | reply)
  and optionally `speaker` (first | second, for two-speaker teams). A questioning period
  has `id`, `name`, `questioning` (crossfire | cross-examination | questions), `asks`
  (defend | attack | both: who asks) and `minutes`.

A bad file is refused with a FormatError naming the file and the field, as motion packs are.
A motion may name its default format (`format:` in motion.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from debate.core.errors import DebateError
from debate.corpus.motions import SIDES

FORMATS_DIR = Path(__file__).resolve().parent / "data" / "formats"
PURPOSES = ("constructive", "rebuttal", "summary", "final-focus", "reply")
QUESTIONING = ("crossfire", "cross-examination", "questions")
ASKERS = (*SIDES, "both")
SPEAKERS = ("first", "second")
TURNS = ("ordered", "free")


class FormatError(DebateError):
    """A format file is missing, malformed, or names something that does not exist."""


@dataclass(frozen=True)
class Period:
    """One entry of a round: a speech (side, purpose) or a questioning period (asks)."""

    id: str
    name: str
    minutes: float
    side: str = ""  # a speech: the side giving it
    purpose: str = ""  # a speech: what it is for
    speaker: str = ""  # a speech: first or second speaker of a team, "" when one a side
    questioning: str = ""  # a questioning period: crossfire, cross-examination, questions
    asks: str = ""  # a questioning period: defend, attack or both

    @property
    def is_speech(self) -> bool:
        return not self.questioning

    def asked_by(self, side: str) -> bool:
        return self.asks in (side, "both")

    def line(self) -> str:
        """'Pro Constructive (defend, 4 min)' or 'First Crossfire (crossfire, both ask, 3 min)'."""
        minutes = f"{self.minutes:g} min"
        if self.is_speech:
            return f"{self.name} ({self.side}, {self.purpose}, {minutes})"
        who = "both ask" if self.asks == "both" else f"{self.asks} asks"
        return f"{self.name} ({self.questioning}, {who}, {minutes})"


@dataclass(frozen=True)
class Format:
    id: str
    name: str
    description: str
    prep_minutes: float
    points_of_information: bool
    turns: str
    round: tuple[Period, ...]
    path: Path

    @property
    def speeches(self) -> list[Period]:
        return [p for p in self.round if p.is_speech]

    def speeches_of(self, side: str) -> list[Period]:
        return [p for p in self.speeches if p.side == side]


def _field(data: dict, key: str, where: str, kinds: tuple, required: bool = True):
    """data[key] checked against kinds; `where` is "<file>: field '<prefix>" (key follows)."""
    value = data.get(key)
    if value in (None, ""):
        if required:
            raise FormatError(f"{where}{key}' is missing")
        return None
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise FormatError(f"{where}{key}' must be {names}, got {type(value).__name__}")
    return value


def _choice(data: dict, key: str, where: str, choices: tuple, required: bool = True) -> str:
    value = _field(data, key, where, (str,), required)
    if value is None:
        return ""
    if value not in choices:
        raise FormatError(f"{where}{key}' must be one of {', '.join(choices)}, got {value!r}")
    return value


def _period(raw, i: int, path: Path) -> Period:
    where = f"{path}: field 'round[{i}]."
    if not isinstance(raw, dict):
        raise FormatError(f"{path}: field 'round[{i}]' must be a speech or a questioning period")
    minutes = _field(raw, "minutes", where, (int, float))
    if minutes <= 0:
        raise FormatError(f"{where}minutes' must be more than 0, got {minutes}")
    common = dict(
        id=str(_field(raw, "id", where, (str, int))),
        name=_field(raw, "name", where, (str,)),
        minutes=float(minutes),
    )
    if "questioning" in raw:
        return Period(
            **common,
            questioning=_choice(raw, "questioning", where, QUESTIONING),
            asks=_choice(raw, "asks", where, ASKERS),
        )
    return Period(
        **common,
        side=_choice(raw, "side", where, SIDES),
        purpose=_choice(raw, "purpose", where, PURPOSES),
        speaker=_choice(raw, "speaker", where, SPEAKERS, required=False),
    )


def load_format_file(path: Path) -> Format:
    """Load and validate one format file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FormatError(f"{path}: no such format file") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise FormatError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict):
        raise FormatError(f"{path}: expected a mapping of fields, got {type(data).__name__}")
    where = f"{path}: field '"
    raw_round = _field(data, "round", where, (list,))
    periods = tuple(_period(raw, i, path) for i, raw in enumerate(raw_round))
    ids = [p.id for p in periods]
    for i, pid in enumerate(ids):
        if pid in ids[:i]:
            raise FormatError(f"{path}: field 'round[{i}].id' repeats {pid!r}: ids must be unique")
    for side in SIDES:
        if not any(p.is_speech and p.side == side for p in periods):
            raise FormatError(f"{path}: field 'round' has no speech for the {side} side")
    prep = _field(data, "prep_minutes", where, (int, float))
    if prep < 0:
        raise FormatError(f"{where}prep_minutes' must be 0 or more, got {prep}")
    return Format(
        id=_field(data, "id", where, (str,)),
        name=_field(data, "name", where, (str,)),
        description=str(data.get("description") or ""),
        prep_minutes=float(prep),
        points_of_information=bool(
            _field(data, "points_of_information", where, (bool,), required=False)
        ),
        turns=_choice(data, "turns", where, TURNS, required=False) or "ordered",
        round=periods,
        path=path,
    )


def list_formats(folder: Path = FORMATS_DIR) -> list[Format]:
    """Every format in `folder`, practice first, then by file name."""
    formats = [load_format_file(p) for p in sorted(Path(folder).glob("*.yaml"))]
    return sorted(formats, key=lambda f: (f.id != "practice", f.path.name))


def load_format(format_id: str, folder: Path = FORMATS_DIR) -> Format:
    """The format with this id (its file is `<id>.yaml`); FormatError lists the known ones."""
    path = Path(folder) / f"{format_id}.yaml"
    if not path.is_file():
        known = ", ".join(f.id for f in list_formats(folder))
        raise FormatError(f"unknown format {format_id!r}: use one of {known} (debate formats)")
    fmt = load_format_file(path)
    if fmt.id != format_id:
        raise FormatError(
            f"{path}: field 'id' must be the file's name {format_id!r}, got {fmt.id!r}"
        )
    return fmt


def format_of(motion, folder: Path = FORMATS_DIR, chosen: str | None = None) -> Format:
    """The format of a round on `motion`: `chosen` (a coach's --format) if given, else the
    one motion.yaml names (`format:`), else practice. A motion naming an unknown format is
    refused naming its motion.yaml and the field."""
    if chosen:
        return load_format(chosen, folder)
    if not motion.format:
        return load_format("practice", folder)
    try:
        return load_format(motion.format, folder)
    except FormatError as exc:
        raise FormatError(f"{motion.root / 'motion.yaml'}: field 'format': {exc}") from exc
