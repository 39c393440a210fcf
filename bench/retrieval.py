"""DRCD open-domain retrieval (lexical, dense, fused) and retrieve() latency up to 100k chunks.

    python bench/retrieval.py [--drcd PATH] [--data-dir DIR] [--limit-questions N] [--scale 100000]

The first run ingests the 1,000 DRCD paragraphs (minutes: every chunk is embedded); later runs reuse
the collection. The scaled collection copies the stored DRCD vectors under new ids, so it is built
without the embedder, once, and reused while its size matches --scale.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

# bench/ holds scripts named like project packages (bench/ingest.py): search it last, not first
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH] + [str(_BENCH)]

from drcd import (  # noqa: E402
    DEFAULT_DATA_DIR,
    DEFAULT_DRCD,
    Question,
    drcd_settings,
    ingest_drcd,
    is_ingested,
    load_drcd,
)

from rag import store  # noqa: E402
from rag.config import Settings, shipped_corpus_dir  # noqa: E402
from rag.embed import Embedder, Wrapper, get_embedder  # noqa: E402
from rag.manifest import ManifestStore, open_manifest  # noqa: E402
from rag.retrieve import Retriever  # noqa: E402
from rag.schema import Article, Chunk  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEED_COLLECTION = "bench-seed"
GOLD = ROOT / "eval" / "data" / "gold.jsonl"
PASSAGES_FOR_QUALITY = 30  # enough chunks to fill 10 distinct articles
LATENCY_QUERIES = 300
# name -> (mode, settings changes). Other tokenizers first: switching rebuilds the collection's
# lexical index, and the last rows leave the default (bigram) one in place for the latency runs.
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "lexical, jieba words": ("lexical", {"lexical_tokenizer": "jieba"}),
    "fused default, jieba words": ("hybrid", {"lexical_tokenizer": "jieba"}),
    "lexical, bigrams + jieba words": ("lexical", {"lexical_tokenizer": "both"}),
    "fused default, bigrams + jieba": ("hybrid", {"lexical_tokenizer": "both"}),
    "lexical (bigram BM25)": ("lexical", {"lexical_tokenizer": "bigram"}),
    "dense (e5-small-q4)": ("dense", {}),
    "fused default": ("hybrid", {}),
    "rrf equal weights, k=60": ("hybrid", {"fusion": "rrf", "signals": "dense=1.0,lexical=1.0",
                                           "rrf_k": 60}),
    "rrf lexical x2, k=10": ("hybrid", {"fusion": "rrf", "signals": "dense=1.0,lexical=2.0",
                                        "rrf_k": 10}),
    "score, dense 0.85": ("hybrid", {"fusion": "score", "signals": "dense=0.85,lexical=1.0"}),
    "score, dense 0.5": ("hybrid", {"fusion": "score", "signals": "dense=0.5,lexical=1.0"}),
}


# ---------------------------------------------------------------- embedders


class CachedEmbedder(Wrapper):
    """Our embedder with remembered query vectors: variants reuse them, timings exclude them."""

    def __init__(self, inner: Embedder) -> None:
        super().__init__(inner)
        self.cache: dict[str, np.ndarray] = {}
        self.seconds: list[float] = []  # one per embedded (not cached) query

    def embed_query(self, text: str) -> np.ndarray:
        if text not in self.cache:
            started = time.perf_counter()
            self.cache[text] = self.inner.embed_query(text)
            self.seconds.append(time.perf_counter() - started)
        return self.cache[text]


def llama_retriever(collection: Any, embedder: Embedder, top_k: int = 10) -> Any:
    """Plain llama-index dense retrieval over the same Chroma collection, with our embedder."""
    from llama_index.core import VectorStoreIndex
    from llama_index.core.embeddings import BaseEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore
    from pydantic import PrivateAttr

    class OurEmbedding(BaseEmbedding):
        """llama-index face of a rag Embedder (passed explicitly: never the OpenAI default)."""

        _embedder: Embedder = PrivateAttr()

        def __init__(self, inner: Embedder) -> None:
            super().__init__(model_name=inner.name, embed_batch_size=inner.batch_size)
            self._embedder = inner

        def _get_query_embedding(self, query: str) -> list[float]:
            return [float(x) for x in self._embedder.embed_query(query)]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return [float(x) for x in self._embedder.embed([text])[0]]

    index = VectorStoreIndex.from_vector_store(
        ChromaVectorStore(chroma_collection=collection), embed_model=OurEmbedding(embedder))
    return index.as_retriever(similarity_top_k=top_k)


# ---------------------------------------------------------------- quality


def article_ranking(article_ids: Iterable[str], n: int = 10) -> list[str]:
    """Passages' articles in rank order, each once (a paragraph may span several chunks)."""
    seen: dict[str, None] = {}
    for article_id in article_ids:
        seen.setdefault(article_id)
        if len(seen) == n:
            break
    return list(seen)


def metrics(rankings: Sequence[list[str]], gold: Sequence[str]) -> dict[str, float]:
    """R@1/5/10 and MRR@10 over article rankings."""
    ranks = [r.index(g) + 1 if g in r else math.inf for r, g in zip(rankings, gold, strict=True)]
    n = max(1, len(ranks))
    out = {f"R@{k}": sum(rank <= k for rank in ranks) / n for k in (1, 5, 10)}
    out["MRR@10"] = sum(1 / rank for rank in ranks if rank <= 10) / n
    return out


def evaluate(settings: Settings, embedder: Embedder, questions: list[Question],
             mode: str, changes: dict[str, Any]) -> dict[str, float]:
    retriever = Retriever(settings.with_(**changes), embedder=embedder, mode=mode)
    rankings = [article_ranking(p.article_id for p in retriever.retrieve(
        q.text, k=PASSAGES_FOR_QUALITY)) for q in questions]
    return metrics(rankings, [q.article_id for q in questions])


def evaluate_llama(settings: Settings, embedder: Embedder,
                   questions: list[Question]) -> dict[str, float]:
    retriever = llama_retriever(store.read_collection(settings), embedder)
    rankings = [article_ranking(n.node.metadata["article_id"] for n in retriever.retrieve(q.text))
                for q in questions]
    return metrics(rankings, [q.article_id for q in questions])


def quality_table(settings: Settings, questions: list[Question]) -> None:
    embedder = CachedEmbedder(get_embedder(settings))
    print(f"\n## DRCD dev open-domain retrieval: {len(questions)} questions, article level "
          f"(top {PASSAGES_FOR_QUALITY} passages deduped to articles)\n")
    print(f"| {'retriever':<34} | R@1   | R@5   | R@10  | MRR@10 |")
    print(f"|{'-' * 36}|-------|-------|-------|--------|")
    rows: list[tuple[str, Callable[[], dict[str, float]]]] = [
        (name, functools.partial(evaluate, settings, embedder, questions, mode, changes))
        for name, (mode, changes) in VARIANTS.items()]
    rows.append(("llama-index dense (top 10 chunks)",
                 functools.partial(evaluate_llama, settings, embedder, questions)))
    for name, run in rows:
        started = time.perf_counter()
        m = run()
        print(f"| {name:<34} | {m['R@1']:.3f} | {m['R@5']:.3f} | {m['R@10']:.3f} | "
              f"{m['MRR@10']:.3f}  |  ({time.perf_counter() - started:.0f} s)", flush=True)
    s = settings
    print(f"\nfused default = fusion={s.fusion} dense_weight={s.dense_weight} "
          f"lexical_weight={s.lexical_weight} rrf_k={s.rrf_k} "
          f"lexical_tokenizer={s.lexical_tokenizer}")


# ---------------------------------------------------------------- the scaled collection


def _source_articles(manifest: ManifestStore) -> list[tuple[Article, list[Chunk]]]:
    articles: dict[str, tuple[Article, list[Chunk]]] = {
        e.article.article_id: (e.article, []) for e in manifest.entries().values()}
    for chunk in manifest.all_chunks():
        articles[chunk.article_id][1].append(chunk)
    return [(a, chunks) for a, chunks in articles.values() if chunks]


def _replicas(articles: list[tuple[Article, list[Chunk]]],
              scale: int) -> Iterable[tuple[Article, list[Chunk], str]]:
    """(copy, its chunks, source article id) until `scale` chunks; copy r of X is X~r."""
    total, r = 0, 0
    while True:
        for article, chunks in articles:
            aid = f"{article.article_id}~{r}"
            copy = replace(article, article_id=aid, source=aid, reporter="", outlet="", url="")
            yield copy, [replace(c, article_id=aid) for c in chunks], article.article_id
            total += len(chunks)
            if total >= scale:
                return
        r += 1


def build_scaled(source: Settings, target: Settings, scale: int, batch: int = 4000) -> int:
    """Copy the source's stored vectors under new ids into `target` (no re-embedding)."""
    import shutil

    from ingest.index import chunk_metadata

    src = store.read_collection(source)
    got = src.get(include=["embeddings"])
    vectors = dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32), strict=True))
    with open_manifest(source) as src_manifest:
        articles = _source_articles(src_manifest)
    store.drop_collection(target)
    shutil.rmtree(target.collection_dir, ignore_errors=True)
    collection = store.open_collection(target, src.metadata["embed_model"],
                                       lambda: int(src.metadata["embed_dim"]))
    with open_manifest(target) as manifest:
        pending: list[tuple[Article, list[Chunk], str]] = []
        n_pending = 0
        for item in _replicas(articles, scale):
            pending.append(item)
            n_pending += len(item[1])
            if n_pending >= batch:
                _write_copies(collection, manifest, pending, vectors, chunk_metadata)
                pending, n_pending = [], 0
        _write_copies(collection, manifest, pending, vectors, chunk_metadata)
        return manifest.count()[1]


def _write_copies(collection: Any, manifest: ManifestStore,
                  items: list[tuple[Article, list[Chunk], str]],
                  vectors: dict[str, np.ndarray], metadata: Callable[..., dict[str, Any]]) -> None:
    """Chroma first, then the manifest (the ingest's order: no half-indexed article)."""
    if not items:
        return
    pairs = [(a, c, f"{src}#{c.index}") for a, chunks, src in items for c in chunks]
    collection.add(ids=[c.chunk_id for _, c, _ in pairs],
                   embeddings=np.stack([vectors[s] for _, _, s in pairs]),
                   documents=[c.text for _, c, _ in pairs],
                   metadatas=[metadata(a, c) for a, c, _ in pairs])
    with manifest.batch() as writes:
        for article, chunks, src in items:
            writes.put(article=article, content_hash=f"copy-of-{src}", chunks=chunks, bands=[])


def ensure_scaled(source: Settings, scale: int) -> tuple[Settings, str]:
    """The scaled collection (reused when its size matches) with its lexical index built."""
    from rag.lexical import load_fresh

    target = source.with_(collection=f"drcd-x{scale}")
    notes = []
    if not _has_chunks(target, scale):
        started = time.perf_counter()
        n = build_scaled(source, target, scale)
        notes.append(f"copied to {n} chunks in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    with open_manifest(target) as manifest:
        load_fresh(target.lexical_dir, manifest, target.lexical_tokenizer)
    notes.append(f"lexical index ready in {time.perf_counter() - started:.1f} s")
    return target, "; ".join(notes)


def _has_chunks(settings: Settings, scale: int) -> bool:
    if not settings.manifest_path.exists():
        return False
    with open_manifest(settings) as manifest:
        n_chunks = manifest.count()[1]
    try:
        return n_chunks >= scale and store.read_collection(settings).count() == n_chunks
    except Exception:  # missing collection: rebuild
        return False


def ensure_seed(data_dir: Path) -> Settings:
    """The shipped corpus in its own collection beside the DRCD ones."""
    from ingest.index import ingest

    settings = drcd_settings(data_dir).with_(collection=SEED_COLLECTION)
    ingest([shipped_corpus_dir()], settings, progress=False)
    return settings


# ---------------------------------------------------------------- latency


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else math.nan


def _timed(call: Callable[[str], Any], queries: list[str]) -> list[float]:
    for q in queries[:5]:  # warm: open the collection, load the lexical index
        call(q)
    out = []
    for q in queries:
        started = time.perf_counter()
        call(q)
        out.append((time.perf_counter() - started) * 1000)
    return out


def latency_child(settings: Settings, queries: list[str]) -> dict[str, Any]:
    """Runs in its own process so that ru_maxrss is this collection's footprint alone."""
    inner = get_embedder(settings)
    inner.embed_query("暖機 warm-up")
    embedder = CachedEmbedder(inner)
    for q in queries:
        embedder.embed_query(q)
    embed_ms = [s * 1000 for s in embedder.seconds]
    out: dict[str, Any] = {"queries": len(queries), "embed_p50": percentile(embed_ms, 50),
                           "embed_p95": percentile(embed_ms, 95)}
    for mode in ("hybrid", "dense", "lexical"):
        r = Retriever(settings, embedder=embedder, mode=mode)
        started = time.perf_counter()
        r.retrieve(queries[0], k=10)
        out[f"{mode}_first_ms"] = (time.perf_counter() - started) * 1000
        ms = _timed(functools.partial(r.retrieve, k=10), queries)
        out[f"{mode}_p50"], out[f"{mode}_p95"] = percentile(ms, 50), percentile(ms, 95)
    llama = llama_retriever(store.read_collection(settings), embedder)
    ms = _timed(llama.retrieve, queries)
    out["llama_p50"], out["llama_p95"] = percentile(ms, 50), percentile(ms, 95)
    out["chunks"] = store.read_collection(settings).count()
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def run_child(settings: Settings, queries: list[str]) -> dict[str, Any]:
    query_file = settings.data_dir / f"latency-queries-{settings.collection}.json"
    query_file.write_text(json.dumps(queries, ensure_ascii=False), "utf-8")
    out = subprocess.run(
        [sys.executable, __file__, "--latency-child", settings.collection, "--data-dir",
         str(settings.data_dir), "--queries", str(query_file)],
        capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"latency run failed for {settings.collection}:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def latency_table(drcd: Settings, questions: list[Question], scale: int) -> None:
    seed = ensure_seed(drcd.data_dir)
    gold = [json.loads(line)["question"] for line in GOLD.read_text("utf-8").splitlines()
            if line.strip()]
    drcd_queries = [q.text for q in questions[:LATENCY_QUERIES]]
    targets: list[tuple[str, Settings, list[str], str]] = [
        ("seed corpus", seed, gold, ""), ("DRCD 1,000 paragraphs", drcd, drcd_queries, "")]
    if scale:
        scaled, note = ensure_scaled(drcd, scale)
        targets.append((f"DRCD x{scale:,} chunks", scaled, drcd_queries, note))
    print("\n## retrieve(k=10) latency, warm, query embedding excluded (ms)\n")
    print("| collection | chunks | hybrid p50 / p95 | dense p50 / p95 | lexical p50 / p95 | "
          "llama-index p50 / p95 | embed p50 / p95 | max RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for name, settings, queries, note in targets:
        r = run_child(settings, queries)
        cells = [f"{r[f'{m}_p50']:.1f} / {r[f'{m}_p95']:.1f}"
                 for m in ("hybrid", "dense", "lexical", "llama", "embed")]
        print(f"| {name} | {r['chunks']:,} | " + " | ".join(cells) + f" | {r['maxrss_mb']:.0f} |"
              + (f"  ({note})" if note else ""), flush=True)


# ---------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--drcd", default=str(DEFAULT_DRCD))
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    p.add_argument("--limit-questions", type=int, default=None)
    p.add_argument("--scale", type=int, default=100_000, help="0 skips the scaled collection")
    p.add_argument("--skip-quality", action="store_true")
    p.add_argument("--skip-latency", action="store_true")
    p.add_argument("--latency-child", help=argparse.SUPPRESS)
    p.add_argument("--queries", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    settings = drcd_settings(args.data_dir)
    if args.latency_child:
        queries = json.loads(Path(args.queries).read_text("utf-8"))
        child = settings.with_(collection=args.latency_child)
        print(json.dumps(latency_child(child, queries)))
        return 0
    records, questions = load_drcd(args.drcd)
    if not is_ingested(settings, len(records)):
        print(f"ingesting {len(records)} DRCD paragraphs into {settings.data_dir} "
              "(embeds every chunk: minutes) ...", flush=True)
        ingest_drcd(settings, drcd=args.drcd, progress=True)
    questions = questions[: args.limit_questions]
    if not args.skip_quality:
        quality_table(settings, questions)
    if not args.skip_latency:
        latency_table(settings, questions, args.scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())
