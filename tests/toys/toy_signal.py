"""A toy retrieval signal: every chunk of one favourite article scores 1 (filters honoured)."""

from __future__ import annotations

from typing import ClassVar

from rag.config import Settings
from rag.index_reader import IndexReader
from rag.schema import Filters
from rag.signals import SignalQuery

FAVOURITE = "003_78186f8d2590a0a8"  # the Orange County story


class FavouriteSignal:
    name: ClassVar[str] = "favourite"

    def __init__(self, index: IndexReader, weight: float) -> None:
        self.index = index
        self.weight = weight

    @classmethod
    def from_settings(cls, settings: Settings, index: IndexReader, weight: float
                      ) -> FavouriteSignal:
        return cls(index, weight)

    def scores(self, query: SignalQuery, pool: int, filters: Filters) -> dict[str, float]:
        allowed = filters.article_ids
        return {chunk_id: 1.0 for chunk_id, article_id, _, _ in self.index.manifest.chunk_rows()
                if article_id == FAVOURITE and (allowed is None or article_id in allowed)}
