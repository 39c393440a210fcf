"""Hybrid retrieval: the configured signals (rag/signals/: dense, lexical, ...) fused, filtered,
de-overlapped -> Passages."""

from __future__ import annotations

import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from rag import signals as signal_registry
from rag.config import Settings
from rag.embed import Embedder, get_embedder
from rag.errors import ConfigError, InputError
from rag.fusion import METHODS, fuse, ranking
from rag.index_reader import IndexReader
from rag.lang import Lang, detect_language
from rag.rerank import Reranker, get_reranker
from rag.schema import Article, Filters, Passage
from rag.signals import HYBRID, Signal, SignalQuery

log = logging.getLogger(__name__)
# The signals of one query run side by side: dense search waits on Chroma (HNSW in Rust, or
# HTTP to a server) and BM25 on numpy, both mostly outside the GIL. One pool for the process
# (a process forked after a search would inherit a pool whose threads it lacks: nothing here
# forks; start other processes with spawn or exec).
_SIGNALS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rag-signal")
_HAS_WORD = re.compile(r"[^\W_]", re.UNICODE)
_EMOJI_ETC = re.compile(r"[\U0001F000-\U0001FFFF\u2600-\u27BF\uFE0F\u200d]")


class Retriever:
    """`retrieve(query)` -> passages; `mode` is hybrid (default) or one signal's name."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 reranker: Reranker | None = None, mode: str = HYBRID) -> None:
        if settings.fusion not in METHODS:  # unknown names would silently mean "score"
            raise ConfigError(f"RAG_FUSION 無效：{settings.fusion!r}。 fusion must be one of "
                              + ", ".join(METHODS))
        if mode != HYBRID and mode not in signal_registry.REGISTRY:
            raise InputError(f"未知的檢索模式 {mode}。 mode must be {HYBRID} or one of "
                             + ", ".join(signal_registry.REGISTRY))
        self.settings = settings
        self.embedder = embedder or get_embedder(settings)
        self.reranker = reranker if reranker is not None else get_reranker(settings.reranker)
        self.mode = mode
        self.index = IndexReader(settings, self.embedder)
        self.signals: list[Signal] = signal_registry.build(
            settings, self.index, None if mode == HYBRID else mode)
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> Retriever:
        return cls(settings or Settings.from_env(), **kwargs)

    # ---------------------------------------------------------------- public
    def retrieve(self, query: str, k: int = 10, after: str | None = None,
                 before: str | None = None, article_ids: list[str] | None = None) -> list[Passage]:
        filters = Filters(after=after, before=before,
                          article_ids=tuple(article_ids) if article_ids is not None else None)
        passages, _ = self.search(query, k, filters)
        return passages

    def search(self, query: str, k: int = 10, filters: Filters | None = None,
               lang: Lang | None = None) -> tuple[list[Passage], list[str]]:
        """Passages and notices (e.g. the query was truncated). `lang` is the question's
        language when the caller has decided it (the Assistant does, once per question)."""
        filters = filters or Filters()
        if not isinstance(query, str) or not query.strip():
            raise InputError("查詢是空的，請輸入問題或關鍵字。 The query is empty.")
        if k < 1:
            raise InputError(f"k 必須至少為 1（收到 {k}）。 k must be at least 1.")
        notices: list[str] = []
        query, notices = self._truncate(query.strip())
        if not _HAS_WORD.search(_EMOJI_ETC.sub("", query)) or filters.is_empty_selection():
            return [], notices
        signal_query = SignalQuery(query, lang or detect_language(query))
        with self._lock:
            self.index.collection  # noqa: B018 - opens it: a clear error when empty or mismatched
            notices.extend(self.index.health_notices())  # a half-written index says so
            pool = max(3 * k, 30)
            runs = self._runs(signal_query, pool, filters)
            fused = self._fuse(runs)
            ranked = ranking(fused)
            passages = self._passages(ranked, fused, runs)
        if self.reranker is not None:
            passages = self._rerank(query, passages[: max(2 * k, 20)])
        return _drop_overlaps(passages, k), notices

    def article(self, article_id: str) -> Article | None:
        """The cleaned article (its body is what citation offsets index into)."""
        with self._lock:
            return self.index.manifest.article(article_id)

    def catalog(self, n: int) -> tuple[int, list[Article]]:
        """How many articles the index holds, and the `n` newest."""
        with self._lock:
            manifest = self.index.manifest
            return manifest.count()[0], manifest.newest(n)

    # ---------------------------------------------------------------- stages
    def _truncate(self, query: str) -> tuple[str, list[str]]:
        if self.embedder.fits(query, is_query=True):
            return query, []
        lo, hi = 0, len(query)
        while lo < hi:  # longest prefix that the model reads whole
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if self.embedder.fits(query[:mid], is_query=True) else (lo, mid - 1)
        note = (f"查詢過長，已截斷為前 {lo} 字。 The query was truncated to its first {lo} "
                f"characters (the model reads at most {self.embedder.max_tokens} tokens).")
        log.warning(note)
        return query[:lo], [note]

    def _runs(self, query: SignalQuery, pool: int, filters: Filters
              ) -> dict[str, dict[str, float]]:
        """Each signal's scores, computed at the same time: the first signal (dense, which
        embeds the query) in the calling thread, the others on the pool. Embedding on a pool
        thread made the shipped corpus's retrieve() p50 slower, 19-20 -> 32-34 ms (the
        embedder's own threads then compete with the caller's)."""
        first, *others = self.signals
        pending = {s.name: _SIGNALS.submit(s.scores, query, pool, filters) for s in others}
        runs = {first.name: first.scores(query, pool, filters)}
        runs.update((name, future.result()) for name, future in pending.items())
        return runs

    def _fuse(self, runs: dict[str, dict[str, float]]) -> dict[str, float]:
        if len(runs) == 1:
            return dict(next(iter(runs.values())))
        weights = {s.name: s.weight for s in self.signals}
        return fuse(self.settings.fusion, runs, weights, self.settings.rrf_k)

    def _passages(self, ranked: list[str], fused: dict[str, float],
                  runs: dict[str, dict[str, float]]) -> list[Passage]:
        rows = self.index.manifest.stored_chunks(ranked)
        out = []
        for cid in ranked:
            row = rows.get(cid)
            if row is None:  # in Chroma but not committed: an interrupted ingest
                continue
            out.append(Passage(
                chunk_id=cid, article_id=row.article_id, title=row.title, date=row.date,
                index=row.index, text=row.text, start=row.start, end=row.end, score=fused[cid],
                scores={name: run[cid] for name, run in runs.items() if cid in run},
                reporter=row.reporter, source=row.source))
        return out

    def _rerank(self, query: str, passages: list[Passage]) -> list[Passage]:
        assert self.reranker is not None
        scores = self.reranker.score(query, [p.text for p in passages])
        rescored = [replace(p, score=s, scores={**p.scores, "rerank": s})
                    for p, s in zip(passages, scores, strict=True)]
        return sorted(rescored, key=lambda p: (-p.score, p.chunk_id))


def _drop_overlaps(passages: list[Passage], k: int) -> list[Passage]:
    """Keep the best of overlapping chunks (neighbours share a sentence) so k passages differ."""
    chosen: list[Passage] = []
    for p in passages:
        if any(q.article_id == p.article_id and _overlap(p, q) > 0.5 for q in chosen):
            continue
        chosen.append(p)
        if len(chosen) == k:
            break
    return chosen


def _overlap(a: Passage, b: Passage) -> float:
    inter = min(a.end, b.end) - max(a.start, b.start)
    return max(inter, 0) / max(1, min(a.end - a.start, b.end - b.start))
