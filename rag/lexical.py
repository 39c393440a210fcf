"""Lexical retrieval: BM25 over Chinese-aware tokens, persisted beside Chroma, rebuilt when stale."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from rag.manifest import Manifest
from rag.text import fold

FORMAT_VERSION = 1
K1, B = 1.2, 0.75
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")


def tokenize(text: str, mode: str = "bigram") -> list[str]:
    """Folded tokens: CJK character bigrams (a lone character stays a unigram) or jieba words,
    or both; Latin words and numbers whole. Traditional/Simplified and widths are folded."""
    folded = fold(text)
    tokens = _WORD.findall(folded)
    for run in _CJK_RUN.findall(folded):
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
class LexicalIndex:
    """A BM25 weight matrix (chunks x terms, CSC) with the chunk ids and filter columns."""

    matrix: sparse.csc_matrix
    vocab: dict[str, int]
    chunk_ids: list[str]
    article_ids: np.ndarray  # article index per chunk
    article_names: list[str]
    dates: np.ndarray  # YYYYMMDD int per chunk, 0 when unknown
    mode: str
    generation: int = 0

    @classmethod
    def build(cls, rows: Iterable[tuple[str, str, str, str]], mode: str = "bigram",
              generation: int = 0) -> LexicalIndex:
        """rows: (chunk_id, article_id, iso date, text)."""
        vocab: dict[str, int] = {}
        indptr, indices, tfs, lengths = [0], [], [], []
        chunk_ids, art_idx, dates = [], [], []
        names: dict[str, int] = {}
        for chunk_id, article_id, date, text in rows:
            counts = Counter(tokenize(text, mode))
            for term, tf in counts.items():
                indices.append(vocab.setdefault(term, len(vocab)))
                tfs.append(tf)
            indptr.append(len(indices))
            lengths.append(sum(counts.values()))
            chunk_ids.append(chunk_id)
            art_idx.append(names.setdefault(article_id, len(names)))
            dates.append(date_int(date))
        n_docs = len(chunk_ids)
        tf = sparse.csr_matrix((np.asarray(tfs, np.float32), np.asarray(indices, np.int32),
                                np.asarray(indptr, np.int64)), shape=(n_docs, len(vocab)))
        return cls(_bm25(tf, np.asarray(lengths, np.float32)), vocab, chunk_ids,
                   np.asarray(art_idx, np.int32), list(names), np.asarray(dates, np.int32), mode,
                   generation)

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
            wanted = {self.article_names.index(a) for a in article_ids if a in self.article_names}
            keep &= np.isin(self.article_ids, list(wanted))
        return keep

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / "index.tmp.npz"
        np.savez(tmp, data=self.matrix.data, indices=self.matrix.indices,
                 indptr=self.matrix.indptr, shape=np.asarray(self.matrix.shape),
                 article_ids=self.article_ids, dates=self.dates)
        meta = {"format": FORMAT_VERSION, "mode": self.mode, "generation": self.generation,
                "vocab": list(self.vocab), "chunk_ids": self.chunk_ids,
                "article_names": self.article_names}
        (folder / "meta.tmp.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
        tmp.replace(folder / "index.npz")  # replace() is atomic: readers see old or new
        (folder / "meta.tmp.json").replace(folder / "meta.json")

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex | None:
        """The saved index, or None when missing, unreadable or of another format."""
        try:
            meta = json.loads((folder / "meta.json").read_text("utf-8"))
            arrays = np.load(folder / "index.npz")
        except (OSError, ValueError):
            return None
        if meta.get("format") != FORMAT_VERSION or arrays["shape"][0] != len(meta["chunk_ids"]):
            return None
        matrix = sparse.csc_matrix((arrays["data"], arrays["indices"], arrays["indptr"]),
                                   shape=tuple(arrays["shape"]))
        return cls(matrix, {t: i for i, t in enumerate(meta["vocab"])}, meta["chunk_ids"],
                   arrays["article_ids"], meta["article_names"], arrays["dates"], meta["mode"],
                   int(meta["generation"]))


def _bm25(tf: sparse.csr_matrix, lengths: np.ndarray) -> sparse.csc_matrix:
    """Precomputed BM25 term weights, so a query is a sum of columns."""
    n_docs = tf.shape[0]
    if n_docs == 0:
        return sparse.csc_matrix(tf.shape, dtype=np.float32)
    df = np.bincount(tf.indices, minlength=tf.shape[1]).astype(np.float32)
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
    avg = float(lengths.mean()) or 1.0
    row_norm = np.repeat(K1 * (1 - B + B * lengths / avg), np.diff(tf.indptr))
    data = tf.data * (K1 + 1) / (tf.data + row_norm) * idf[tf.indices]
    weights = sparse.csr_matrix((data.astype(np.float32), tf.indices, tf.indptr), shape=tf.shape)
    return weights.tocsc()


def date_int(iso: str) -> int:
    """'2025-04-16' -> 20250416; '' -> 0."""
    digits = re.sub(r"\D", "", iso or "")[:8]
    return int(digits.ljust(8, "0")) if digits else 0


def load_fresh(folder: Path, manifest: Manifest, mode: str) -> LexicalIndex:
    """The persisted index if it matches the manifest's generation and mode, else a rebuild."""
    index = LexicalIndex.load(folder)
    generation = manifest.generation
    if index is None or index.generation != generation or index.mode != mode:
        index = LexicalIndex.build(manifest.chunk_rows(), mode, generation)
        index.save(folder)
    return index
