"""Caches under the training folder (RAG_DATA_DIR, outside the repo): embeddings by text and
retrieved passages by question, so that a re-run fits models in minutes instead of hours."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.embed import Embedder, Wrapper
from rag.schema import Passage


class CachedEmbedder(Wrapper):
    """The product's embedder with a memory of every text it embedded (saved with `save`)."""

    def __init__(self, inner: Embedder, path: Path) -> None:
        super().__init__(inner)
        self.path = path
        self._vectors: dict[tuple[bool, str], np.ndarray] = {}
        self._dirty = False
        if path.is_file():
            with np.load(path, allow_pickle=False) as data:
                keys = json.loads(str(data["keys"]))
                for (is_query, text), vec in zip(keys, data["vectors"], strict=True):
                    self._vectors[(bool(is_query), text)] = vec

    def embed(self, texts: Sequence[str], is_query: bool = False) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if (is_query, t) not in self._vectors))
        if missing:
            for text, vec in zip(missing, self.inner.embed(missing, is_query), strict=True):
                self._vectors[(is_query, text)] = vec.astype(np.float16)
            self._dirty = True
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._vectors[(is_query, t)] for t in texts]).astype(np.float32)

    def save(self) -> None:
        if not self._dirty:
            return
        keys = list(self._vectors)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.asarray(json.dumps(keys, ensure_ascii=False)),
                 vectors=np.vstack([self._vectors[k] for k in keys]))
        tmp.replace(self.path)
        self._dirty = False


def passage_from_dict(d: dict) -> Passage:
    return Passage(chunk_id=d["chunk_id"], article_id=d["article_id"], title=d["title"],
                   date=d["date"], index=d["index"], text=d["text"], start=d["start"],
                   end=d["end"], score=d["score"], scores=dict(d["scores"]))


class PassageCache:
    """Retrieved passages per (question text, k), one JSON line each, appended as they come."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._rows: dict[str, list[dict]] = {}
        if path.is_file():
            for line in path.read_text("utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    self._rows[row["key"]] = row["passages"]
        self._new: list[str] = []

    @staticmethod
    def key(question: str, k: int) -> str:
        return f"{k}\t{question}"

    def get(self, question: str, k: int) -> list[Passage] | None:
        rows = self._rows.get(self.key(question, k))
        return None if rows is None else [passage_from_dict(d) for d in rows]

    def put(self, question: str, k: int, passages: Sequence[Passage]) -> None:
        key = self.key(question, k)
        self._rows[key] = [p.to_dict() for p in passages]
        self._new.append(key)

    def save(self) -> None:
        if not self._new:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            for key in self._new:
                f.write(json.dumps({"key": key, "passages": self._rows[key]},
                                   ensure_ascii=False) + "\n")
        self._new = []
