"""The dense signal: cosine similarity of e5 query and chunk vectors, searched in Chroma."""

from __future__ import annotations

from typing import ClassVar

from rag.config import Settings
from rag.index_reader import IndexReader
from rag.schema import Filters
from rag.signals import SignalQuery


class DenseSignal:
    name: ClassVar[str] = "dense"

    def __init__(self, index: IndexReader, weight: float = 1.0) -> None:
        self.index = index
        self.weight = weight

    @classmethod
    def from_settings(cls, settings: Settings, index: IndexReader, weight: float
                      ) -> DenseSignal:
        return cls(index, weight)

    def scores(self, query: SignalQuery, pool: int, filters: Filters) -> dict[str, float]:
        vector = self.index.embedder.embed_query(query.text)
        result = self.index.collection.query(
            query_embeddings=[vector.tolist()], n_results=pool, where=filters.chroma_where(),
            include=["distances"])
        ids, distances = result["ids"][0], result["distances"][0]
        return {cid: 1.0 - float(d) for cid, d in zip(ids, distances, strict=True)}
