"""Ingest throughput with the embedding on Ray workers, against one local process, and the two
figures that bound it on N machines: one worker's embedding rate and the driver's own ceiling.

    python bench/ray_scale.py                                  # 1 and 2 workers, 400 chunks
    python bench/ray_scale.py --workers 1,2,4,8 --chunks 4000  # e.g. on a 16-core machine
    python bench/ray_scale.py --address HOST:6379 --workers 8,16,32 --chunks 20000

Prints one JSON line per setting:
- `local`: today's ingest, one process, the model's OpenMP threads = --local-threads (default: all
  cores), the baseline;
- `ray`: the same ingest with W workers of --threads threads each, driver included (end to end);
- `embed`: the same texts embedded by the W workers alone (no reading, no store): per-worker rate;
- `driver`: the ingest with the vectors ready (a lookup): reading, chunking, de-duplication and
  writing, the part the one driver does whatever N is, with its write share (Chroma + manifest);
- every row has `cpu_ms_per_chunk`, the CPU time of the driver and its workers per chunk: on a
  shared machine wall time swings with other jobs (±20% here), CPU time per chunk much less;
- `estimate`: ingest rate with N workers ~ min(N * per_worker, driver), since the driver reads
  and chunks the next batch while the workers embed this one (Embedder.remote); without that
  overlap it would be 1 / (1/(N * per_worker) + 1/driver), also printed.

Input: synthetic articles of real sentences from the shipped corpus (sampled with a fixed seed,
each article distinct), so it needs nothing but the repository and its virtual environment.
Without --address a local Ray instance with max(cores, W * threads) CPUs is started once.
Settings are the defaults (RAG_* ignored); every run writes into a fresh temporary folder.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH]
sys.path.insert(0, str(_BENCH.parent))

import numpy as np  # noqa: E402

from ingest.index import Ingestor  # noqa: E402
from rag.config import Settings, prepare_process_env, shipped_corpus_dir  # noqa: E402
from rag.embed import Embedder, Wrapper, get_embedder  # noqa: E402
from rag.text import split_sentences  # noqa: E402

SENTENCES_PER_ARTICLE = 14
CHUNKS_PER_ARTICLE = 4.7  # measured: 400 requested made 628 when 3 was assumed


def corpus_sentences() -> list[str]:
    out = []
    for path in sorted(shipped_corpus_dir().rglob("*.txt")):
        text = path.read_text(encoding="utf-8")
        out += [text[s.start : s.end].strip() for s in split_sentences(text)]
    return sorted({s for s in out if len(s) >= 12})


def write_articles(path: Path, chunks: int, seed: int = 7) -> Path:
    """JSONL records of sampled sentences, about `chunks` chunks in all."""
    rng = random.Random(seed)
    pool = corpus_sentences()
    n_articles = max(1, round(chunks / CHUNKS_PER_ARTICLE))
    with path.open("w", encoding="utf-8") as f:
        for i in range(n_articles):
            body = "".join(rng.sample(pool, SENTENCES_PER_ARTICLE))
            f.write(json.dumps({"id": f"s{i:06d}", "title": f"合成新聞第{i}篇", "text": body},
                               ensure_ascii=False) + "\n")
    return path


class Clocked(Wrapper):
    """Another embedder, with the seconds its embed() calls took."""

    def __init__(self, inner: Embedder) -> None:
        super().__init__(inner)
        self.seconds = 0.0
        self.remote = inner.remote  # a RayEmbedder's batches still overlap the driver's work

    def _embed_batch(self, texts: list[str], is_query: bool) -> np.ndarray:
        return self.embed(texts, is_query)

    def embed(self, texts: Sequence[str], is_query: bool = False) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self.inner.embed(texts, is_query)
        finally:
            self.seconds += time.perf_counter() - started


class TimedIngestor(Ingestor):
    """Times the driver's writes (Chroma + manifest) apart from the rest."""

    write_s = 0.0

    def _write(self, batch: Any, chunks: Any, vectors: np.ndarray) -> None:
        started = time.perf_counter()
        try:
            super()._write(batch, chunks, vectors)
        finally:
            self.write_s += time.perf_counter() - started


class Lookup(Embedder):
    """Vectors computed beforehand: the ingest then costs only what the driver does."""

    def __init__(self, inner: Embedder, vectors: dict[str, np.ndarray]) -> None:
        super().__init__(inner.batch_size)
        self.inner, self.vectors = inner, vectors
        self.name, self.max_tokens = inner.name, inner.max_tokens

    def _embed_batch(self, texts: list[str], is_query: bool) -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts])

    @property
    def dim(self) -> int:
        return self.inner.dim

    def count_tokens(self, text: str, is_query: bool = False) -> int:
        return self.inner.count_tokens(text, is_query)


def cpu_now(embedder: Embedder) -> float:
    """CPU seconds so far of this process and, for a RayEmbedder, of its workers: unlike wall
    time, hardly moved by other jobs on a shared machine."""
    from ingest.ray_embed import RayEmbedder

    usage = resource.getrusage(resource.RUSAGE_SELF)
    own = usage.ru_utime + usage.ru_stime
    return own + (embedder.cpu_seconds() if isinstance(embedder, RayEmbedder) else 0.0)


def ingest_row(setting: str, records: Path, embedder: Embedder, **extra: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ray-scale-") as tmp:
        settings = Settings.from_env({}).with_(data_dir=Path(tmp))
        clocked = Clocked(embedder)
        ingestor = TimedIngestor(settings, embedder=clocked, progress=False)
        cpu = cpu_now(embedder)
        started = time.perf_counter()
        summary = ingestor.run([records])
        seconds = time.perf_counter() - started
        cpu = cpu_now(embedder) - cpu
    n = summary.chunks_written
    extra["cpu_s"] = round(cpu, 1)
    extra["cpu_ms_per_chunk"] = round(1000 * cpu / max(n, 1), 1)
    # embed_s: wall time inside embed() (for Ray, overlapped with the driver's reading);
    # write_s: the driver's Chroma + manifest writes
    return {"setting": setting, **extra, "chunks": n, "seconds": round(seconds, 2),
            "chunks_per_s": round(n / seconds, 2), "embed_s": round(clocked.seconds, 2),
            "write_s": round(ingestor.write_s, 2), "loadavg_1m": os.getloadavg()[0]}


def stored_texts(records: Path, embedder: Embedder) -> list[str]:
    """What the ingest embeds for these records (one throwaway ingest with lookup-free zeros)."""
    texts: list[str] = []

    class Recorder(Lookup):
        def _embed_batch(self, batch: list[str], is_query: bool) -> np.ndarray:
            texts.extend(batch)
            return np.ones((len(batch), self.dim), dtype=np.float32)

    with tempfile.TemporaryDirectory(prefix="ray-scale-") as tmp:
        settings = Settings.from_env({}).with_(data_dir=Path(tmp))
        Ingestor(settings, embedder=Recorder(embedder, {}), progress=False).run([records])
    return texts


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    p.add_argument("--threads", type=int, default=1, help="threads per worker")
    p.add_argument("--chunks", type=int, default=400)
    p.add_argument("--address", help="a running Ray cluster (default: a local instance)")
    p.add_argument("--local-threads", type=int, default=None,
                   help="OpenMP threads of the local baseline (default: all cores)")
    p.add_argument("--skip-local", action="store_true")
    p.add_argument("--repeats", type=int, default=1, help="alternate local/ray runs this often")
    args = p.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    if args.local_threads:
        os.environ["OMP_NUM_THREADS"] = str(args.local_threads)  # before the model loads
    prepare_process_env()
    import ray

    from ingest.ray_embed import LOCAL_SYSTEM_CONFIG, OBJECT_STORE_BYTES, RayEmbedder

    cpus = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="ray-scale-in-") as tmp:
        records = write_articles(Path(tmp) / "articles.jsonl", args.chunks)
        settings = Settings.from_env({})
        local = get_embedder(settings)
        local.embed(["暖機 warm-up"])
        texts = stored_texts(records, local)
        if args.address:
            ray.init(address=args.address, log_to_driver=False, logging_level=logging.WARNING)
        else:
            ray.init(address="local", num_cpus=max(cpus, max(workers) * args.threads),
                     include_dashboard=False, object_store_memory=OBJECT_STORE_BYTES,
                     log_to_driver=False, logging_level=logging.WARNING,
                     _system_config=LOCAL_SYSTEM_CONFIG)
        rows: list[dict[str, Any]] = []
        vectors: dict[str, np.ndarray] = {}
        for _ in range(args.repeats):
            if not args.skip_local:
                row = ingest_row("local", records, local, processes=1,
                                 threads=args.local_threads or cpus, cpus=cpus)
                print(json.dumps(row), flush=True)
                rows.append(row)
            for w in workers:
                with RayEmbedder.start(settings, workers=w, threads=args.threads) as remote:
                    row = ingest_row("ray", records, remote, workers=w, threads=args.threads,
                                     cpus=cpus)
                    print(json.dumps(row), flush=True)
                    rows.append(row)
                    cpu = remote.cpu_seconds()
                    started = time.perf_counter()
                    out = remote.embed(texts)
                    seconds = time.perf_counter() - started
                    cpu = remote.cpu_seconds() - cpu
                    vectors = dict(zip(texts, out, strict=True))
                    row = {"setting": "embed", "workers": w, "threads": args.threads,
                           "texts": len(texts), "seconds": round(seconds, 2),
                           "chunks_per_s": round(len(texts) / seconds, 2),
                           "per_worker_chunks_per_s": round(len(texts) / seconds / w, 2),
                           "worker_cpu_ms_per_chunk": round(1000 * cpu / len(texts), 1),
                           "loadavg_1m": os.getloadavg()[0]}
                    print(json.dumps(row), flush=True)
                    rows.append(row)
        if not vectors:
            vectors = dict(zip(texts, local.embed(texts), strict=True))
        driver = ingest_row("driver", records, Lookup(local, vectors))
        driver["write_chunks_per_s"] = round(driver["chunks"] / max(driver["write_s"], 1e-9), 1)
        print(json.dumps(driver), flush=True)
        ray.shutdown()
    per_worker = max((r["per_worker_chunks_per_s"] for r in rows if r["setting"] == "embed"),
                     default=None)
    if per_worker:
        ceiling = driver["chunks_per_s"]
        ns = (1, 2, 4, 8, 16, 32, 64, 128)
        print(json.dumps({
            "setting": "estimate", "per_worker_chunks_per_s": per_worker,
            "driver_chunks_per_s": ceiling,
            "ingest_chunks_per_s_by_workers": {
                str(n): round(min(n * per_worker, ceiling), 1) for n in ns},
            "without_overlap": {
                str(n): round(1 / (1 / (n * per_worker) + 1 / ceiling), 1) for n in ns},
            "workers_to_saturate_driver": round(ceiling / per_worker, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
