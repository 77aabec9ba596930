"""Coach tools for the corpus: add an uploaded source to a motion, create a new motion.

A file is validated (type, size, metadata, readable text, passages) as a staged copy
with debate.ingest.prepare_source BEFORE it is copied into the pack, so a bad upload never
breaks a pack. .md/.txt files without front matter get front matter written from the
coach's form; .html/.pdf keep their metadata in motion.yaml (the loaders read it there),
so they go to `sources/uploads/` with an entry of their own (a folder entry for `sources`
does not reach into sub-folders, which would otherwise list the file twice).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from debate.config import Settings
from debate.errors import MotionError, SourceError
from debate.motions import (
    REQUIRED_SOURCE_FIELDS,
    SOURCE_SUFFIXES,
    STANCES,
    Motion,
    SourceSpec,
    list_motions,
    load_motion,
    source_id_for,
)

log = logging.getLogger(__name__)
TEXT_SUFFIXES = (".md", ".txt")


@dataclass
class AddedSource:
    motion: Motion  # the reloaded motion, including the new source
    source_id: str
    title: str
    path: Path
    passages: int
    embedded: int


def _form_meta(form: dict) -> dict:
    meta = {
        k: str(v).strip() for k, v in (form or {}).items() if v not in (None, "") and str(v).strip()
    }
    return meta


def _has_front_matter(path: Path) -> bool:
    try:
        head = path.read_bytes()[:8].decode("utf-8-sig", errors="replace")
    except OSError:
        return False
    return head.startswith("---")


def _with_front_matter(text: str, meta: dict) -> str:
    ordered = {k: meta[k] for k in (*REQUIRED_SOURCE_FIELDS, "author", "kind") if k in meta}
    return "---\n" + yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True) + "---\n" + text


def check_upload(path: Path, name: str, settings: Settings) -> str:
    """The upload's suffix, or SourceError with the reason it is refused."""
    suffix = Path(name).suffix.lower()
    if suffix not in SOURCE_SUFFIXES:
        raise SourceError(
            f"{name}: unsupported file type {suffix or '(none)'}; upload .pdf, .html, .md or .txt"
        )
    size_mb = path.stat().st_size / (1024 * 1024)
    if size_mb > settings.upload_max_mb:
        raise SourceError(
            f"{name}: file is {size_mb:.1f} MB, over the {settings.upload_max_mb:g} MB upload limit"
        )
    if path.stat().st_size == 0:
        raise SourceError(f"{name}: the file is empty")
    return suffix


def add_source(
    motion: Motion,
    upload: Path,
    name: str,
    form: dict,
    settings: Settings,
    progress: Callable[[int, int], None] | None = None,
) -> AddedSource:
    """Validate an uploaded file, copy it into the motion's pack, ingest it."""
    from debate.ingest import ingest_motion, prepare_source
    from debate.retrieval import invalidate

    upload = Path(upload)
    suffix = check_upload(upload, name, settings)
    meta = _form_meta(form)
    if meta.get("stance") and meta["stance"] not in STANCES:
        raise SourceError(f"{name}: stance must be one of {', '.join(STANCES)}")
    source_id = source_id_for(Path(name))
    if any(s.id == source_id for s in motion.sources):
        raise SourceError(
            f"{name}: the motion already has a source with id '{source_id}'; rename the file"
        )
    base = Path(name).stem
    safe_name = (re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-.") or "source") + suffix
    pack_meta: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / safe_name
        if suffix in TEXT_SUFFIXES and not _has_front_matter(upload):
            try:
                body = upload.read_bytes().decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise SourceError(f"{name}: not valid UTF-8 text; re-save it as UTF-8") from exc
            missing = [k for k in REQUIRED_SOURCE_FIELDS if not meta.get(k)]
            if missing:
                raise SourceError(
                    f"{name}: has no front matter, so fill in {', '.join(missing)} in the form"
                )
            staged.write_text(_with_front_matter(body, meta), encoding="utf-8")
        else:
            shutil.copyfile(upload, staged)
            if suffix not in TEXT_SUFFIXES:
                pack_meta = meta  # goes into motion.yaml: .html/.pdf carry no front matter
        # The same check ingest runs; a SourceError here names the staged file, so say the upload.
        try:
            prepared = prepare_source(
                motion, SourceSpec(source_id, staged, dict(pack_meta)), settings
            )
        except SourceError as exc:
            raise SourceError(str(exc).replace(str(staged), name)) from exc

        if suffix in TEXT_SUFFIXES:
            dest_dir = motion.root / "sources"
        else:
            dest_dir = motion.root / "sources" / "uploads"
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = dest_dir / safe_name
        if dest.exists():
            raise SourceError(f"{name}: {dest.name} already exists in the pack; rename the file")
        shutil.copyfile(staged, dest)

    yaml_path = motion.root / "motion.yaml"
    original_yaml = yaml_path.read_text(encoding="utf-8")
    try:
        if not _covered_by_folder(motion, dest):
            _append_source_entry(yaml_path, dest.relative_to(motion.root), source_id, pack_meta)
        new_motion = load_motion(motion.root, settings.corpus_dir)
        if not any(s.path == dest.resolve() for s in new_motion.sources):
            raise MotionError(f"{yaml_path}: the new source is not listed by the pack")
        report = ingest_motion(new_motion, settings, progress=progress)
    except Exception:
        # Put the pack back as it was: the index is unchanged when ingest fails before writing.
        yaml_path.write_text(original_yaml, encoding="utf-8")
        dest.unlink(missing_ok=True)
        raise
    invalidate(new_motion.id)
    log.info("added source %s to %s (%d passages)", source_id, new_motion.id, report.passages)
    return AddedSource(
        new_motion,
        source_id,
        prepared.meta.get("title", name),
        dest,
        len(prepared.passages),
        report.embedded,
    )


def _covered_by_folder(motion: Motion, dest: Path) -> bool:
    """Does a folder entry of motion.yaml already list files placed where dest is?"""
    data = yaml.safe_load((motion.root / "motion.yaml").read_text(encoding="utf-8"))
    for entry in data.get("sources") or []:
        rel = entry if isinstance(entry, str) else entry.get("path", "")
        folder = (motion.root / rel).resolve()
        if folder.is_dir() and dest.resolve().parent == folder:
            return True
    return False


def _append_source_entry(yaml_path: Path, rel: Path, source_id: str, meta: dict) -> None:
    data = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
    entry = {"path": rel.as_posix(), "id": source_id, **meta}
    data.setdefault("sources", []).append(entry)
    _write_yaml(yaml_path, data)


def _write_yaml(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(
        yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8"
    )
    os.replace(tmp, path)


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60].strip("-")
    return slug if len(slug) >= 3 else f"motion-{dt.date.today():%Y%m%d}"


def _claims(raw: str) -> list[str]:
    return [line.strip(" -•*\t") for line in (raw or "").splitlines() if line.strip(" -•*\t")]


def create_motion(
    settings: Settings,
    title: str,
    thesis: str,
    defend_claims: str,
    attack_claims: str,
    defend_label: str = "",
    attack_label: str = "",
    description: str = "",
) -> Motion:
    """Write a new motion pack under corpus_dir/<id>/ (sources are added afterwards)."""
    title, thesis = (title or "").strip(), (thesis or "").strip()
    if not title or not thesis:
        raise MotionError("a new motion needs a title and a one-sentence thesis")
    claims = {"defend": _claims(defend_claims), "attack": _claims(attack_claims)}
    for side, items in claims.items():
        if not items:
            raise MotionError(
                f"a new motion needs at least one contention for the {side} side "
                "(one claim per line)"
            )
    motion_id = slugify(title)
    existing = {m.id for m in list_motions(settings.corpus_dir)}
    folder = Path(settings.corpus_dir) / motion_id
    if motion_id in existing or folder.exists():
        raise MotionError(f"a motion with id '{motion_id}' already exists; choose another title")
    data = {
        "id": motion_id,
        "title": title,
        "thesis": thesis,
        "description": (description or "").strip(),
        "sides": {
            "defend": (defend_label or "").strip() or thesis,
            "attack": (attack_label or "").strip() or f"It is not true that: {thesis}",
        },
        "contentions": {side: [{"claim": c} for c in items] for side, items in claims.items()},
        "sources": ["sources"],
    }
    (folder / "sources").mkdir(parents=True)
    try:
        _write_yaml(folder / "motion.yaml", data)
        return load_motion(folder, settings.corpus_dir)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
