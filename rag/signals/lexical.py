"""The lexical signal: BM25 over folded Chinese bigrams (rag/lexical.py), refreshed when the
manifest's generation moves; English queries also look up their CC-CEDICT Chinese senses."""

from __future__ import annotations

from typing import ClassVar

from rag.config import Settings
from rag.errors import ConfigError
from rag.index_reader import IndexReader
from rag.lang import Lang
from rag.lexical import TOKENIZERS, LexicalIndex, load_fresh
from rag.lexicon import chinese_terms
from rag.schema import Filters
from rag.signals import SignalQuery

MAX_QUERY_CHARS = 2000


def lexical_query(query: str, lang: Lang) -> str:
    """What BM25 looks up. English words share no characters with Chinese text, so an
    English query also carries the words' CC-CEDICT senses (Penang -> 槟城); the dense
    retriever alone ranked the right article first for 6 of 10 English gold questions."""
    if lang != "en":
        return query
    return f"{query} {chinese_terms(query)}".strip()


class LexicalSignal:
    name: ClassVar[str] = "lexical"

    def __init__(self, index: IndexReader, tokenizer: str = "bigram", weight: float = 1.0
                 ) -> None:
        if tokenizer not in TOKENIZERS:
            raise ConfigError(f"RAG_LEXICAL_TOKENIZER 無效：{tokenizer!r}。 "
                              "lexical_tokenizer must be one of " + ", ".join(TOKENIZERS))
        self.index = index
        self.tokenizer = tokenizer
        self.weight = weight
        self._bm25: LexicalIndex | None = None

    @classmethod
    def from_settings(cls, settings: Settings, index: IndexReader, weight: float
                      ) -> LexicalSignal:
        return cls(index, settings.lexical_tokenizer, weight)

    def scores(self, query: SignalQuery, pool: int, filters: Filters) -> dict[str, float]:
        bm25 = self._fresh()
        mask = bm25.mask(filters.after, filters.before, filters.article_ids)
        hits = bm25.search(lexical_query(query.text, query.lang)[:MAX_QUERY_CHARS], pool, mask)
        return {bm25.chunk_ids[row]: score for row, score in hits}

    def _fresh(self) -> LexicalIndex:
        """The BM25 index of the manifest's current generation (checked per query: one
        SQLite read; rebuilt only when an ingest has committed since)."""
        manifest = self.index.manifest
        if self._bm25 is None or self._bm25.generation != manifest.generation:
            self._bm25 = load_fresh(self.index.settings.lexical_dir, manifest, self.tokenizer)
        return self._bm25
