"""Retrieval at scale on synthetic chunks: retrieve() p50/p95 latency (query embedding excluded)
and peak memory at 100k and 1M chunks, embedded Chroma and a `chroma run` server.

    python bench/scale.py build --chunks 100000 --data-dir /work/cache/scale-100k
    python bench/scale.py build --chunks 1000000 --no-documents --resume --data-dir ...  # killed
    python bench/scale.py latency --data-dir /work/cache/scale-100k            # embedded
    python bench/scale.py upload --data-dir /work/cache/scale-100k    # once, for server mode
    python bench/scale.py latency --data-dir /work/cache/scale-100k --server   # chroma run
    python bench/scale.py latency --data-dir /work/cache/scale-1m --ef-search 100  # HNSW breadth

Chunks are random unit vectors (384 dimensions, like e5-small) with synthetic Chinese-like text
(words of 1-4 characters drawn from the shipped corpus's characters, Zipf-distributed word
frequencies, ~200 characters a chunk) so that BM25 has realistic posting lists; five chunks an
article, dated over three years. `build` writes them the ingest's way (Chroma first, then the
manifest in batches, then the lexical index), without an embedding model, once; reuse the folder.
Random vectors have no cluster structure, the hardest case for HNSW: real embeddings search
faster. Server mode (RAG_CHROMA_URL) keeps the manifest on the server too: `upload` starts `chroma
run` on the same Chroma folder (the vectors are already there) and writes every article through
the server store, in batches of 1,000 articles; the reader then works as a replica, with its own
cache folder (`<data-dir>/replica`: the manifest mirror and BM25), kept between runs, so the first
run also measures the replica's cold start. Queries: 8-16 characters of a chunk as the text, its
vector plus noise (cosine ~0.85) as the query vector, looked up rather than embedded. `latency`
runs in a child process so that its peak RSS is the reader's alone; with --server the server's
peak RSS is reported beside it (the server is started on the same Chroma folder, on 127.0.0.1,
and stopped afterwards).
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
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH]
sys.path.insert(0, str(_BENCH.parent))

import numpy as np  # noqa: E402

from rag import store  # noqa: E402
from rag.config import Settings, shipped_corpus_dir  # noqa: E402
from rag.embed import Embedder  # noqa: E402
from rag.lang import CJK_RUN  # noqa: E402
from rag.manifest import open_manifest  # noqa: E402
from rag.schema import Article, Chunk  # noqa: E402

MODEL = "synthetic-unit-384"  # recorded in the collection; the lookup embedder has this name
DIM = 384
COLLECTION = "synthetic"
CHUNKS_PER_ARTICLE = 5
WORDS_PER_CHUNK = 110  # ~200 characters, like a 160-token chunk of Chinese news
VOCAB = 60_000
QUERY_NOISE = 0.62  # |noise| / |vector|: cosine(query, chunk) ~ 0.85
WRITE_BATCH = 5000
CHROMA = Path(sys.executable).parent / "chroma"


# ---------------------------------------------------------------- synthetic text and vectors


class Synth:
    """A vocabulary of Chinese-like words and a Zipf law over them, fixed by the seed."""

    def __init__(self, seed: int = 11) -> None:
        rng = np.random.default_rng(seed)
        chars, weights = corpus_characters()
        lengths = rng.choice([1, 2, 3, 4], size=VOCAB, p=[0.15, 0.65, 0.15, 0.05])
        picks = rng.choice(len(chars), size=int(lengths.sum()), p=weights)
        words, pos = [], 0
        for n in lengths:
            words.append("".join(chars[i] for i in picks[pos : pos + n]))
            pos += n
        self.words = words
        ranks = np.arange(1, VOCAB + 1, dtype=np.float64)
        p = ranks ** -1.07
        self.cdf = np.cumsum(p / p.sum())

    def chunk_words(self, rng: np.random.Generator, n_chunks: int) -> np.ndarray:
        """(n_chunks, WORDS_PER_CHUNK) word indices."""
        u = rng.random((n_chunks, WORDS_PER_CHUNK))
        return np.minimum(np.searchsorted(self.cdf, u), VOCAB - 1)

    def text(self, word_ids: Sequence[int]) -> str:
        parts = []
        for i, w in enumerate(word_ids, start=1):
            parts.append(self.words[w])
            if i % 17 == 0:
                parts.append("。")
            elif i % 6 == 0:
                parts.append("，")
        return "".join(parts) + "。"


def corpus_characters() -> tuple[list[str], np.ndarray]:
    """The shipped corpus's CJK characters and their relative frequencies."""
    counts: Counter[str] = Counter()
    for path in shipped_corpus_dir().rglob("*.txt"):
        for run in CJK_RUN.findall(path.read_text(encoding="utf-8")):
            counts.update(run)
    chars = sorted(counts)
    weights = np.asarray([counts[c] for c in chars], dtype=np.float64)
    return chars, weights / weights.sum()


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM), dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def articles(synth: Synth, total: int, seed: int = 3, skip: int = 0
             ) -> Iterator[tuple[Article, list[Chunk], np.ndarray]]:
    """(article, its chunks, their vectors) until `total` chunks, in batches of articles; the
    first `skip` chunks (whole batches) are drawn but not yielded, so that a resumed build
    writes exactly what an uninterrupted one would have."""
    if skip % WRITE_BATCH:
        raise ValueError(f"skip must be a multiple of {WRITE_BATCH} chunks, not {skip}")
    rng = np.random.default_rng(seed)
    day0 = np.datetime64("2022-01-01")
    per_batch = WRITE_BATCH // CHUNKS_PER_ARTICLE
    made = 0
    while made < total:
        n_art = min(per_batch, -(-(total - made) // CHUNKS_PER_ARTICLE))
        ids = synth.chunk_words(rng, n_art * CHUNKS_PER_ARTICLE)
        vectors = unit_vectors(rng, n_art * CHUNKS_PER_ARTICLE)
        days = rng.integers(0, 3 * 365, n_art)
        if made < skip:  # the same draws (so later batches match), no texts or articles
            made += n_art * CHUNKS_PER_ARTICLE
            continue
        for a in range(n_art):
            aid = f"syn{(made // CHUNKS_PER_ARTICLE) + a:07d}"
            texts = [synth.text(ids[a * CHUNKS_PER_ARTICLE + c])
                     for c in range(CHUNKS_PER_ARTICLE)]
            body = "\n".join(texts)
            chunks, pos = [], 0
            for c, t in enumerate(texts):
                chunks.append(Chunk(article_id=aid, index=c, text=t, start=pos,
                                    end=pos + len(t), n_tokens=len(t)))
                pos += len(t) + 1
            art = Article(article_id=aid, title=texts[0][:20], body=body,
                          date=str(day0 + int(days[a])), source=f"synthetic:{aid}")
            yield art, chunks, vectors[a * CHUNKS_PER_ARTICLE : (a + 1) * CHUNKS_PER_ARTICLE]
        made += n_art * CHUNKS_PER_ARTICLE


# ---------------------------------------------------------------- build


def settings_for(data_dir: Path, chroma_url: str | None = None,
                 ef_search: int | None = None) -> Settings:
    """The bench's settings (the environment is not read: RAG_* of the shell never leak in);
    `ef_search` None keeps the product's default HNSW search breadth."""
    settings = Settings.from_env({}).with_(data_dir=data_dir, collection=COLLECTION,
                                           chroma_url=chroma_url)
    return settings if ef_search is None else settings.with_(hnsw_ef_search=ef_search)


def build(data_dir: Path, total: int, documents: bool = True, resume: bool = False
          ) -> dict[str, Any]:
    """Chroma first, then the manifest, per batch (the ingest's order), then BM25. With
    `resume`, a killed build goes on from the manifest's chunk count (a multiple of the batch):
    Chroma may hold one batch more (killed between its add and the manifest's), so batches it
    already has are upserted; a 1M build takes about an hour on 2 busy cores."""
    from ingest.index import chunk_metadata
    from rag.lexical import load_fresh

    settings = settings_for(data_dir)
    done = resumable(settings) if resume else 0
    if not done:
        store.drop_collection(settings)
        settings.manifest_path.unlink(missing_ok=True)
    started = time.perf_counter()
    collection = store.open_collection(settings, MODEL, lambda: DIM)
    in_chroma = collection.count() if done else 0
    synth = Synth()
    timings = {"chroma_s": 0.0, "manifest_s": 0.0}
    with open_manifest(settings) as manifest:
        batch: list[tuple[Article, list[Chunk], np.ndarray]] = []
        written_chunks = done
        for item in articles(synth, total, skip=done):
            batch.append(item)
            if sum(len(c) for _, c, _ in batch) >= WRITE_BATCH:
                _write(collection, manifest, batch, timings, chunk_metadata, documents,
                       upsert=written_chunks < in_chroma)
                written_chunks += sum(len(c) for _, c, _ in batch)
                batch = []
        _write(collection, manifest, batch, timings, chunk_metadata, documents,
               upsert=written_chunks < in_chroma)
        written = time.perf_counter() - started
        t0 = time.perf_counter()
        load_fresh(settings.lexical_dir, manifest, settings.lexical_tokenizer)
        lexical_s = time.perf_counter() - t0
        n_articles, n_chunks = manifest.count()
    return {"chunks": n_chunks, "articles": n_articles, "resumed_from": done,
            "write_s": round(written, 1), "chroma_s": round(timings["chroma_s"], 1),
            "manifest_s": round(timings["manifest_s"], 1), "lexical_s": round(lexical_s, 1),
            "peak_rss_mb": round(peak_rss_mb(), 0)}


def resumable(settings: Settings) -> int:
    """Chunks a killed build left in both the manifest and Chroma (0: start afresh)."""
    if not settings.manifest_path.exists() or not store.exists(settings, COLLECTION):
        return 0
    with open_manifest(settings) as manifest:
        chunks = manifest.count()[1]
    if chunks % WRITE_BATCH or store.read_collection(settings).count() < chunks:
        raise SystemExit(f"{settings.data_dir}: {chunks:,} chunks in the manifest is not a "
                         "whole number of batches or more than Chroma holds; build without "
                         "--resume to start again")
    return chunks


def _write(collection: Any, manifest: Any, batch: list[tuple[Article, list[Chunk], np.ndarray]],
           timings: dict[str, float], metadata: Any, documents: bool,
           upsert: bool = False) -> None:
    if not batch:
        return
    t0 = time.perf_counter()
    pairs = [(a, c) for a, chunks, _ in batch for c in chunks]
    (collection.upsert if upsert else collection.add)(ids=[c.chunk_id for _, c in pairs],
                   embeddings=np.concatenate([v for _, _, v in batch]),
                   documents=[c.text for _, c in pairs] if documents else None,
                   metadatas=[metadata(a, c) for a, c in pairs])
    t1 = time.perf_counter()
    with manifest.batch() as writes:
        for article, chunks, _ in batch:
            writes.put(article=article, content_hash=f"synthetic-{article.article_id}",
                       chunks=chunks, bands=[])
    timings["chroma_s"] += t1 - t0
    timings["manifest_s"] += time.perf_counter() - t1
    print(f"  {manifest.count()[1]:,} chunks", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- latency


class Lookup(Embedder):
    """Query vectors made beforehand (the timings exclude query embedding)."""

    name = MODEL
    max_tokens = 512

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        super().__init__(32)
        self.vectors = vectors

    def _embed_batch(self, texts: list[str], is_query: bool) -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts])

    @property
    def dim(self) -> int:
        return DIM

    def count_tokens(self, text: str, is_query: bool = False) -> int:
        return len(text)


def make_queries(settings: Settings, n: int, seed: int = 5) -> list[tuple[str, str, np.ndarray]]:
    """(text, source chunk id, query vector): a run of words of a random chunk, and the
    chunk's vector plus noise."""
    rng = random.Random(seed)
    collection = store.read_collection(settings)
    total = collection.count()
    ids = [f"syn{i // CHUNKS_PER_ARTICLE:07d}#{i % CHUNKS_PER_ARTICLE}"
           for i in rng.sample(range(total), n)]
    got = collection.get(ids=ids, include=["embeddings"])
    with open_manifest(settings) as manifest:
        texts = {cid: row.text for cid, row in manifest.stored_chunks(ids).items()}
    by_id = {cid: (texts[cid], vector) for cid, vector in zip(got["ids"], got["embeddings"],
                                                                strict=True)}
    nrng = np.random.default_rng(seed)
    out = []
    for cid in ids:
        text, vector = by_id[cid]
        words = [w for w in text.replace("，", "。").split("。") if w]
        phrase = rng.choice(words)
        cut = rng.randrange(max(1, len(phrase) - 12))
        query = phrase[cut : cut + rng.randint(8, 16)]
        noise = nrng.standard_normal(DIM).astype(np.float32)
        noise *= QUERY_NOISE / np.linalg.norm(noise)
        v = np.asarray(vector, np.float32) + noise
        out.append((query, cid, v / np.linalg.norm(v)))
    return out


def peak_rss_mb(pid: int | None = None) -> float:
    if pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def upload(data_dir: Path, batch_articles: int = 1000) -> dict[str, Any]:
    """Copy the local manifest into the server store of a `chroma run` on the same folder."""
    from rag.manifest import Manifest

    local = settings_for(data_dir)
    proc, url = start_server(data_dir)
    try:
        server = settings_for(data_dir / "uploader", url)
        started = time.perf_counter()
        with Manifest(local.manifest_path) as source, open_manifest(server) as target:
            entries = source.entries()
            chunks: dict[str, list[Chunk]] = {}
            for chunk in source.all_chunks():
                chunks.setdefault(chunk.article_id, []).append(chunk)
            ids = sorted(entries)
            for lo in range(0, len(ids), batch_articles):
                with target.batch() as writes:
                    for aid in ids[lo : lo + batch_articles]:
                        e = entries[aid]
                        writes.put(article=e.article, content_hash=e.content_hash,
                                   chunks=chunks.get(aid, []), bands=[],
                                   duplicate_of=e.duplicate_of)
                print(f"  {min(lo + batch_articles, len(ids)):,} articles", file=sys.stderr,
                      flush=True)
            n = target.count()
        return {"articles": n[0], "chunks": n[1],
                "upload_s": round(time.perf_counter() - started, 1)}
    finally:
        stop_server(proc)


def latency_child(data_dir: Path, chroma_url: str | None, n: int,
                  ef_search: int | None = None) -> dict[str, Any]:
    from rag.lexical import load_fresh
    from rag.retrieve import Retriever

    settings = settings_for(data_dir, chroma_url, ef_search)
    out: dict[str, Any] = {"queries": n, "ef_search": settings.hnsw_ef_search}
    if chroma_url:  # a replica: its caches in a folder of its own
        settings = settings.with_(data_dir=data_dir / "replica")
        started = time.perf_counter()
        with open_manifest(settings) as manifest:
            mirrored = time.perf_counter()
            load_fresh(settings.lexical_dir, manifest, settings.lexical_tokenizer)
        out["replica_mirror_s"] = round(mirrored - started, 1)
        out["replica_lexical_s"] = round(time.perf_counter() - mirrored, 1)
    queries = make_queries(settings, n)
    embedder = Lookup({q: v for q, _, v in queries})
    for mode in ("hybrid", "dense", "lexical"):
        retriever = Retriever(settings, embedder=embedder, mode=mode)
        t0 = time.perf_counter()
        retriever.retrieve(queries[0][0], k=10)  # opens Chroma, loads the lexical index
        out[f"{mode}_first_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        for q, _, _ in queries[:5]:
            retriever.retrieve(q, k=10)
        ms, hits = [], 0
        for q, cid, _ in queries:
            t0 = time.perf_counter()
            passages = retriever.retrieve(q, k=10)
            ms.append((time.perf_counter() - t0) * 1000)
            hits += any(p.chunk_id == cid for p in passages)
        out[f"{mode}_p50_ms"] = round(float(np.percentile(ms, 50)), 2)
        out[f"{mode}_p95_ms"] = round(float(np.percentile(ms, 95)), 2)
        out[f"{mode}_recall@10"] = round(hits / n, 3)
    out["chunks"] = store.read_collection(settings).count()
    out["client_peak_rss_mb"] = round(peak_rss_mb(), 0)
    return out


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (data_dir / "chroma-server.log").open("wb")
    proc = subprocess.Popen([str(CHROMA), "run", "--host", "127.0.0.1", "--port", str(port),
                             "--path", str(data_dir / "chroma")], stdout=log,
                            stderr=subprocess.STDOUT, env={**os.environ,
                                                           "ANONYMIZED_TELEMETRY": "False"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"chroma run did not start (see {data_dir / 'chroma-server.log'})")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def latency(data_dir: Path, server: bool, n: int, ef_search: int | None = None
            ) -> dict[str, Any]:
    proc, url = start_server(data_dir) if server else (None, None)
    try:
        child = subprocess.run(
            [sys.executable, __file__, "latency-child", "--data-dir", str(data_dir),
             "--queries", str(n)] + (["--chroma-url", url] if url else [])
            + (["--ef-search", str(ef_search)] if ef_search is not None else []),
            capture_output=True, text=True, check=False)
        if child.returncode != 0:
            raise SystemExit(f"latency run failed:\n{child.stderr[-3000:]}")
        out: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
        if proc is not None:
            out["server_peak_rss_mb"] = round(peak_rss_mb(proc.pid), 0)
    finally:
        if proc is not None:
            stop_server(proc)
    return {"mode": "server" if server else "embedded", **out,
            "loadavg_1m": os.getloadavg()[0]}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("command", choices=["build", "upload", "latency", "latency-child"])
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--chunks", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=300)
    p.add_argument("--server", action="store_true", help="query through `chroma run`")
    p.add_argument("--no-documents", action="store_true",
                   help="build: chunk texts in the manifest only, not also in Chroma (retrieval "
                   "never reads them there; Chroma's full-text index of them took ~40%% of its "
                   "add time at 10k chunks)")
    p.add_argument("--resume", action="store_true",
                   help="build: go on from where a killed build of the same folder stopped")
    p.add_argument("--ef-search", type=int,
                   help="latency: HNSW search breadth to query with (default: the product's, "
                   "RAG_HNSW_EF_SEARCH's default); set on the collection, as the product does")
    p.add_argument("--chroma-url", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.ef_search is not None and args.ef_search < 1:
        p.error("--ef-search 至少是 1 (must be at least 1; the product's default is 400)")
    if args.command == "build":
        args.data_dir.mkdir(parents=True, exist_ok=True)
        print(json.dumps({"build": str(args.data_dir), "documents": not args.no_documents,
                          **build(args.data_dir, args.chunks, not args.no_documents,
                                  args.resume)}))
    elif args.command == "upload":
        print(json.dumps({"upload": str(args.data_dir), **upload(args.data_dir)}))
    elif args.command == "latency":
        print(json.dumps(latency(args.data_dir, args.server, args.queries, args.ef_search)))
    else:
        print(json.dumps(latency_child(args.data_dir, args.chroma_url, args.queries,
                                       args.ef_search)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
