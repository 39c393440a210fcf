"""CRUD-RAG at scale: ingest time and chunks/s of 1,000+ (or all 5,790) news articles, then the
127 located questions: source-article hit@1/@5, answer-holds-gold, refusals, one line per miss.

    python bench/crud_rag.py                       # 1,000+ articles into /work/cache/crud-rag
    python bench/crud_rag.py --all                 # all 5,790 (hours on 2 cores)
    python bench/crud_rag.py --skip-ingest --misses misses.jsonl

The article choice and the questions are eval/datasets/crud_rag.py's, so `RAG_DATA_DIR=DIR
rag eval --dataset crud-rag` reuses this collection and reports the same figures. Settings are
the defaults (RAG_* variables ignored) except the data folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH]
sys.path.insert(0, str(_BENCH.parent))

from eval.datasets.base import RunOptions  # noqa: E402
from eval.datasets.crud_rag import CRUD_RAG, CRUD_RAG_ALL, CrudRagDataset, prepare  # noqa: E402
from eval.report import summarize  # noqa: E402
from rag.config import Settings  # noqa: E402

DEFAULT_DATA_DIR = Path("/work/cache/crud-rag")


def ingest_timed(dataset: CrudRagDataset, settings: Settings, ray: str | None,
                 workers: int | None) -> dict[str, Any]:
    from ingest.index import Ingestor

    settings = settings.with_(collection=dataset.collection)
    _, paths = prepare(settings, dataset.source(settings, RunOptions()), dataset.articles,
                       dataset.collection)
    embedder = None
    if ray is not None:
        from ingest.ray_embed import RayEmbedder

        embedder = RayEmbedder.start(settings, address=ray or None, workers=workers)
    started = time.perf_counter()
    try:
        summary = Ingestor(settings, embedder=embedder, progress=True).run(paths)
    finally:
        if embedder is not None:
            embedder.close()
    seconds = time.perf_counter() - started
    written = len(summary.added) + len(summary.updated)
    return {"articles_written": written, "duplicates": len(summary.duplicates),
            "unchanged": len(summary.unchanged), "failed": len(summary.failed),
            "chunks_written": summary.chunks_written, "total_articles": summary.total_articles,
            "total_chunks": summary.total_chunks, "seconds": round(seconds, 1),
            "chunks_per_s": round(summary.chunks_written / seconds, 3) if seconds else None,
            "loadavg_1m_at_end": os.getloadavg()[0], "ray": ray}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    p.add_argument("--benchmarks-dir", type=Path, help="default: ../shared/benchmarks")
    p.add_argument("--all", action="store_true", help="all 5,790 articles (crud-rag-all)")
    p.add_argument("--skip-ingest", action="store_true")
    p.add_argument("--skip-questions", action="store_true")
    p.add_argument("--ray", nargs="?", const="", default=None,
                   help="embed on Ray workers (ADDRESS, or a local instance)")
    p.add_argument("--workers", type=int, help="Ray embedding workers")
    p.add_argument("--misses", type=Path, help="write every question's outcome here (JSONL)")
    args = p.parse_args(argv)
    dataset = CRUD_RAG_ALL if args.all else CRUD_RAG
    settings = Settings.from_env({}).with_(data_dir=args.data_dir)
    if args.benchmarks_dir:
        settings = settings.with_(benchmarks_dir=args.benchmarks_dir)
    if not args.skip_ingest:
        row = ingest_timed(dataset, settings, args.ray, args.workers)
        print(json.dumps({"ingest": dataset.name, **row}, ensure_ascii=False), flush=True)
    if args.skip_questions:
        return 0
    outcome = dataset.run(settings, RunOptions(k=10))
    report = summarize(outcome.results, splits=False)
    overall = report["overall"]
    n = len(outcome.results)
    hits = {k: sum(any(a in r.item.article_ids for a in r.ranked_articles[:k])
                   for r in outcome.results) / n for k in (1, 5)}
    keys = ("article_hit@1", "article_hit@5", "article_mrr@10", "answer_contains_gold")
    print(json.dumps({"questions": n, **{k: overall.get(k) for k in keys},
                      "all_questions_hit@1": hits[1], "all_questions_hit@5": hits[5],
                      "refusal": report.get("refusal")}, ensure_ascii=False))
    if args.misses:
        with args.misses.open("w", encoding="utf-8") as f:
            for r in outcome.results:
                a = r.answer
                f.write(json.dumps({
                    "id": r.item.id, "question": r.item.question, "answers": r.item.answers,
                    "gold": r.item.article_ids, "ranked": r.ranked_articles[:5],
                    "refused": a.refused if a else None, "text": a.text if a else None},
                    ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
