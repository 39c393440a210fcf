"""DRCD (SQuAD-style) loading and ingest helpers shared by the benchmark scripts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from eval.drcd import Question, write_records
from eval.drcd import load_drcd as _load_drcd
from rag.config import Settings

# bench/ holds scripts named like project packages (bench/ingest.py): search it last, not first
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH] + [str(_BENCH)]

# Read in place from Settings.benchmarks_dir (RAG_BENCHMARKS_DIR, default ../shared/benchmarks).
DEFAULT_DRCD = Settings.from_env().benchmarks_dir / "drcd" / "DRCD_dev.json"
DEFAULT_DATA_DIR = Path("/tmp/drcd-rag")
COLLECTION = "drcd-dev"


def load_drcd(path: str | Path = DEFAULT_DRCD) -> tuple[list[dict[str, str]], list[Question]]:
    """(records, questions) of the DRCD file; see eval.drcd.load_drcd."""
    return _load_drcd(path)


def drcd_settings(data_dir: str | Path = DEFAULT_DATA_DIR, **changes: Any) -> Settings:
    """Settings for the DRCD collection, ignoring the caller's RAG_* environment."""
    return Settings.from_env({}).with_(data_dir=Path(data_dir), collection=COLLECTION, **changes)


def ingest_drcd(settings: Settings, limit: int | None = None,
                drcd: str | Path = DEFAULT_DRCD, progress: bool = False) -> Any:
    """Ingest the first `limit` paragraphs (all by default); unchanged ones are skipped."""
    from ingest.index import ingest

    records, _ = load_drcd(drcd)
    path = write_records(records[:limit], settings.data_dir / "drcd_paragraphs.jsonl")
    return ingest([path], settings, progress=progress)


def is_ingested(settings: Settings, n_records: int) -> bool:
    """True when the manifest already holds `n_records` articles (skip a slow re-embed)."""
    from rag.manifest import manifest_exists, open_manifest

    if not manifest_exists(settings):
        return False
    with open_manifest(settings) as manifest:
        return manifest.count()[0] >= n_records


if __name__ == "__main__":  # python bench/drcd.py [DATA_DIR]: ingest once, e.g. in the background
    import time

    s = drcd_settings(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DATA_DIR)
    t0 = time.perf_counter()
    summary = ingest_drcd(s, progress=True)
    print(f"added {len(summary.added)} unchanged {len(summary.unchanged)} "
          f"duplicates {summary.duplicates} failed {[str(p) for p in summary.failed]} "
          f"chunks {summary.total_chunks} in {time.perf_counter() - t0:.0f}s", flush=True)
