"""Replica cold start: how long a new app server takes to rebuild its caches (the manifest
mirror and the BM25 index) from a Chroma server holding N chunks, and its peak memory.

    python bench/replica.py --chunks 100000            # starts its own `chroma run` (temp dir)
    python bench/replica.py --chunks 10000 --url http://127.0.0.1:8000 --collection bench-x

The collection is filled with synthetic articles (5 chunks each, sentences of the shipped corpus
shuffled, random unit vectors: no embedding cost), written through the same store as `rag
ingest`. Each measurement runs in a fresh process with an empty data folder; a second run in the
same folder shows the warm start (caches current), a third the catch-up after one more batch.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from rag.config import PROJECT_ROOT, Settings  # noqa: E402
from rag.lexical import load_fresh  # noqa: E402
from rag.manifest import open_manifest  # noqa: E402
from rag.schema import Article, Chunk  # noqa: E402
from rag.store import client, open_collection  # noqa: E402

CHUNKS_PER_ARTICLE = 5
ARTICLES_PER_BATCH = 200  # a commit per batch, as an ingest does (it flushes every 256 chunks)
DIM = 384


def settings_for(url: str, collection: str, data_dir: Path) -> Settings:
    return Settings.from_env({}).with_(chroma_url=url, collection=collection, data_dir=data_dir)


def sentences() -> list[str]:
    text = " ".join(p.read_text(encoding="utf-8")
                    for p in sorted((PROJECT_ROOT / "tests" / "expected").glob("*.txt")))
    return [s + "。" for s in text.replace("\n", "").split("。") if len(s) > 8]


def article(i: int, pool: list[str], rng: random.Random) -> tuple[Article, list[Chunk]]:
    parts = [" ".join(rng.sample(pool, 3)) for _ in range(CHUNKS_PER_ARTICLE)]
    body, chunks, start = "", [], 0
    for index, part in enumerate(parts):
        body += part
        chunks.append(Chunk(article_id=f"syn{i:07d}", index=index, text=part, start=start,
                            end=start + len(part), n_tokens=len(part)))
        start += len(part)
    day = 1 + i % 28
    return Article(article_id=f"syn{i:07d}", title=f"合成新聞 {i}", body=body,
                   date=f"2025-03-{day:02d}", source=f"synthetic:{i}"), chunks


def fill(settings: Settings, n_chunks: int, first: int = 0) -> float:
    """Write n_chunks synthetic chunks (vectors, then manifest batches); returns seconds."""
    rng = random.Random(first)
    vectors = np.random.default_rng(first)
    pool = sentences()
    collection = open_collection(settings, "synthetic-384", lambda: DIM)
    started = time.perf_counter()
    n_articles = n_chunks // CHUNKS_PER_ARTICLE
    with open_manifest(settings) as manifest:
        for lo in range(first, first + n_articles, ARTICLES_PER_BATCH):
            batch = [article(i, pool, rng) for i in range(lo, min(lo + ARTICLES_PER_BATCH,
                                                                  first + n_articles))]
            chunks = [c for _, cs in batch for c in cs]
            v = vectors.standard_normal((len(chunks), DIM)).astype(np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            for i in range(0, len(chunks), 1000):
                part = chunks[i : i + 1000]
                collection.upsert(ids=[c.chunk_id for c in part],
                                  embeddings=v[i : i + 1000].tolist(),
                                  documents=[c.text for c in part],
                                  metadatas=[{"article_id": c.article_id, "index": c.index}
                                             for c in part])
            with manifest.batch() as writes:
                for item, cs in batch:
                    writes.put(article=item, content_hash=f"h{item.article_id}", chunks=cs,
                               bands=[])
            print(f"  wrote {lo + len(batch) - first} / {n_articles} articles", end="\r",
                  file=sys.stderr)
    print(file=sys.stderr)
    return time.perf_counter() - started


def measure(url: str, collection: str, data_dir: Path) -> dict[str, float]:
    """In this process: open the store (mirror) and the BM25 index, timed apart."""
    settings = settings_for(url, collection, data_dir)
    began = time.perf_counter()
    client(settings).heartbeat()  # importing chromadb and connecting, apart from the caches
    started = time.perf_counter()
    with open_manifest(settings) as manifest:
        mirrored = time.perf_counter()
        lexical = load_fresh(settings.lexical_dir, manifest, settings.lexical_tokenizer)
        done = time.perf_counter()
        n_articles, n_chunks = manifest.count()
    assert len(lexical.chunk_ids) == n_chunks
    return {"articles": n_articles, "chunks": n_chunks, "connect_s": started - began,
            "mirror_s": mirrored - started,
            "lexical_s": done - mirrored, "total_s": done - started,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measured(url: str, collection: str, data_dir: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--measure", "--url", url, "--collection",
                          collection, "--data", str(data_dir)], capture_output=True, text=True,
                         check=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    chroma = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen([str(chroma), "run", "--host", "127.0.0.1", "--port", str(port),
                             "--path", str(folder / "chroma")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("chroma run did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--url", help="an existing Chroma server (default: start one)")
    parser.add_argument("--collection", default=None)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.url, args.collection, args.data)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        proc, url = (None, args.url) if args.url else start_server(work)
        collection = args.collection or f"bench-replica-{args.chunks}"
        try:
            writer = settings_for(url, collection, work / "writer")
            fill_s = fill(writer, args.chunks)
            cold = measured(url, collection, work / "replica")
            warm = measured(url, collection, work / "replica")
            fill(writer, CHUNKS_PER_ARTICLE * ARTICLES_PER_BATCH, first=args.chunks)
            catch_up = measured(url, collection, work / "replica")
        finally:
            if proc is not None:
                proc.kill()
                proc.wait()
    report = {"chunks": args.chunks, "fill_s": round(fill_s, 1),
              "cold": cold, "warm": warm, "catch_up_one_batch": catch_up}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
