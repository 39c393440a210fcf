"""Lexical retrieval: BM25 over Chinese-aware tokens, saved beside Chroma, rebuilt when stale."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from scipy import sparse

from rag.dates import date_int
from rag.lang import CJK_RUN
from rag.manifest import ManifestStore
from rag.text import fold

FORMAT_VERSION = 2  # 2: term counts saved for incremental refreshes
TOKENIZERS = ("bigram", "jieba", "both")
K1, B = 1.2, 0.75  # BM25 defaults; an index records the values it was weighted with
_UNRECORDED_K1_B = (1.2, 0.75)  # what built the indexes saved before k1/b were recorded
_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")


def tokenize(text: str, mode: str = "bigram") -> list[str]:
    """Folded tokens: CJK character bigrams (a lone character stays a unigram) or jieba words,
    or both; Latin words and numbers whole. Traditional/Simplified and widths are folded."""
    if mode not in TOKENIZERS:
        raise ValueError(f"unknown lexical tokenizer {mode!r}; use one of {TOKENIZERS}")
    folded = fold(text)
    tokens = _WORD.findall(folded)
    for run in CJK_RUN.findall(folded):
        if mode in ("bigram", "both"):
            tokens.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
        if mode in ("jieba", "both"):
            tokens.extend(w for w in _jieba_cut(run) if len(w) > 1 or mode == "jieba")
    return tokens


def _jieba_cut(text: str) -> list[str]:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return [w for w in jieba.lcut_for_search(text) if w.strip()]


@dataclass
class TermCounts:
    """Raw term counts per chunk and a digest of each chunk's text, saved beside the index so
    that a refresh re-tokenizes only changed chunks (a full pass takes minutes at 100k chunks)."""

    tf: sparse.csr_matrix  # chunks x terms, same rows and columns as the index
    digests: np.ndarray  # int64 digest of each chunk's text

    def by_digest(self) -> dict[int, int]:
        return {int(d): row for row, d in enumerate(self.digests)}


@dataclass(kw_only=True)
class LexicalIndex:
    """A BM25 weight matrix (chunks x terms, CSC) with the chunk ids and filter columns, and
    the k1/b it was weighted with (parameters live with the index they built, as in bm25s)."""

    matrix: sparse.csc_matrix
    vocab: dict[str, int]
    chunk_ids: list[str]
    article_ids: np.ndarray  # article index per chunk
    article_names: list[str]
    dates: np.ndarray  # YYYYMMDD int per chunk, 0 when unknown
    mode: str
    generation: int = 0
    k1: float = K1
    b: float = B
    counts: TermCounts | None = None  # only while building and saving; queries never need it

    @classmethod
    def build(cls, rows: Iterable[tuple[str, str, str, str]], mode: str = "bigram",
              generation: int = 0, previous: LexicalIndex | None = None, *, k1: float = K1,
              b: float = B) -> LexicalIndex:
        """rows: (chunk_id, article_id, iso date, text). Chunks whose text `previous` (same mode,
        counts loaded) already counted reuse those counts instead of being tokenized again, so a
        change of k1/b alone tokenizes nothing."""
        old = previous.counts if previous is not None and previous.mode == mode else None
        vocab = dict(previous.vocab) if old is not None and previous is not None else {}
        reuse = old.by_digest() if old is not None else {}
        term_rows: list[tuple[np.ndarray, np.ndarray]] = []
        chunk_ids, art_idx, dates, digests = [], [], [], []
        names: dict[str, int] = {}
        for chunk_id, article_id, date, text in rows:
            digest = _digest(text)
            hit = reuse.get(digest)
            term_rows.append(_count(text, mode, vocab) if old is None or hit is None
                             else _row(old.tf, hit))
            chunk_ids.append(chunk_id)
            art_idx.append(names.setdefault(article_id, len(names)))
            dates.append(date_int(date))
            digests.append(digest)
        tf, vocab = _compact(_stack(term_rows, len(vocab)), vocab)
        lengths = np.asarray(tf.sum(axis=1), np.float32).ravel()
        return cls(matrix=_bm25(tf, lengths, k1, b), vocab=vocab, chunk_ids=chunk_ids,
                   article_ids=np.asarray(art_idx, np.int32), article_names=list(names),
                   dates=np.asarray(dates, np.int32), mode=mode, generation=generation,
                   k1=k1, b=b, counts=TermCounts(tf, np.asarray(digests, np.int64)))

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top-k (row, score) with score > 0; rows outside `mask` never compete."""
        cols = sorted({self.vocab[t] for t in tokenize(query, self.mode) if t in self.vocab})
        if not cols or not self.chunk_ids:
            return []
        scores = np.asarray(self.matrix[:, cols].sum(axis=1)).ravel()
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, int(np.count_nonzero(scores)))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top]

    def mask(self, after: str | None = None, before: str | None = None,
             article_ids: Iterable[str] | None = None) -> np.ndarray | None:
        """Boolean filter over rows; None when no filter is set."""
        if after is None and before is None and article_ids is None:
            return None
        keep = np.ones(len(self.chunk_ids), dtype=bool)
        if after:
            keep &= self.dates >= date_int(after)
        if before:
            keep &= (self.dates <= date_int(before)) & (self.dates > 0)
        if article_ids is not None:
            wanted = [self._article_rows[a] for a in article_ids if a in self._article_rows]
            keep &= np.isin(self.article_ids, wanted)
        return keep

    @cached_property
    def _article_rows(self) -> dict[str, int]:
        """article id -> its index in article_names (list.index was O(articles) per id)."""
        return {name: i for i, name in enumerate(self.article_names)}

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.counts is not None:  # first: a crash leaves meta.json naming the old generation
            _save_npz(folder / "counts.npz", data=self.counts.tf.data,
                      indices=self.counts.tf.indices, indptr=self.counts.tf.indptr,
                      shape=np.asarray(self.counts.tf.shape), digests=self.counts.digests,
                      generation=np.asarray(self.generation))
        _save_npz(folder / "index.npz", data=self.matrix.data, indices=self.matrix.indices,
                  indptr=self.matrix.indptr, shape=np.asarray(self.matrix.shape),
                  article_ids=self.article_ids, dates=self.dates)
        meta = {"format": FORMAT_VERSION, "mode": self.mode, "generation": self.generation,
                "k1": self.k1, "b": self.b, "vocab": list(self.vocab), "chunk_ids": self.chunk_ids,
                "article_names": self.article_names}
        (folder / "meta.tmp.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
        (folder / "meta.tmp.json").replace(folder / "meta.json")

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex | None:
        """The saved index, or None when missing, unreadable or of another format."""
        try:
            meta = json.loads((folder / "meta.json").read_text("utf-8"))
            arrays = np.load(folder / "index.npz")
            if meta.get("format") != FORMAT_VERSION or arrays["shape"][0] != len(
                    meta["chunk_ids"]):
                return None
            matrix = sparse.csc_matrix((arrays["data"], arrays["indices"], arrays["indptr"]),
                                       shape=tuple(arrays["shape"]))
            k1, b = _UNRECORDED_K1_B
            return cls(matrix=matrix, vocab={t: i for i, t in enumerate(meta["vocab"])},
                       chunk_ids=meta["chunk_ids"], article_ids=arrays["article_ids"],
                       article_names=meta["article_names"], dates=arrays["dates"],
                       mode=meta["mode"], generation=int(meta["generation"]),
                       k1=float(meta.get("k1", k1)), b=float(meta.get("b", b)))
        except (OSError, ValueError, KeyError, EOFError):
            return None

    def load_counts(self, folder: Path) -> bool:
        """Attach the saved term counts when they belong to this very index."""
        try:
            arrays = np.load(folder / "counts.npz")
            if int(arrays["generation"]) != self.generation or tuple(arrays["shape"]) != (
                    self.matrix.shape):
                return False
            tf = sparse.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]),
                                   shape=tuple(arrays["shape"]))
            self.counts = TermCounts(tf, arrays["digests"])
            return True
        except (OSError, ValueError, KeyError, EOFError):
            return False


def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, **arrays)  # type: ignore[arg-type]  # numpy's stub mistypes **kwds
    tmp.replace(path)  # replace() is atomic: readers see the old file or the new one


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(),
                          "little", signed=True)


def _count(text: str, mode: str, vocab: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(term columns, counts) of one text; new terms get new columns."""
    counts = Counter(tokenize(text, mode))
    cols = np.fromiter((vocab.setdefault(t, len(vocab)) for t in counts), np.int32, len(counts))
    return cols, np.fromiter(counts.values(), np.float32, len(counts))


def _row(tf: sparse.csr_matrix, row: int) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = tf.indptr[row], tf.indptr[row + 1]
    return tf.indices[lo:hi], tf.data[lo:hi]


def _stack(rows: list[tuple[np.ndarray, np.ndarray]], n_terms: int) -> sparse.csr_matrix:
    indptr = np.zeros(len(rows) + 1, np.int64)
    np.cumsum([len(cols) for cols, _ in rows], out=indptr[1:])
    if not rows:
        return sparse.csr_matrix((0, n_terms), dtype=np.float32)
    return sparse.csr_matrix((np.concatenate([c for _, c in rows]).astype(np.float32),
                              np.concatenate([t for t, _ in rows]).astype(np.int32), indptr),
                             shape=(len(rows), n_terms))


def _compact(tf: sparse.csr_matrix,
             vocab: dict[str, int]) -> tuple[sparse.csr_matrix, dict[str, int]]:
    """Drop terms no chunk uses any more (left behind by updated or pruned chunks)."""
    used = np.bincount(tf.indices, minlength=tf.shape[1]) > 0
    if used.all():
        return tf, vocab
    new_col = np.cumsum(used) - 1
    terms = [t for t, col in sorted(vocab.items(), key=lambda item: item[1]) if used[col]]
    tf = sparse.csr_matrix((tf.data, new_col[tf.indices].astype(np.int32), tf.indptr),
                           shape=(tf.shape[0], len(terms)))
    return tf, {t: i for i, t in enumerate(terms)}


def _bm25(tf: sparse.csr_matrix, lengths: np.ndarray, k1: float, b: float) -> sparse.csc_matrix:
    """Precomputed BM25 term weights, so a query is a sum of columns."""
    n_docs = tf.shape[0]
    if n_docs == 0:
        return sparse.csc_matrix(tf.shape, dtype=np.float32)
    df = np.bincount(tf.indices, minlength=tf.shape[1]).astype(np.float32)
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
    avg = float(lengths.mean()) or 1.0
    row_norm = np.repeat(k1 * (1 - b + b * lengths / avg), np.diff(tf.indptr))
    data = tf.data * (k1 + 1) / (tf.data + row_norm) * idf[tf.indices]
    weights = sparse.csr_matrix((data.astype(np.float32), tf.indices, tf.indptr), shape=tf.shape)
    return weights.tocsc()


def load_fresh(folder: Path, manifest: ManifestStore, mode: str, *, k1: float = K1,
               b: float = B) -> LexicalIndex:
    """The persisted index if it matches the manifest's generation, the mode and k1/b, else a
    refresh that re-tokenizes only the chunks whose text the saved counts do not cover (none
    when only k1/b changed: the weights are recomputed from the saved counts)."""
    index = LexicalIndex.load(folder)
    generation = manifest.generation
    if index is not None and (index.generation, index.mode, index.k1, index.b) == (
            generation, mode, k1, b):
        return index
    if index is not None and (index.mode != mode or not index.load_counts(folder)):
        index = None
    index = LexicalIndex.build(manifest.chunk_rows(), mode, generation, previous=index,
                               k1=k1, b=b)
    index.save(folder)
    index.counts = None  # ~as large as the matrix; only the next refresh needs it, from disk
    return index
