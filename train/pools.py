"""Retrieval pools: each benchmark's paragraphs ingested into its own collection under a cache
folder outside the repo (ingest is the slow step: ~20-40 min for 2,100 paragraphs on 2 cores)."""

from __future__ import annotations

import json
from pathlib import Path

from rag.config import Settings
from train.data import load, records

COLLECTIONS = {"drcd": "train-drcd", "cmrc": "train-cmrc"}


def pool_settings(settings: Settings, dataset: str) -> Settings:
    return settings.with_(collection=COLLECTIONS[dataset])


def build(settings: Settings, dataset: str) -> Settings:
    """Ingest the dataset's paragraphs (a no-op when already done); the pool's settings."""
    from ingest.index import ingest

    paragraphs, _ = load(dataset, settings.benchmarks_dir)
    path = settings.data_dir / f"{dataset}_paragraphs.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for rec in records(paragraphs):
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    pool = pool_settings(settings, dataset)
    summary = ingest([Path(path)], pool, progress=False)
    if not summary.ok:
        raise SystemExit(f"匯入失敗 ingest of {dataset} failed: {summary.failed[:3]}")
    return pool


if __name__ == "__main__":
    import sys

    base = Settings.from_env()
    for name in sys.argv[1:] or list(COLLECTIONS):
        build(base, name)
        print("pool ready:", name, flush=True)
