"""The ingest run: files -> articles -> chunks -> vectors in Chroma + manifest + lexical index,
under the collection's writer lease."""

from __future__ import annotations

import json
import logging
import os
import shlex
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ingest import rebuild as rebuilding
from ingest.chunk import chunk_article
from ingest.clean import to_article
from ingest.dedup import band_keys, jaccard, shingles
from ingest.load import Problem, RawDoc, iter_files, load_file
from rag import store
from rag.config import Settings
from rag.dates import date_int
from rag.embed import Embedder, get_embedder
from rag.errors import ModelError, RagError
from rag.lease import WAIT_SECONDS, WriterLease
from rag.lexical import load_fresh
from rag.manifest import Entry, Manifest, ManifestStore, open_manifest
from rag.schema import Article, Chunk
from rag.text import content_hash, count_tokens

log = logging.getLogger(__name__)
FLUSH_CHUNKS = 256  # embed across articles for throughput; commit per batch
CHROMA_BATCH = 1000
Claim = Literal["ok", "defer", "conflict"]


@dataclass
class Summary:
    """What an ingest run did; `failed` lists every skipped input with file and line."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (article, duplicate of)
    pruned: list[str] = field(default_factory=list)
    relocated: list[str] = field(default_factory=list)  # same content, source path updated
    failed: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    kept_old: bool = False  # a rebuild that failed and was not swapped in
    chunks_written: int = 0
    total_articles: int = 0
    total_chunks: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.kept_old


@dataclass
class _Pending:
    article: Article
    content_hash: str
    chunks: list[Chunk]
    bands: list[str]
    is_update: bool


@dataclass
class _InFlight:
    """A batch whose vectors a remote embedder is computing while the next one is read."""

    batch: list[_Pending]
    chunks: list[tuple[Article, Chunk]]
    vectors: Future[np.ndarray]


class Ingestor:
    """One run over one collection; `run()` is the whole job."""

    manifest: ManifestStore  # open for the duration of run()
    collection: Any

    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 progress: bool = True, notify: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or get_embedder(settings)
        self.progress = progress
        self.notify = notify or log.warning  # what the user should see now (waiting, pruning)
        self.summary = Summary()
        self.pending: list[_Pending] = []
        self.fmt: str | None = None  # the reader run() was told to use; None: detected per file
        self.replace = False  # an id already ingested from another, still present file
        self.lease: WriterLease | None = None
        self._shingles: dict[str, set[int]] = {}
        self._hashes: dict[str, str] = {}  # content hash met in this run -> its source
        self._produced: dict[str, str] = {}  # article id -> source that gave it in this run
        self._run_files: set[str] = set()  # resolved files of this run
        self._relocations: list[tuple[str, str]] = []
        self._in_flight: _InFlight | None = None
        self._embedding: ThreadPoolExecutor | None = None  # remote embedders only

    def run(self, paths: Iterable[str | Path], rebuild: bool = False, prune: bool = False,
            fmt: str | None = None, replace: bool = False,
            wait: float = WAIT_SECONDS) -> Summary:
        """`fmt` names the reader for every file (`rag ingest --format`); None detects it.
        `replace` lets an id already ingested from another file take this file's content.
        `wait` is how long to wait for a running ingest before IngestRunning."""
        started = time.perf_counter()
        self.fmt, self.replace = fmt, replace
        paths = list(paths)
        if not rebuild:  # refused before the model loads: the collection says which it needs
            existing = store.get(self.settings, self.settings.collection)
            if existing is not None:
                store.check_model(existing, self.embedder.name, self.settings.collection,
                                  self.rebuild_command(paths))
        probe(self.embedder)  # a wrong or missing model fails here, before anything is touched
        with open_manifest(self.settings) as manifest, WriterLease(
                manifest, wait=wait, notify=self.notify) as lease:
            self.lease = lease
            self._adopt_local_manifest(manifest)
            rebuilding.finish_swap(self.settings, manifest, lease.check)
            if rebuild:
                self._rebuild(manifest, paths)
            else:
                self.write(manifest, paths, prune)
        self.summary.seconds = time.perf_counter() - started
        return self.summary

    def write(self, manifest: ManifestStore, paths: list[str | Path], prune: bool) -> None:
        """The job itself, on an open manifest, with the lease held."""
        self.manifest = manifest
        self.collection = store.open_collection(
            self.settings, self.embedder.name, lambda: self.embedder.dim,
            command=self.rebuild_command(paths))
        self.entries = manifest.entries()
        self._reconcile()
        seen = self._ingest_files(paths)
        self._flush()
        self._relocate()
        if prune:
            self._prune(seen)
        self.refresh_totals()

    def _adopt_local_manifest(self, manifest: ManifestStore) -> None:
        """A server collection ingested before the manifest moved to the server kept it in
        `manifest.sqlite` beside the client: upload it once (nothing is re-embedded), then
        set the file aside."""
        local = self.settings.manifest_path
        if not self.settings.chroma_url or not local.exists() or manifest.generation > 0:
            return
        with Manifest(local) as legacy:
            entries = legacy.entries()
            self._check()
            with manifest.batch() as batch:
                for article_id, entry in entries.items():
                    batch.put(article=entry.article, content_hash=entry.content_hash,
                              chunks=legacy.chunks_of(article_id),
                              bands=legacy.bands_of(article_id),
                              duplicate_of=entry.duplicate_of)
        local.rename(local.with_name(local.name + ".uploaded"))
        self.notify(f"已把本機清單的 {len(entries)} 篇文章上傳到 Chroma 伺服器。 Uploaded the "
                    f"local manifest ({len(entries)} articles) to the Chroma server.")

    def _rebuild(self, main: ManifestStore, paths: list[str | Path]) -> None:
        """Build `paths` into the staging collection with this embedder and lease, then swap
        it in; a failed build (an exception, or inputs that failed while the old index holds
        articles) leaves the old index exactly as it was. Nothing to prune in a fresh build."""
        staged = rebuilding.staging_settings(self.settings)
        rebuilding.discard(staged)  # the leftovers of an earlier failed rebuild
        inner = Ingestor(staged, embedder=self.embedder, progress=self.progress,
                         notify=self.notify)
        inner.fmt, inner.replace, inner.lease = self.fmt, self.replace, self.lease
        self.summary = inner.summary
        try:
            with open_manifest(staged) as staging:
                inner.write(staging, paths, prune=False)
                if not inner.summary.ok and main.count()[0] > 0:
                    self._keep_old(paths)
                    return
                rebuilding.swap_in(self.settings, main, staging, self._check)
        finally:
            if main.swap_journal() is None:
                rebuilding.discard(staged)
        self.manifest = main
        self.refresh_totals()

    def _keep_old(self, paths: list[str | Path]) -> None:
        failed, command = len(self.summary.failed), self.rebuild_command(paths)
        self.summary.kept_old = True
        self.summary.warnings.append(
            f"重建未替換：{failed} 個輸入失敗，舊索引保持不變；修正後再執行 `{command}`。 "
            f"The rebuild was not swapped in: {failed} inputs failed (listed above) and the "
            f"old index is kept as it was; fix them and run `{command}` again.")

    def refresh_totals(self) -> None:
        load_fresh(self.settings.lexical_dir, self.manifest, self.settings.lexical_tokenizer)
        self.summary.total_articles, self.summary.total_chunks = self.manifest.count()

    def rebuild_command(self, paths: list[str | Path]) -> str:
        """The exact command that rebuilds this collection from these inputs, safely."""
        words = ["rag", "--collection", self.settings.collection, "ingest", "--rebuild"]
        if self.fmt:
            words += ["--format", self.fmt]
        return shlex.join(words + [str(p) for p in paths])

    def _check(self) -> None:
        """Before every write: the lease must still be ours."""
        if self.lease is not None:
            self.lease.check()

    # ---------------------------------------------------------------- reading
    def _ingest_files(self, paths: list[str | Path]) -> dict[str, set[str]]:
        """Returns resolved source file -> article ids it produced (for pruning)."""
        seen: dict[str, set[str]] = {}
        files = [item if isinstance(item, Problem) else resolved(item)
                 for item in iter_files(paths, fmt=self.fmt)]
        self._run_files = {str(f) for f in files if isinstance(f, Path)}
        deferred: list[RawDoc] = []
        for item in _bar(files, self.progress):
            if isinstance(item, Problem):
                self.summary.failed.append(item)
                continue
            seen.setdefault(str(item), set())
            for doc in self._load(item):
                if isinstance(doc, Problem):
                    self.summary.failed.append(doc)
                elif not self._take(doc, seen, defer_ok=True):
                    deferred.append(doc)
        for doc in deferred:  # their id's earlier file was read later in this run
            self._take(doc, seen, defer_ok=False)
        return seen

    def _take(self, doc: RawDoc, seen: dict[str, set[str]], defer_ok: bool) -> bool:
        """Ingest one document unless its id is taken; False when it must wait for the file
        its id was ingested from (read later in this run) to say whether it still has it."""
        if doc.doc_id in self._produced:
            self.summary.failed.append(Problem(doc.source, (
                f"文章代號 {doc.doc_id} 已用於 {self._produced[doc.doc_id]}；請改檔名或 id "
                f"(article id {doc.doc_id} already used by {self._produced[doc.doc_id]})")))
            return True
        article, warnings = to_article(doc)
        if not article.body.strip():
            self.summary.warnings.extend(warnings)
            self.summary.failed.append(Problem(doc.source, "清理後沒有內文 (no body text left)"))
            return True
        digest = self._hash(article)
        old = self.entries.get(article.article_id)
        verdict = "ok" if old is None else self._claim(old, article, digest, defer_ok)
        if verdict == "defer":
            return False
        self.summary.warnings.extend(warnings)
        self._hashes.setdefault(digest, doc.source)
        if verdict == "conflict":
            assert old is not None
            self.summary.failed.append(Problem(doc.source, conflict_message(
                article.article_id, old.article.source, doc.source)))
            return True
        self._produced[doc.doc_id] = doc.source
        seen.setdefault(source_file(doc.source), set()).add(doc.doc_id)
        self._ingest_article(article, digest, old)
        return True

    def _claim(self, old: Entry, article: Article, digest: str, defer_ok: bool) -> Claim:
        """May `article` take the id `old` holds? Yes when it is the same file (however
        spelled), when the old file is gone (moved), when the content is the same, or with
        --replace; later when the old file is read further on in this run."""
        old_file, new_file = resolved(source_file(old.article.source)), source_file(article.source)
        if str(old_file) == new_file or not old_file.exists():
            return "ok"
        if old.content_hash == digest or self.replace:
            return "ok"
        if str(old_file) in self._run_files:
            return "defer" if defer_ok else "ok"  # read, and it no longer has this id
        return "conflict"

    def _load(self, path: Path) -> list[RawDoc | Problem]:
        return load_file(path, fmt=self.fmt, max_bytes=self.settings.max_article_bytes)

    def _ingest_article(self, article: Article, digest: str, old: Entry | None) -> None:
        if old is not None and old.content_hash == digest:
            self.summary.unchanged.append(article.article_id)
            if old.article.source != article.source and self._moved(old.article.source,
                                                                    article.source):
                self._relocations.append((article.article_id, article.source))
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
            self._flush(wait=False)

    def _moved(self, old_source: str, new_source: str) -> bool:
        """Same content under another source: adopt the new one when the old file is gone, is
        the same file spelled another way, or was read in this run without this article (a
        copy in a file this run did not read keeps the first source)."""
        old_file = str(resolved(source_file(old_source)))
        return (old_file == source_file(new_source) or old_file in self._run_files
                or not Path(old_file).exists())

    def _hash(self, article: Article) -> str:
        s = self.settings
        return content_hash(json.dumps([
            article.title, article.date, article.reporter, article.outlet, article.url,
            article.body, s.chunk_tokens, s.chunk_overlap_sentences, s.tokenizer],
            ensure_ascii=False))

    # ---------------------------------------------------------------- near-duplicates
    def _near_duplicate(self, article_id: str, sh: set[int], bands: list[str]) -> str | None:
        waiting = self.pending + (self._in_flight.batch if self._in_flight else [])
        candidates = self.manifest.candidates(bands) | {
            p.article.article_id for p in waiting if set(p.bands) & set(bands)}
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
        self._check()
        if existed:
            self.collection.delete(where={"article_id": article.article_id})
        with self.manifest.batch() as batch:
            batch.put(article=article, content_hash=digest, chunks=[], bands=bands,
                      duplicate_of=original)
        self.entries[article.article_id] = Entry(article, digest, original)

    # ---------------------------------------------------------------- writing
    def _flush(self, wait: bool = True) -> None:
        """Embed and write the pending batch, after the one in flight (writes keep input
        order). With a remote embedder (Ray) and wait=False the vectors are computed while
        this thread reads and chunks the next batch, instead of the driver idling; with N
        workers that lifts ingest from 1/(1/(N*w) + 1/d) to min(N*w, d) chunks/s (w per
        worker, d the driver alone: bench/ray_scale.py), e.g. +23% at 8 workers."""
        self._land()
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        chunks = [(p.article, c) for p in batch for c in p.chunks]
        texts = [passage_text(a.title, c.text) for a, c in chunks]
        if wait or not self.embedder.remote:
            self._write(batch, chunks, self.embedder.embed(texts))
            return
        if self._embedding is None:
            self._embedding = ThreadPoolExecutor(1, thread_name_prefix="embed")
        self._in_flight = _InFlight(batch, chunks, self._embedding.submit(self.embedder.embed,
                                                                          texts))

    def _land(self) -> None:
        """Write the batch in flight once its vectors are back (its errors surface here)."""
        if self._in_flight is not None:
            flying, self._in_flight = self._in_flight, None
            self._write(flying.batch, flying.chunks, flying.vectors.result())

    def _write(self, batch: list[_Pending], chunks: list[tuple[Article, Chunk]],
               vectors: np.ndarray) -> None:
        ids = [p.article.article_id for p in batch]
        self._check()
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

    def _relocate(self) -> None:
        """Unchanged articles whose file moved (or whose path was stored another way) now
        point at the file they were found in, and so do articles whose file is gone but whose
        content was found in another one: a later --prune judges the right file."""
        for article_id, entry in sorted(self.entries.items()):
            found = self._hashes.get(entry.content_hash)
            if (article_id not in self._produced and found is not None
                    and not resolved(source_file(entry.article.source)).exists()):
                self._relocations.append((article_id, found))
        if not self._relocations:
            return
        self._check()
        with self.manifest.batch() as batch:
            for article_id, source in self._relocations:
                batch.relocate(article_id, source)
        self.summary.relocated.extend(a for a, _ in self._relocations)
        self.notify(f"來源路徑已更新 {len(self._relocations)} 篇（內容未變）。 Updated the source "
                    f"path of {len(self._relocations)} unchanged articles.")
        self._relocations = []

    def _prune(self, seen: dict[str, set[str]]) -> None:
        """Remove articles whose source is gone (the file, or the record in a file read in this
        run) and whose content was not found anywhere in this run."""
        gone = []
        for article_id, entry in sorted(self.manifest.entries().items()):
            if article_id in self._produced or entry.content_hash in self._hashes:
                continue
            path = resolved(source_file(entry.article.source))
            if str(path) in seen or not path.exists():
                gone.append(article_id)
                self.notify(f"將移除 prune: {article_id} ← {entry.article.source}（來源已不存在，"
                            "內容也未在本次匯入出現 source gone, content not found in this run）")
        if not gone:
            return
        self._check()
        self.collection.delete(where={"article_id": {"$in": gone}})
        orphans = [(e.article.article_id, e.article.source)
                   for e in self.manifest.duplicates_of(gone)]
        self._forget(gone + [a for a, _ in orphans])
        self.summary.pruned.extend(gone)
        self._reingest_orphans(orphans, seen)

    def _reingest_orphans(self, orphans: list[tuple[str, str]],
                          seen: dict[str, set[str]]) -> None:
        """Near-duplicates of a pruned article now stand on their own: index them again."""
        files = {a: str(resolved(source_file(src))) for a, src in orphans}
        wanted = {a for a, path in files.items() if path in seen}
        for path in sorted({files[a] for a in wanted}):
            for doc in self._load(Path(path)):
                if isinstance(doc, RawDoc) and doc.doc_id in wanted:
                    if doc.doc_id in self.summary.unchanged:
                        self.summary.unchanged.remove(doc.doc_id)
                    self.summary.duplicates = [d for d in self.summary.duplicates
                                               if d[0] != doc.doc_id]
                    article, _ = to_article(doc)
                    self._ingest_article(article, self._hash(article), None)
        self._flush()

    def _reconcile(self) -> None:
        """After a crash or a lost Chroma folder: drop orphan chunks, redo missing articles.
        Runs under the lease, so another ingest's pending rows are never mistaken for a
        crashed batch."""
        interrupted = self.manifest.pending()
        if interrupted:  # their Chroma chunks may be new while the manifest still holds old ones
            log.warning("redoing %d articles of an interrupted batch", len(interrupted))
            self._check()
            self.collection.delete(where={"article_id": {"$in": interrupted}})
            self._forget(interrupted)
        _, n_chunks = self.manifest.count()
        if self.collection.count() == n_chunks:
            return
        in_chroma = set(self.collection.get(include=[])["ids"])
        expected = {row.chunk_id: row.article_id for row in self.manifest.chunk_rows()}
        orphans = sorted(in_chroma - expected.keys())
        self._check()
        for i in range(0, len(orphans), CHROMA_BATCH):
            self.collection.delete(ids=orphans[i : i + CHROMA_BATCH])
        missing = {expected[c] for c in expected.keys() - in_chroma}
        if missing:
            log.warning("redoing %d articles whose chunks are missing from Chroma", len(missing))
            self._forget(sorted(missing))

    def _forget(self, article_ids: list[str]) -> None:
        """Delete articles from the manifest in one batch (their chunks are gone from Chroma)."""
        self._check()
        with self.manifest.batch() as batch:
            for article_id in article_ids:
                batch.delete(article_id)
                self.entries.pop(article_id, None)


def probe(embedder: Embedder) -> None:
    """Load the model and embed one text: a misspelled or missing model fails here, before
    a rebuild or an ingest has touched anything."""
    try:
        vectors = embedder.embed(["探測 probe"])
        dim = embedder.dim
    except RagError:
        raise
    except Exception as exc:  # each backend fails its own way; the message says which model
        raise ModelError(f"嵌入模型 {embedder.name} 無法載入或使用：{exc}。"
                         f"請檢查 RAG_EMBED_MODEL。 The embedding model {embedder.name!r} "
                         f"cannot be loaded or used ({exc}): check RAG_EMBED_MODEL.") from exc
    if vectors.shape != (1, dim) or not np.isfinite(vectors).all():
        raise ModelError(f"嵌入模型 {embedder.name} 輸出異常 (shape {vectors.shape})。 The "
                         f"embedding model {embedder.name!r} gave no usable vector.")


def conflict_message(article_id: str, old_source: str, new_source: str) -> str:
    return (f"文章代號 {article_id} 已由 {old_source} 匯入，該檔仍在且內容不同；要以本檔取代請加 "
            f"--replace，否則請改檔名或 id。 article id {article_id} was ingested from "
            f"{old_source}, which is still there with other content: pass --replace to "
            "replace it with this one, or rename the file or the id.")


def resolved(path: str | Path) -> Path:
    """The absolute path with symlinks resolved: one spelling per file (a relative path is
    taken from the working folder, as the ingest that stored it did)."""
    return Path(os.path.realpath(path))


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
           prune: bool = False, progress: bool = True, fmt: str | None = None,
           replace: bool = False, wait: float = WAIT_SECONDS,
           notify: Callable[[str], None] | None = None,
           embedder: Embedder | None = None) -> Summary:
    """Ingest files and folders into the configured collection; see `Ingestor`. `embedder`:
    another than the configured model's (e.g. ingest.ray_embed.RayEmbedder)."""
    return Ingestor(settings, embedder=embedder, progress=progress, notify=notify).run(
        paths, rebuild=rebuild, prune=prune, fmt=fmt, replace=replace, wait=wait)
