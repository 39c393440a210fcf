"""Eval's error classes: RagError subclasses whose messages say how to fix the problem."""

from __future__ import annotations

from pathlib import Path

from rag.errors import ConfigError, InputError, RagError


class BenchmarkMissingError(ConfigError):
    """A benchmark file is not where the settings say; benchmarks are read in place, not copied."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"找不到基準資料檔：{path}。請把 RAG_BENCHMARKS_DIR 或 `rag eval --benchmarks-dir DIR` "
            f"指向存放基準資料的資料夾，或以 --drcd-path FILE 直接指定檔案。 "
            f"Benchmark file not found: {path}. Point RAG_BENCHMARKS_DIR or "
            f"`rag eval --benchmarks-dir DIR` at the folder that holds the benchmarks "
            f"(default ../shared/benchmarks), or pass the file itself with --drcd-path FILE.")
        self.path = path


class EvalIngestError(RagError):
    """The eval collection could not be built: some inputs failed to ingest."""


class ThresholdsError(ConfigError):
    """thresholds.toml names an unknown dataset, split or metric, or a bound is not a number."""


class GoldDataError(InputError, ValueError):
    """A gold file line is malformed (a ValueError too, for callers that catch that)."""
