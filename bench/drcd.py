"""DRCD (SQuAD-style) loading and ingest helpers shared by the benchmark scripts."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.config import PROJECT_ROOT, Settings

# bench/ holds scripts named like project packages (bench/ingest.py): search it last, not first
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH] + [str(_BENCH)]

DEFAULT_DRCD = PROJECT_ROOT.parent / "shared" / "benchmarks" / "drcd" / "DRCD_dev.json"
DEFAULT_DATA_DIR = Path("/tmp/drcd-rag")
COLLECTION = "drcd-dev"


@dataclass(frozen=True)
class Question:
    """A question; its gold item is the paragraph it was asked on (article id = paragraph id)."""

    qid: str
    text: str
    article_id: str
    answers: tuple[str, ...]


def load_drcd(path: str | Path = DEFAULT_DRCD) -> tuple[list[dict[str, str]], list[Question]]:
    """(records, questions): one record {id, title, text} per paragraph, every question."""
    data = json.loads(Path(path).read_text("utf-8"))
    records: list[dict[str, str]] = []
    questions: list[Question] = []
    for article in data["data"]:
        for para in article["paragraphs"]:
            pid = str(para["id"])
            records.append({"id": pid, "title": article["title"], "text": para["context"]})
            for qa in para["qas"]:
                answers = tuple(a["text"] for a in qa.get("answers", []))
                questions.append(Question(str(qa["id"]), qa["question"], pid, answers))
    return records, questions


def drcd_settings(data_dir: str | Path = DEFAULT_DATA_DIR, **changes: Any) -> Settings:
    """Settings for the DRCD collection, ignoring the caller's RAG_* environment."""
    return Settings.from_env({}).with_(data_dir=Path(data_dir), collection=COLLECTION, **changes)


def write_records(records: list[dict[str, str]], path: Path) -> Path:
    """The paragraphs as a JSONL file that `rag ingest` reads as records."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


def ingest_drcd(settings: Settings, limit: int | None = None,
                drcd: str | Path = DEFAULT_DRCD, progress: bool = False) -> Any:
    """Ingest the first `limit` paragraphs (all by default); unchanged ones are skipped."""
    from ingest.index import ingest

    records, _ = load_drcd(drcd)
    path = write_records(records[:limit], settings.data_dir / "drcd_paragraphs.jsonl")
    return ingest([path], settings, progress=progress)


def is_ingested(settings: Settings, n_records: int) -> bool:
    """True when the manifest already holds `n_records` articles (skip a slow re-embed)."""
    from rag.manifest import Manifest

    if not settings.manifest_path.exists():
        return False
    manifest = Manifest(settings.manifest_path)
    try:
        return manifest.count()[0] >= n_records
    finally:
        manifest.close()


if __name__ == "__main__":  # python bench/drcd.py [DATA_DIR]: ingest once, e.g. in the background
    import time

    s = drcd_settings(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DATA_DIR)
    t0 = time.perf_counter()
    summary = ingest_drcd(s, progress=True)
    print(f"added {len(summary.added)} unchanged {len(summary.unchanged)} "
          f"duplicates {summary.duplicates} failed {[str(p) for p in summary.failed]} "
          f"chunks {summary.total_chunks} in {time.perf_counter() - t0:.0f}s", flush=True)
