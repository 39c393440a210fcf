"""What an eval dataset is: the Dataset contract, its run options and outcome, shared helpers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from eval.errors import EvalIngestError
from eval.item import ItemResult
from rag.config import Settings


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """What `rag eval` passes every dataset."""

    answerer: str | None = None  # None: RAG_ANSWERER
    k: int = 10  # passages retrieved per question for the retrieval metrics
    limit: int | None = None  # the dataset's docstring says what it cuts short
    source: Path | None = None  # the dataset's file, instead of its default place


@dataclass(frozen=True)
class Outcome:
    """One ItemResult per question plus the answerer's label, for eval.report.summarize."""

    results: list[ItemResult]
    answerer: str


class Dataset(Protocol):
    """A `rag eval --dataset` target; see eval/datasets/__init__.py for how to add one."""

    @property
    def name(self) -> str:
        """The --dataset value and the [section] of eval/thresholds.toml."""
        ...

    @property
    def description(self) -> str:
        """One line for `rag eval --help`."""
        ...

    @property
    def has_splits(self) -> bool:
        """Its items carry tune/heldout splits that the report shows apart."""
        ...

    def run(self, settings: Settings, options: RunOptions) -> Outcome:
        """Build (or reuse) the dataset's collection, retrieve and answer its questions."""
        ...


def ingest_collection(paths: Sequence[Path], settings: Settings, progress: bool) -> None:
    """Ingest into settings.collection (unchanged articles are skipped); any failure raises."""
    from ingest.index import ingest

    summary = ingest(paths, settings, progress=progress)
    if not summary.ok:
        shown = "; ".join(str(p) for p in summary.failed[:3])
        raise EvalIngestError(
            f"評估集合 {settings.collection} 匯入失敗（{len(summary.failed)} 筆）：{shown}。 "
            f"Ingest into the eval collection {settings.collection} failed for "
            f"{len(summary.failed)} inputs: {shown}. Fix those inputs (`rag ingest PATH` shows "
            "each problem) and run again.")
