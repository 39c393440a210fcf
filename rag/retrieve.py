"""Hybrid retrieval: dense (Chroma) + lexical (BM25), fused, filtered, de-overlapped -> Passages."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import replace
from typing import Any

from rag import store
from rag.config import Settings
from rag.embed import Embedder, get_embedder
from rag.errors import ConfigError, InputError
from rag.fusion import METHODS, rrf, score_fusion
from rag.lang import detect_language
from rag.lexical import TOKENIZERS, LexicalIndex, load_fresh
from rag.lexicon import chinese_terms
from rag.manifest import Manifest
from rag.rerank import Reranker, get_reranker
from rag.schema import Article, Filters, Passage

log = logging.getLogger(__name__)
MAX_LEXICAL_QUERY_CHARS = 2000
_HAS_WORD = re.compile(r"[^\W_]", re.UNICODE)
_EMOJI_ETC = re.compile(r"[\U0001F000-\U0001FFFF\u2600-\u27BF\uFE0F\u200d]")


def lexical_query(query: str) -> str:
    """What BM25 looks up. English words share no characters with Chinese text, so an
    English query also carries the words' CC-CEDICT senses (Penang -> 槟城); the dense
    retriever alone ranked the right article first for 6 of 10 English gold questions."""
    if detect_language(query) != "en":
        return query
    return f"{query} {chinese_terms(query)}".strip()


class Retriever:
    """`retrieve(query)` -> passages; `mode` is hybrid (default), dense or lexical."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 reranker: Reranker | None = None, mode: str = "hybrid") -> None:
        if mode not in ("hybrid", "dense", "lexical"):
            raise InputError(f"未知的檢索模式 {mode}。 mode must be hybrid, dense or lexical.")
        _check_settings(settings)
        self.settings = settings
        self.embedder = embedder or get_embedder(settings)
        self.reranker = reranker if reranker is not None else get_reranker(settings.reranker)
        self.mode = mode
        self._lock = threading.Lock()
        self._collection: Any = None
        self._manifest: Manifest | None = None
        self._lexical: LexicalIndex | None = None

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

    def search(self, query: str, k: int = 10,
               filters: Filters | None = None) -> tuple[list[Passage], list[str]]:
        """Passages and notices (e.g. the query was truncated)."""
        filters = filters or Filters()
        if not query or not query.strip():
            raise InputError("查詢是空的，請輸入問題或關鍵字。 The query is empty.")
        if k < 1:
            raise InputError(f"k 必須至少為 1（收到 {k}）。 k must be at least 1.")
        notices: list[str] = []
        query, notices = self._truncate(query.strip())
        if not _HAS_WORD.search(_EMOJI_ETC.sub("", query)) or filters.is_empty_selection():
            return [], notices
        with self._lock:
            self._open()
            pool = max(3 * k, 30)
            runs = self._runs(query, pool, filters)
        fused = self._fuse(runs)
        ranked = sorted(fused, key=lambda cid: -fused[cid])
        passages = self._passages(ranked, fused, runs)
        if self.reranker is not None:
            passages = self._rerank(query, passages[: max(2 * k, 20)])
        return _drop_overlaps(passages, k), notices

    def article(self, article_id: str) -> Article | None:
        """The cleaned article (its body is what citation offsets index into)."""
        with self._lock:
            self._open()
            assert self._manifest is not None
            return self._manifest.article(article_id)

    # ---------------------------------------------------------------- stages
    def _open(self) -> None:
        if self._collection is None:
            self._collection = store.read_collection(self.settings)
            store.check_model(self._collection, self.embedder.name, self.settings.collection)
            self._manifest = Manifest(self.settings.manifest_path)
        assert self._manifest is not None
        stale = self._lexical is None or self._lexical.generation != self._manifest.generation
        if stale and self.mode != "dense":
            self._lexical = load_fresh(self.settings.lexical_dir, self._manifest,
                                       self.settings.lexical_tokenizer)

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

    def _runs(self, query: str, pool: int, filters: Filters) -> dict[str, dict[str, float]]:
        runs: dict[str, dict[str, float]] = {}
        if self.mode in ("hybrid", "dense"):
            runs["dense"] = self._dense(query, pool, filters)
        if self.mode in ("hybrid", "lexical"):
            runs["lexical"] = self._lexical_run(query, pool, filters)
        return runs

    def _dense(self, query: str, n: int, filters: Filters) -> dict[str, float]:
        vector = self.embedder.embed_query(query)
        result = self._collection.query(query_embeddings=[vector.tolist()], n_results=n,
                                        where=filters.chroma_where(), include=["distances"])
        ids, distances = result["ids"][0], result["distances"][0]
        return {cid: 1.0 - float(d) for cid, d in zip(ids, distances, strict=True)}

    def _lexical_run(self, query: str, n: int, filters: Filters) -> dict[str, float]:
        assert self._lexical is not None
        lex = self._lexical
        mask = lex.mask(filters.after, filters.before, filters.article_ids)
        hits = lex.search(lexical_query(query)[:MAX_LEXICAL_QUERY_CHARS], n, mask)
        return {lex.chunk_ids[row]: score for row, score in hits}

    def _fuse(self, runs: dict[str, dict[str, float]]) -> dict[str, float]:
        if len(runs) == 1:
            return dict(next(iter(runs.values())))
        s = self.settings
        weights = {"dense": s.dense_weight, "lexical": s.lexical_weight}
        if s.fusion == "rrf":
            return rrf(runs, weights, s.rrf_k)
        return score_fusion(runs, weights)

    def _passages(self, ranked: list[str], fused: dict[str, float],
                  runs: dict[str, dict[str, float]]) -> list[Passage]:
        assert self._manifest is not None
        rows = self._manifest.stored_chunks(ranked)
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
        return sorted(rescored, key=lambda p: -p.score)


def _check_settings(settings: Settings) -> None:
    """Unknown names would otherwise fall back silently (any fusion but rrf meant score)."""
    if settings.fusion not in METHODS:
        raise ConfigError(f"RAG_FUSION 無效：{settings.fusion!r}。 fusion must be one of "
                          + ", ".join(METHODS))
    if settings.lexical_tokenizer not in TOKENIZERS:
        raise ConfigError(f"RAG_LEXICAL_TOKENIZER 無效：{settings.lexical_tokenizer!r}。 "
                          "lexical_tokenizer must be one of " + ", ".join(TOKENIZERS))


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
