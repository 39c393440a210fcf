"""Question–sentence embedding similarities for the offline answerers, each sentence embedded
once per process (by its text: overlapping chunks show the same sentence twice)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rag.embed import Embedder

# Sentence vectors kept (384 floats each: 8,192 hold about 12 MB). The same passages come back
# often in a chat; a sentence is embedded in about 10 ms on 2 cores.
CAPACITY = 8192


class SentenceVectors:
    """Embeds sentences on demand and remembers the most recently used ones."""

    def __init__(self, embedder: Embedder | None, capacity: int = CAPACITY) -> None:
        self.embedder = embedder
        self.capacity = max(1, capacity)
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self.embedded = 0  # sentences embedded so far (the cost; cache hits are free)

    def similarities(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """Cosine similarity of the question and each text; zeros without an embedder."""
        if self.embedder is None or not texts:
            return np.zeros(len(texts), dtype=np.float32)
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            for text, vector in zip(missing, self.embedder.embed(missing), strict=True):
                self._vectors[text] = vector
            self.embedded += len(missing)
        rows = []
        for t in texts:
            self._vectors.move_to_end(t)
            rows.append(self._vectors[t])
        while len(self._vectors) > max(self.capacity, len(texts)):
            self._vectors.popitem(last=False)
        q = self.embedder.embed_query(question)
        return np.asarray(np.vstack(rows) @ q, dtype=np.float32)
