"""The ingest run: files -> articles -> chunks -> vectors in Chroma + manifest + lexical index."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.chunk import chunk_article
from ingest.clean import to_article
from ingest.dedup import band_keys, jaccard, shingles
from ingest.load import Problem, RawDoc, iter_files, load_file
from rag import store
from rag.config import Settings
from rag.dates import date_int
from rag.embed import Embedder, get_embedder
from rag.lexical import load_fresh
from rag.manifest import Entry, ManifestStore, open_manifest
from rag.schema import Article, Chunk
from rag.text import content_hash, count_tokens

log = logging.getLogger(__name__)
FLUSH_CHUNKS = 256  # embed across articles for throughput; commit per batch
CHROMA_BATCH = 1000


@dataclass
class Summary:
    """What an ingest run did; `failed` lists every skipped input with file and line."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (article, duplicate of)
    pruned: list[str] = field(default_factory=list)
    failed: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    chunks_written: int = 0
    total_articles: int = 0
    total_chunks: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass
class _Pending:
    article: Article
    content_hash: str
    chunks: list[Chunk]
    bands: list[str]
    is_update: bool


class Ingestor:
    """One run over one collection; `run()` is the whole job."""

    manifest: ManifestStore  # open for the duration of run()

    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 progress: bool = True) -> None:
        self.settings = settings
        self.embedder = embedder or get_embedder(settings)
        self.progress = progress
        self.summary = Summary()
        self.pending: list[_Pending] = []
        self.fmt: str | None = None  # the reader run() was told to use; None: detected per file
        self._shingles: dict[str, set[int]] = {}

    def run(self, paths: Iterable[str | Path], rebuild: bool = False,
            prune: bool = False, fmt: str | None = None) -> Summary:
        """`fmt` names the reader for every file (`rag ingest --format`); None detects it."""
        started = time.perf_counter()
        self.fmt = fmt
        if rebuild:
            store.drop_collection(self.settings)
            shutil.rmtree(self.settings.collection_dir, ignore_errors=True)
        self.collection = store.open_collection(self.settings, self.embedder.name,
                                                lambda: self.embedder.dim)
        with open_manifest(self.settings) as self.manifest:
            self.entries = self.manifest.entries()
            self._reconcile()
            seen = self._ingest_files(list(paths))
            self._flush()
            if prune:
                self._prune(seen)
            load_fresh(self.settings.lexical_dir, self.manifest, self.settings.lexical_tokenizer)
            self.summary.total_articles, self.summary.total_chunks = self.manifest.count()
        self.summary.seconds = time.perf_counter() - started
        return self.summary

    # ---------------------------------------------------------------- reading
    def _ingest_files(self, paths: list[str | Path]) -> dict[str, set[str]]:
        """Returns source file -> article ids it produced (for pruning)."""
        seen: dict[str, set[str]] = {}
        ids: dict[str, str] = {}
        files = list(iter_files(paths, fmt=self.fmt))
        bar = _bar(files, self.progress)
        for item in bar:
            if isinstance(item, Problem):
                self.summary.failed.append(item)
                continue
            produced = seen.setdefault(str(item), set())
            for doc in self._load(item):
                if isinstance(doc, Problem):
                    self.summary.failed.append(doc)
                elif doc.doc_id in ids:
                    self.summary.failed.append(Problem(doc.source, (
                        f"文章代號 {doc.doc_id} 已用於 {ids[doc.doc_id]}；請改檔名或 id "
                        f"(article id {doc.doc_id} already used by {ids[doc.doc_id]})")))
                else:
                    ids[doc.doc_id] = doc.source
                    produced.add(doc.doc_id)
                    self._ingest_doc(doc)
        return seen

    def _load(self, path: Path) -> list[RawDoc | Problem]:
        return load_file(path, fmt=self.fmt, max_bytes=self.settings.max_article_bytes)

    def _ingest_doc(self, doc: RawDoc) -> None:
        article, warnings = to_article(doc)
        self.summary.warnings.extend(warnings)
        if not article.body.strip():
            self.summary.failed.append(Problem(doc.source, "清理後沒有內文 (no body text left)"))
            return
        digest = self._hash(article)
        old = self.entries.get(article.article_id)
        if old is not None and old.content_hash == digest:
            self.summary.unchanged.append(article.article_id)
            return
        sh = shingles(article.body)
        self._shingles[article.article_id] = sh
        bands = band_keys(sh)
        original = self._near_duplicate(article.article_id, sh, bands)
        if original is not None:
            self._record_duplicate(article, digest, bands, original, old is not None)
            return
        chunks = chunk_article(
            article, self.settings.chunk_tokens,
            lambda t: count_tokens(t, self.settings.tokenizer),
            self.settings.chunk_overlap_sentences,
            fits=lambda t: self.embedder.fits(passage_text(article.title, t)))
        self.pending.append(_Pending(article, digest, chunks, bands, old is not None))
        if sum(len(p.chunks) for p in self.pending) >= FLUSH_CHUNKS:
            self._flush()

    def _hash(self, article: Article) -> str:
        s = self.settings
        return content_hash(json.dumps([
            article.title, article.date, article.reporter, article.outlet, article.url,
            article.body, s.chunk_tokens, s.chunk_overlap_sentences, s.tokenizer],
            ensure_ascii=False))

    # ---------------------------------------------------------------- near-duplicates
    def _near_duplicate(self, article_id: str, sh: set[int], bands: list[str]) -> str | None:
        candidates = self.manifest.candidates(bands) | {
            p.article.article_id for p in self.pending if set(p.bands) & set(bands)}
        best, best_score = None, 0.0
        for cand in sorted(candidates - {article_id}):
            entry = self.entries.get(cand)
            if entry is not None and entry.duplicate_of:
                continue
            other = self._shingles.get(cand)
            if other is None and entry is not None:
                other = self._shingles[cand] = shingles(entry.article.body)
            score = jaccard(sh, other or set())
            if score >= self.settings.near_dup_threshold and score > best_score:
                best, best_score = cand, score
        return best

    def _record_duplicate(self, article: Article, digest: str, bands: list[str],
                          original: str, existed: bool) -> None:
        self.summary.duplicates.append((article.article_id, original))
        self._flush()  # keep manifest writes in input order
        if existed:
            self.collection.delete(where={"article_id": article.article_id})
        with self.manifest.batch() as batch:
            batch.put(article=article, content_hash=digest, chunks=[], bands=bands,
                      duplicate_of=original)

    # ---------------------------------------------------------------- writing
    def _flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        chunks = [(p.article, c) for p in batch for c in p.chunks]
        vectors = self.embedder.embed([passage_text(a.title, c.text) for a, c in chunks])
        ids = [p.article.article_id for p in batch]
        self.manifest.mark_pending(ids)  # cleared by the commit below; a crash leaves it set
        self.collection.delete(where={"article_id": {"$in": ids}})
        for i in range(0, len(chunks), CHROMA_BATCH):
            part = chunks[i : i + CHROMA_BATCH]
            self.collection.upsert(
                ids=[c.chunk_id for _, c in part],
                embeddings=vectors[i : i + CHROMA_BATCH].tolist(),
                documents=[c.text for _, c in part],
                metadatas=[chunk_metadata(a, c) for a, c in part])
        # Only now, with every chunk stored, does the manifest learn of these articles.
        with self.manifest.batch() as writes:
            for p in batch:
                writes.put(article=p.article, content_hash=p.content_hash, chunks=p.chunks,
                           bands=p.bands)
                self.entries[p.article.article_id] = Entry(p.article, p.content_hash, None)
                (self.summary.updated if p.is_update else self.summary.added).append(
                    p.article.article_id)
        self.summary.chunks_written += len(chunks)

    def _prune(self, seen: dict[str, set[str]]) -> None:
        gone = []
        for article_id, entry in self.manifest.entries().items():
            path = source_file(entry.article.source)
            if (path in seen and article_id not in seen[path]) or (
                    path not in seen and not Path(path).exists()):
                gone.append(article_id)
        if not gone:
            return
        self.collection.delete(where={"article_id": {"$in": gone}})
        orphans = [(e.article.article_id, e.article.source)
                   for e in self.manifest.duplicates_of(gone)]
        self._forget(gone + [a for a, _ in orphans])
        self.summary.pruned.extend(gone)
        self._reingest_orphans(orphans, seen)

    def _reingest_orphans(self, orphans: list[tuple[str, str]],
                          seen: dict[str, set[str]]) -> None:
        """Near-duplicates of a pruned article now stand on their own: index them again."""
        wanted = {a for a, src in orphans if source_file(src) in seen}
        for path in sorted({source_file(src) for a, src in orphans if a in wanted}):
            for doc in self._load(Path(path)):
                if isinstance(doc, RawDoc) and doc.doc_id in wanted:
                    if doc.doc_id in self.summary.unchanged:
                        self.summary.unchanged.remove(doc.doc_id)
                    self.summary.duplicates = [d for d in self.summary.duplicates
                                               if d[0] != doc.doc_id]
                    self._ingest_doc(doc)
        self._flush()

    def _reconcile(self) -> None:
        """After a crash or a lost Chroma folder: drop orphan chunks, redo missing articles."""
        interrupted = self.manifest.pending()
        if interrupted:  # their Chroma chunks may be new while the manifest still holds old ones
            log.warning("redoing %d articles of an interrupted batch", len(interrupted))
            self.collection.delete(where={"article_id": {"$in": interrupted}})
            self._forget(interrupted)
        _, n_chunks = self.manifest.count()
        if self.collection.count() == n_chunks:
            return
        in_chroma = set(self.collection.get(include=[])["ids"])
        expected = {row.chunk_id: row.article_id for row in self.manifest.chunk_rows()}
        orphans = sorted(in_chroma - expected.keys())
        for i in range(0, len(orphans), CHROMA_BATCH):
            self.collection.delete(ids=orphans[i : i + CHROMA_BATCH])
        missing = {expected[c] for c in expected.keys() - in_chroma}
        if missing:
            log.warning("redoing %d articles whose chunks are missing from Chroma", len(missing))
            self._forget(sorted(missing))

    def _forget(self, article_ids: list[str]) -> None:
        """Delete articles from the manifest in one batch (their chunks are gone from Chroma)."""
        with self.manifest.batch() as batch:
            for article_id in article_ids:
                batch.delete(article_id)
                self.entries.pop(article_id, None)


def passage_text(title: str, text: str) -> str:
    """What the embedder reads for a chunk: the title gives the chunk its context."""
    return f"{title}\n{text}" if title else text


def chunk_metadata(article: Article, chunk: Chunk) -> dict[str, Any]:
    return {"article_id": article.article_id, "title": article.title, "date": article.date,
            "date_int": date_int(article.date), "index": chunk.index, "start": chunk.start,
            "end": chunk.end, "n_tokens": chunk.n_tokens, "reporter": article.reporter}


def source_file(source: str) -> str:
    """'data/x.jsonl:12' -> 'data/x.jsonl' (records carry their line or index)."""
    for sep in (":", "#"):
        head, _, tail = source.rpartition(sep)
        if head and tail.isdigit():
            return head
    return source


def _bar(items: list[Any], enabled: bool) -> Any:
    if not enabled or len(items) < 2:
        return items
    from tqdm import tqdm

    return tqdm(items, desc="ingest", unit="file", leave=False, disable=None)


def ingest(paths: Iterable[str | Path], settings: Settings, rebuild: bool = False,
           prune: bool = False, progress: bool = True, fmt: str | None = None) -> Summary:
    """Ingest files and folders into the configured collection; see `Ingestor`."""
    return Ingestor(settings, progress=progress).run(paths, rebuild=rebuild, prune=prune,
                                                     fmt=fmt)
