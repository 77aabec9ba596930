"""Motion packs: `corpus/<id>/motion.yaml` plus its sources, loaded and validated.

A pack names its thesis, the labels of the two sides, the contentions each side argues,
and its sources. Sources are files or folders (relative to the pack; they may point into
`seeds/`). Metadata comes from a source's YAML front matter (.md/.txt) and/or from its
entry in motion.yaml (needed for .html/.pdf and for plain text without front matter).
Every error names the file and the field.

Packs are edited here too (`add_source`, `create_motion`), so the CLI and the web app make
the same change. motion.yaml is edited with a ruamel.yaml round trip, keeping the coach's
comments, key order and layout; every write is atomic.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.util import load_yaml_guess_indent

from debate.core.errors import MotionError, SourceError
from debate.core.text import fold_accents
from debate.corpus import gazetteer

SIDES = ("defend", "attack")
# What debaters call the two sides: defending the thesis is the proposition.
ROLE = {"defend": "proposition", "attack": "opposition"}


def other_side(side: str) -> str:
    """The side facing `side` (defend <-> attack)."""
    return "attack" if side == "defend" else "defend"


STANCES = ("supports", "opposes", "mixed")
KINDS = ("news", "analysis", "official", "data", "opinion", "other")
SOURCE_SUFFIXES = (".md", ".txt", ".html", ".htm", ".pdf", ".docx")
REQUIRED_SOURCE_FIELDS = ("title", "publisher", "date", "url")
# A source's `stance` is optional: a coach may label it (a prior for the whole source), or
# leave it out, as most uploaded articles come; the stance of each sentence is read at
# ingest either way.
UNLABELLED = ""
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")


@dataclass(frozen=True)
class Contention:
    side: str
    claim: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class BlockResponse:
    """One answer in a coach's block: a tag with either a quote of a source (its id and the
    exact words) or the coach's own analysis."""

    tag: str
    source: str = ""
    quote: str = ""
    analysis: str = ""


@dataclass(frozen=True)
class Block:
    """A coach's prepared answer to one contention (`answers`, of `side`: the side whose
    contention it is), written under `blocks:` in motion.yaml."""

    side: str
    answers: str  # the blocked contention's claim, as in `contentions`
    responses: tuple[BlockResponse, ...]
    where: str = ""  # "<motion.yaml>: field 'blocks[i]'", for errors found later


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
    # Extra names for the checker's gazetteer: canonical id -> phrases (see debate.corpus.gazetteer).
    aliases: dict = field(default_factory=dict, hash=False, compare=False)
    # The coach's blocks (answers to contentions), in the order motion.yaml lists them.
    blocks: tuple[Block, ...] = field(default=(), hash=False, compare=False)
    # The round's default format (`format:` in motion.yaml, an id of debate.corpus.formats).
    format: str = field(default="", hash=False, compare=False)

    def side_label(self, side: str) -> str:
        return self.sides[side]

    def contentions_for(self, side: str) -> list[Contention]:
        return list(self.contentions.get(side, []))

    def blocks_against(self, side: str) -> list[Block]:
        """The coach's blocks answering contentions of `side`."""
        return [b for b in self.blocks if b.side == side]


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
    aliases = _parse_aliases(data.get("aliases"), path)
    gazetteer.register(motion_id, aliases)
    contentions = _parse_contentions(_require(data, "contentions", path, dict), path)
    sources = _expand_sources(data.get("sources"), path.parent, path)
    return Motion(
        id=motion_id,
        title=_require(data, "title", path),
        thesis=_require(data, "thesis", path),
        description=str(data.get("description") or ""),
        sides={s: sides[s] for s in SIDES},
        contentions=contentions,
        sources=sources,
        root=path.parent,
        aliases=aliases,
        blocks=_parse_blocks(data.get("blocks"), contentions, sources, path),
        format=_optional_text(data, "format", path),
    )


def _optional_text(data: dict, key: str, path: Path) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MotionError(f"{path}: field '{key}' must be text, got {type(value).__name__}")
    return value.strip()


def contention_id(side: str, index: int) -> str:
    """The id a block may use for a contention: its side and 1-based place ('attack-2')."""
    return f"{side}-{index}"


def _blocked(answers, contentions: dict, where: str) -> Contention:
    """The contention a block's `answers` names, by claim text or id ('attack-2')."""
    if not isinstance(answers, str) or not answers.strip():
        raise MotionError(
            f"{where}.answers' must name a contention (its claim or an id like attack-2)"
        )
    wanted = " ".join(answers.split()).rstrip(".").casefold()
    for side in SIDES:
        for i, c in enumerate(contentions[side], 1):
            claim = " ".join(c.claim.split()).rstrip(".").casefold()
            if wanted in (claim, contention_id(side, i)):
                return c
    raise MotionError(
        f"{where}.answers' names no contention of this motion: {answers.strip()[:80]!r} "
        "(copy a claim from 'contentions', or use an id like attack-2)"
    )


def _block_response(raw, known: set[str], where: str) -> BlockResponse:
    if not isinstance(raw, dict):
        raise MotionError(
            f"{where}' must be a mapping with 'tag' and 'source'+'quote' or 'analysis'"
        )
    tag = raw.get("tag")
    if not isinstance(tag, str) or not tag.strip():
        raise MotionError(f"{where}.tag' must be the response's claim in a line")
    texts = {k: raw.get(k) for k in ("source", "quote", "analysis")}
    for key, value in texts.items():
        if value is not None and not isinstance(value, str):
            raise MotionError(f"{where}.{key}' must be text, got {type(value).__name__}")
    source, quote, analysis = ((texts[k] or "").strip() for k in ("source", "quote", "analysis"))
    if bool(source) != bool(quote):
        raise MotionError(
            f"{where}' needs both 'source' (a source id) and 'quote' (its exact words)"
        )
    if not quote and not analysis:
        raise MotionError(f"{where}' needs 'source' and 'quote', or 'analysis'")
    if source and source not in known:
        raise MotionError(
            f"{where}.source' is not a source id of this motion: {source!r} "
            f"(known: {', '.join(sorted(known))})"
        )
    return BlockResponse(" ".join(tag.split()), source, quote, analysis)


def _parse_blocks(raw, contentions: dict, sources: tuple, path: Path) -> tuple[Block, ...]:
    """Optional `blocks:`: each answers one contention (`answers`: claim or id) with a list
    of `responses` (tag + source id and exact quote, or tag + analysis). The quotes are
    found in their passages when the block is used (debate.spar.blocks)."""
    if raw in (None, []):
        return ()
    if not isinstance(raw, list):
        raise MotionError(f"{path}: field 'blocks' must be a list of blocks")
    known = {s.id for s in sources}
    out = []
    for i, item in enumerate(raw, 1):
        where = f"{path}: field 'blocks[{i}]"
        if not isinstance(item, dict):
            raise MotionError(f"{where}' must be a mapping with 'answers' and 'responses'")
        contention = _blocked(item.get("answers"), contentions, where)
        responses = item.get("responses")
        if not isinstance(responses, list) or not responses:
            raise MotionError(f"{where}.responses' must be a non-empty list")
        parsed = tuple(
            _block_response(r, known, f"{where}.responses[{j}]") for j, r in enumerate(responses, 1)
        )
        out.append(Block(contention.side, contention.claim, parsed, where + "'"))
    return tuple(out)


def _parse_aliases(raw, where: Path) -> dict[str, list[str]]:
    """Optional `aliases:`: a mapping from a canonical id (a country's lowercase common name,
    or a new id) to the phrases that name it in this motion's sources."""
    if raw in (None, {}):
        return {}
    if not isinstance(raw, dict):
        raise MotionError(f"{where}: field 'aliases' must map a name to a list of phrases")
    out = {}
    for key, phrases in raw.items():
        if isinstance(phrases, str):
            phrases = [phrases]
        if not isinstance(phrases, list) or not all(
            isinstance(x, str) and x.strip() for x in phrases
        ):
            raise MotionError(f"{where}: field 'aliases.{key}' must be a list of phrases")
        out[str(key).strip().lower()] = [x.strip() for x in phrases]
    return out


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


# ---------------------------------------------------------------- editing packs
TEXT_SUFFIXES = (".md", ".txt")
UPLOADS = Path("sources") / "uploads"  # .html/.pdf go here, with an entry in motion.yaml


@dataclass
class PackEdit:
    """A source just written into a pack, and how to take it out again."""

    motion: Motion  # the pack reloaded, listing the new source
    source: SourceSpec
    yaml_before: str

    def undo(self) -> None:
        write_atomic(self.motion.root / "motion.yaml", self.yaml_before)
        self.source.path.unlink(missing_ok=True)


def write_atomic(path: Path, text: str) -> None:
    """Write text to path so that a crash leaves either the old or the new file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def bare_name(name: str) -> str:
    """The file name alone: '../../etc/x.md' and 'C:\\\\docs\\\\x.md' -> 'x.md'."""
    return re.split(r"[\\/]", name.strip())[-1]


def safe_file_name(name: str) -> str:
    """A bare name of letters, digits, '.', '_' and '-': 'Allergy Page.html' -> 'Allergy-Page.html'."""
    path = Path(bare_name(name))
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", path.stem).strip("-.") or "source"
    return stem + path.suffix.lower()


def _round_trip(text: str, path: Path) -> tuple[YAML, object]:
    """A ruamel.yaml round-trip loader set to the file's own indentation, and the data.
    Tags are refused first (PyYAML's safe loader rejects them), so an edit never keeps one."""
    try:
        if not isinstance(yaml.safe_load(text), dict):
            raise MotionError(f"{path}: expected a mapping of fields")
    except yaml.YAMLError as exc:
        raise MotionError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    _, indent, offset = load_yaml_guess_indent(text)
    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 4096  # never re-wrap the coach's long lines
    rt.indent(mapping=2, sequence=indent or 2, offset=offset or 0)
    return rt, rt.load(text)


def _dump(rt: YAML, data) -> str:
    out = io.StringIO()
    rt.dump(data, out)
    return out.getvalue()


def _clean_meta(meta: dict | None, name: str) -> dict:
    out = {k: str(v).strip() for k, v in (meta or {}).items() if v is not None and str(v).strip()}
    if out.get("stance") and out["stance"] not in STANCES:
        raise SourceError(f"{name}: stance must be one of {', '.join(STANCES)}")
    if out.get("kind") and out["kind"] not in KINDS:
        raise SourceError(f"{name}: kind must be one of {', '.join(KINDS)}")
    return out


def check_file(path: Path, name: str, max_mb: float) -> str:
    """The file's suffix, or SourceError with the reason it cannot be a source."""
    suffix = Path(name).suffix.lower()
    if suffix not in SOURCE_SUFFIXES:
        raise SourceError(
            f"{name}: unsupported file type {suffix or '(none)'}; use .pdf, .html, .md, .txt or .docx"
        )
    if not path.is_file():
        raise SourceError(f"{name}: no such file")
    size = path.stat().st_size
    if size > max_mb * 1024 * 1024:
        raise SourceError(
            f"{name}: file is {size / 1024 / 1024:.1f} MB, over the {max_mb:g} MB upload limit"
        )
    if size == 0:
        raise SourceError(f"{name}: the file is empty")
    return suffix


def _has_front_matter(path: Path) -> bool:
    return path.read_bytes()[:8].decode("utf-8-sig", errors="replace").startswith("---")


def _stage(file: Path, staged: Path, name: str, meta: dict) -> dict:
    """Copy file to staged, adding front matter from meta to plain .md/.txt; returns the
    metadata that must go into motion.yaml instead (.html/.pdf carry none of their own)."""
    suffix = staged.suffix
    if suffix in TEXT_SUFFIXES and not _has_front_matter(file):
        try:
            body = file.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SourceError(f"{name}: not valid UTF-8 text; re-save it as UTF-8") from exc
        missing = [k for k in REQUIRED_SOURCE_FIELDS if not meta.get(k)]
        if missing:
            raise SourceError(
                f"{name}: has no front matter, so fill in {', '.join(missing)} in the form"
            )
        keys = (*REQUIRED_SOURCE_FIELDS, "stance", "author", "kind")
        ordered = {k: meta[k] for k in keys if k in meta}
        front = yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True)
        staged.write_text(f"---\n{front}---\n{body}", encoding="utf-8")
        return {}
    shutil.copyfile(file, staged)
    return {} if suffix in TEXT_SUFFIXES else dict(meta)


def _listed_by_folder(data, root: Path, dest: Path) -> bool:
    """Does a folder entry of motion.yaml already list files placed where dest is?"""
    for entry in data.get("sources") or []:
        rel = entry if isinstance(entry, str) else entry.get("path", "")
        if (root / str(rel)).resolve() == dest.resolve().parent:
            return True
    return False


def add_source(
    motion: Motion,
    file: str | Path,
    *,
    name: str | None = None,
    meta: dict | None = None,
    max_mb: float = 20.0,
    check: Callable[[SourceSpec], object] | None = None,
) -> PackEdit:
    """Copy `file` into the motion's pack and list it in motion.yaml when no folder entry
    covers it. `name` is the file's own name (an upload's temp file has another); only its
    bare name is used. `meta` (title, publisher, date, url, stance, author, kind) becomes the
    front matter of a .md/.txt without any, or the source's entry for .html/.pdf.

    The file is checked as a staged copy first (`check(spec)` may read it further: ingest
    passes `prepare_source`), so a refused file never touches the pack; returns a PackEdit
    whose `undo()` restores the pack (see debate.corpus.ingest.add_source)."""
    file = Path(file)
    name = bare_name(name or file.name)
    suffix = check_file(file, name, max_mb)
    meta = _clean_meta(meta, name)
    source_id = source_id_for(Path(name))
    if any(s.id == source_id for s in motion.sources):
        raise SourceError(
            f"{name}: the motion already has a source with id '{source_id}'; rename the file"
        )
    dest_dir = motion.root / ("sources" if suffix in TEXT_SUFFIXES else UPLOADS)
    dest = dest_dir / safe_file_name(name)
    if dest.exists():
        raise SourceError(f"{name}: {dest.name} already exists in the pack; rename the file")
    yaml_path = motion.root / "motion.yaml"
    before = yaml_path.read_text(encoding="utf-8")
    rt, data = _round_trip(before, yaml_path)
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / dest.name
        pack_meta = _stage(file, staged, name, meta)
        if check is not None:
            try:
                check(SourceSpec(source_id, staged, dict(pack_meta)))
            except SourceError as exc:  # name the file the user gave, not the staged copy
                raise SourceError(str(exc).replace(str(staged), name)) from exc
        dest_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(staged, dest_dir / f".{dest.name}.tmp")
        os.replace(dest_dir / f".{dest.name}.tmp", dest)
    try:
        if not _listed_by_folder(data, motion.root, dest):
            entry = CommentedMap(path=dest.relative_to(motion.root).as_posix(), id=source_id)
            entry.update(pack_meta)
            data["sources"].append(entry)
            write_atomic(yaml_path, _dump(rt, data))
        new = load_motion_file(yaml_path)
        spec = next((s for s in new.sources if s.path == dest.resolve()), None)
        if spec is None:
            raise MotionError(f"{yaml_path}: the new source is not listed by the pack")
    except BaseException:
        write_atomic(yaml_path, before)
        dest.unlink(missing_ok=True)
        raise
    return PackEdit(new, spec, before)


def slugify(title: str) -> str:
    """'School uniforms!' -> 'school-uniforms' (a motion id)."""
    return re.sub(r"[^a-z0-9]+", "-", fold_accents(title.lower())).strip("-")[:60].strip("-")


# The negation a coach writes for the opposing side's label (`oppose`).
_AUX = (
    r"ought|is|are|am|was|were|shall|should|must|will|would|can|could|may|might"
    r"|has|have|had|does|do|did"
)
_AUX_RE = re.compile(
    rf"\b(?:(?P<contracted>ca|wo|sha)n['’]t|(?P<cannot>can)not|(?P<aux>{_AUX})(?P<neg>n['’]t)?)\b",
    re.IGNORECASE,
)
_CONTRACTED = {"ca": "can", "wo": "will", "sha": "shall"}  # can't, won't, shan't
# After a determiner the word is a noun ("the will of the people", "a can of worms").
_DETERMINERS = frozenset("the a an its their his her our my your".split())
# After a relative pronoun the verb is the subject's ("countries that are poor should pay").
_RELATIVE = frozenset("that which who whom".split())
# A leading subordinate clause is skipped ("If taxes are raised, growth will slow").
_SUBORDINATE = re.compile(
    r"^(?:if|when|whenever|although|though|because|while|since|unless|once|as long as)\b[^,]*,",
    re.IGNORECASE,
)
# "have" as a main verb ("Serbia has a choice") takes "does not have"; before a participle
# it is an auxiliary ("Sanctions have failed").
_PARTICIPLE = re.compile(r"\w{2,}(?:ed|en|wn)$")  # failed, taken, grown
_IRREGULAR = frozenset(
    "been had got made done gone led met put set won lost left kept built brought fought "
    "bought taught caught thought sold told held found become come run begun paid said "
    "spent sent meant".split()
)
# "do" as the main verb: "social media does more harm than good".
_DO_OBJECT = frozenset(
    "more less much little enough a an the its their his her our no nothing everything "
    "something anything harm good well better worse so this that what".split()
)
_THIS_HOUSE = re.compile(r"^(this house)\s+(\w+?)s\b", re.IGNORECASE)


def oppose(thesis: str) -> str:
    """The opposing side's label for a thesis, as a coach would word it: "not" after the
    first auxiliary or modal verb ("We should abolish X" -> "We should not abolish X",
    "We ought to X" -> "We ought not to X"), or the negation taken out when the thesis is
    already negative ("X is not Y" -> "X is Y", "X can't Y" -> "X can Y", "X will never Y"
    -> "X will Y"). "This house would ..." negates "would"; "This house believes in X"
    becomes "This house does not believe in X". A thesis with no such verb (or a question)
    gets "We oppose the motion: <thesis>"."""
    thesis = " ".join((thesis or "").split())
    fallback = f"We oppose the motion: {thesis}"
    if not thesis or thesis.rstrip(" .!\"'”’").endswith("?"):
        return fallback
    lead = _SUBORDINATE.match(thesis)
    m = _first_aux(thesis, lead.end() if lead else 0)
    if m is None:
        house = _THIS_HOUSE.match(thesis)
        if house:
            return f"{house.group(1)} does not {house.group(2)}{thesis[house.end() :]}"
        return fallback
    return _negated(thesis, m) or fallback


def _negated(thesis: str, m: re.Match) -> str | None:
    """thesis negated at its auxiliary m (see `oppose`); None when it cannot be."""
    before, rest = thesis[: m.start()], thesis[m.end() :]
    if m.group("cannot"):  # "cannot" -> "can"
        return before + m.group("cannot") + rest
    if m.group("contracted"):  # "can't" -> "can", "won't" -> "will"
        short = m.group("contracted")
        word = _CONTRACTED[short.lower()]
        return before + (word.capitalize() if short[:1].isupper() else word) + rest
    aux = m.group("aux")
    if m.group("neg"):  # "isn't" -> "is", "doesn't" -> "does"
        return before + aux + rest
    already = re.match(r"\s+(not|never)\b\s*", rest, re.IGNORECASE)
    if already:  # "is not" -> "is", "will never" -> "will"
        return f"{before}{aux} {rest[already.end() :]}"
    lower, nxt = aux.lower(), re.match(r"\s+(\w+)", rest)
    following = nxt.group(1).lower() if nxt else ""
    if lower == "ought" and following != "to":
        return None
    if lower in ("has", "have", "had"):
        if following == "no":  # "has no allies" -> "has allies"
            return before + aux + rest[nxt.end() :]
        if nxt and following not in _IRREGULAR and not _PARTICIPLE.match(following):
            do = {"has": "does", "have": "do", "had": "did"}[lower]
            return f"{before}{do.capitalize() if aux[:1].isupper() else do} not have{rest}"
    if lower in ("does", "do", "did") and following in _DO_OBJECT:  # "does more harm"
        return f"{before}{aux} not do{rest}"
    return f"{before}{aux} not{rest}"


def _first_aux(thesis: str, start: int) -> re.Match | None:
    """The first auxiliary or modal verb of thesis from start on that is a verb (not a noun
    after a determiner), past a relative clause's verb when a later one follows."""
    candidates = []
    for m in _AUX_RE.finditer(thesis, start):
        before = re.search(r"(\w+)\W*$", thesis[start : m.start()])
        previous = before.group(1).lower() if before else ""
        if previous in _DETERMINERS:
            continue
        candidates.append((m, previous in _RELATIVE))
    for m, relative in candidates:
        if not relative:
            return m
    return candidates[0][0] if candidates else None


def create_motion(
    corpus_dir: Path,
    title: str,
    thesis: str,
    defend: Sequence[str],
    attack: Sequence[str],
    *,
    motion_id: str | None = None,
    defend_label: str = "",
    attack_label: str = "",
    description: str = "",
) -> Motion:
    """Write a new pack corpus_dir/<id>/ (motion.yaml and an empty sources/ folder listed by
    it; sources are added afterwards). The id is `motion_id` or made from the title."""
    title, thesis = (title or "").strip(), (thesis or "").strip()
    if not title or not thesis:
        raise MotionError("a new motion needs a title and a one-sentence thesis")
    claims = {"defend": [c.strip() for c in defend if c.strip()]}
    claims["attack"] = [c.strip() for c in attack if c.strip()]
    for side, items in claims.items():
        if not items:
            raise MotionError(
                f"a new motion needs at least one contention for the {side} side "
                "(one claim per line)"
            )
    motion_id = (motion_id or "").strip()
    if not motion_id:
        slug = slugify(title)  # too short when the title has no latin letters or digits
        motion_id = slug if len(slug) >= 3 else f"motion-{dt.date.today():%Y%m%d}"
    if not _ID_RE.match(motion_id):
        raise MotionError(
            f"motion id {motion_id!r} must be 3-64 lowercase letters, digits or dashes; "
            "choose a longer title or give an id"
        )
    folder = Path(corpus_dir) / motion_id
    if folder.exists() or motion_id in {m.id for m in list_motions(corpus_dir)}:
        raise MotionError(f"a motion with id '{motion_id}' already exists; choose another title")
    data = CommentedMap(id=motion_id, title=title, thesis=thesis)
    data["description"] = (description or "").strip()
    data["sides"] = CommentedMap(
        defend=(defend_label or "").strip() or thesis,
        attack=(attack_label or "").strip() or oppose(thesis),
    )
    data["contentions"] = CommentedMap(
        (side, [CommentedMap(claim=c) for c in items]) for side, items in claims.items()
    )
    data["sources"] = ["sources"]
    rt = YAML()
    rt.width = 4096
    rt.indent(mapping=2, sequence=4, offset=2)
    (folder / "sources").mkdir(parents=True)
    try:
        write_atomic(folder / "motion.yaml", _dump(rt, data))
        return load_motion_file(folder / "motion.yaml")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
