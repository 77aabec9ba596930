"""Motion packs: `corpus/<id>/motion.yaml` plus its sources, loaded and validated.

A pack names its thesis, the labels of the two sides, the contentions each side argues,
and its sources. Sources are files or folders (relative to the pack; they may point into
`seeds/`). Metadata comes from a source's YAML front matter (.md/.txt) and/or from its
entry in motion.yaml (needed for .html/.pdf and for plain text without front matter).
Every error names the file and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from debate.errors import MotionError

SIDES = ("defend", "attack")
STANCES = ("supports", "opposes", "mixed")
KINDS = ("news", "analysis", "official", "data", "opinion", "other")
SOURCE_SUFFIXES = (".md", ".txt", ".html", ".htm", ".pdf")
REQUIRED_SOURCE_FIELDS = ("title", "publisher", "date", "url", "stance")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")


@dataclass(frozen=True)
class Contention:
    side: str
    claim: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceSpec:
    """Where a source lives and what motion.yaml says about it (front matter adds the rest)."""

    id: str
    path: Path
    meta: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Motion:
    id: str
    title: str
    thesis: str
    description: str
    sides: dict
    contentions: dict
    sources: tuple[SourceSpec, ...]
    root: Path

    def side_label(self, side: str) -> str:
        return self.sides[side]

    def contentions_for(self, side: str) -> list[Contention]:
        return list(self.contentions.get(side, []))


def source_id_for(path: Path) -> str:
    """A readable, stable id from the file name: 'EU Lithium memo.md' -> 'eu-lithium-memo'."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    return slug or "source"


def _require(data: dict, key: str, where: Path, kind: type = str):
    if key not in data or data[key] in (None, ""):
        raise MotionError(f"{where}: missing required field '{key}'")
    value = data[key]
    if not isinstance(value, kind):
        raise MotionError(
            f"{where}: field '{key}' must be a {kind.__name__}, got {type(value).__name__}"
        )
    return value


def _parse_contentions(raw, where: Path) -> dict:
    if not isinstance(raw, dict):
        raise MotionError(f"{where}: field 'contentions' must map each side to a list of claims")
    out = {}
    for side in SIDES:
        items = raw.get(side)
        if not isinstance(items, list) or not items:
            raise MotionError(f"{where}: field 'contentions.{side}' must be a non-empty list")
        parsed = []
        for i, item in enumerate(items, 1):
            if isinstance(item, str):
                claim, backing = item, ()
            elif isinstance(item, dict) and isinstance(item.get("claim"), str):
                claim, backing = item["claim"], tuple(item.get("sources") or ())
            else:
                raise MotionError(
                    f"{where}: field 'contentions.{side}[{i}]' must be a claim string "
                    "or a mapping with 'claim' (and optional 'sources')"
                )
            if not claim.strip():
                raise MotionError(f"{where}: field 'contentions.{side}[{i}]' is empty")
            parsed.append(Contention(side=side, claim=claim.strip(), sources=backing))
        out[side] = tuple(parsed)
    unknown = set(raw) - set(SIDES)
    if unknown:
        raise MotionError(
            f"{where}: field 'contentions' has unknown side(s) {sorted(unknown)}; use defend/attack"
        )
    return out


def _expand_sources(raw, root: Path, where: Path) -> tuple[SourceSpec, ...]:
    if not isinstance(raw, list) or not raw:
        raise MotionError(f"{where}: field 'sources' must be a non-empty list of paths")
    specs: list[SourceSpec] = []
    for i, entry in enumerate(raw, 1):
        meta: dict = {}
        if isinstance(entry, str):
            rel = entry
        elif isinstance(entry, dict) and isinstance(entry.get("path"), str):
            meta = {k: v for k, v in entry.items() if k != "path"}
            rel = entry["path"]
        else:
            raise MotionError(f"{where}: field 'sources[{i}]' must be a path or have a 'path'")
        path = (root / rel).resolve()
        if not path.exists():
            raise MotionError(f"{where}: field 'sources[{i}]': path does not exist: {rel}")
        if path.is_dir():
            files = sorted(
                p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SOURCE_SUFFIXES
            )
            specs.extend(SourceSpec(id=source_id_for(p), path=p, meta=dict(meta)) for p in files)
        else:
            if path.suffix.lower() not in SOURCE_SUFFIXES:
                raise MotionError(
                    f"{where}: field 'sources[{i}]': unsupported file type {path.suffix!r} "
                    f"({rel}); use one of {', '.join(SOURCE_SUFFIXES)}"
                )
            sid = str(meta.pop("id", "")) or source_id_for(path)
            specs.append(SourceSpec(id=sid, path=path, meta=meta))
    seen: dict[str, Path] = {}
    for spec in specs:
        if spec.id in seen and seen[spec.id] != spec.path:
            raise MotionError(
                f"{where}: two sources share the id '{spec.id}': {seen[spec.id]} and {spec.path}"
            )
        seen[spec.id] = spec.path
    return tuple(specs)


def load_motion_file(path: Path) -> Motion:
    """Load and validate one motion.yaml."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MotionError(f"{path}: no motion.yaml here") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise MotionError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict):
        raise MotionError(f"{path}: expected a mapping of fields, got {type(data).__name__}")
    motion_id = _require(data, "id", path)
    if not _ID_RE.match(motion_id):
        raise MotionError(
            f"{path}: field 'id' must be 3-64 lowercase letters, digits or dashes, got {motion_id!r}"
        )
    sides = _require(data, "sides", path, dict)
    for side in SIDES:
        if not isinstance(sides.get(side), str) or not sides[side].strip():
            raise MotionError(f"{path}: field 'sides.{side}' must be a label string")
    return Motion(
        id=motion_id,
        title=_require(data, "title", path),
        thesis=_require(data, "thesis", path),
        description=str(data.get("description") or ""),
        sides={s: sides[s] for s in SIDES},
        contentions=_parse_contentions(_require(data, "contentions", path, dict), path),
        sources=_expand_sources(data.get("sources"), path.parent, path),
        root=path.parent,
    )


def resolve_motion_path(motion: str | Path, corpus_dir: Path) -> Path:
    """A motion id (folder under corpus_dir) or a path to a motion folder or motion.yaml."""
    candidate = Path(motion)
    if candidate.name == "motion.yaml" and candidate.is_file():
        return candidate
    if candidate.is_dir() and (candidate / "motion.yaml").is_file():
        return candidate / "motion.yaml"
    by_id = Path(corpus_dir) / str(motion) / "motion.yaml"
    if by_id.is_file():
        return by_id
    known = ", ".join(m.id for m in list_motions(corpus_dir)) or "none"
    raise MotionError(
        f"unknown motion '{motion}': no {by_id} (known motions: {known}); "
        "pass a motion id or a path to a motion folder"
    )


def load_motion(motion: str | Path, corpus_dir: Path) -> Motion:
    return load_motion_file(resolve_motion_path(motion, corpus_dir))


def list_motions(corpus_dir: Path, errors: list[MotionError] | None = None) -> list[Motion]:
    """Every valid motion pack under corpus_dir; invalid packs go to `errors` if given."""
    motions = []
    for yaml_path in sorted(Path(corpus_dir).glob("*/motion.yaml")):
        try:
            motions.append(load_motion_file(yaml_path))
        except MotionError as exc:
            if errors is not None:
                errors.append(exc)
    return motions
