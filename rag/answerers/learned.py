"""The learned offline answerer: a trained selector picks the sentence, a trained answerability
model decides whether to answer, the short answer leads; nothing is generated (docs/answerer.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from rag.answerers import OfflineAnswerer
from rag.answerers import model as models
from rag.answerers.evidence import distinct_units, in_article
from rag.answerers.question import Query, analyse, split_parts
from rag.answerers.reader import Reader, Reading, quoted
from rag.answerers.short import best_span, leads, shipped
from rag.answerers.similarity import SentenceVectors
from rag.config import Settings
from rag.dates import annotate_relative_dates
from rag.lang import Lang
from rag.prompt import refusal
from rag.schema import Draft, Passage
from rag.text import Span, to_simplified

if TYPE_CHECKING:
    from rag.embed import Embedder

LABEL = "學習式抽取（未設定 LLM） Learned extractive (no LLM configured)"


@dataclass(frozen=True, kw_only=True)
class Quote:
    """A sentence to quote: passage number (1-based) and its offsets in the passage text."""

    n: int
    span: Span


@dataclass(frozen=True, kw_only=True)
class Part:
    """One answered (sub-)question: what was read, what is quoted and its short answer."""

    query: Query
    reading: Reading
    quotes: list[Quote]
    short: str  # "" when the question kind gets no short answer first


class LearnedAnswerer(OfflineAnswerer):
    """Quotes the sentence the selector rates best, led by its short answer for date, number,
    person, place and list questions, or refuses when the answerability model says the
    shown passages do not hold the asked fact."""

    name: ClassVar[str] = "learned"
    label = LABEL

    def __init__(self, embedder: Embedder | None = None, threshold: float | None = None,
                 reader: Reader | None = None, spanner: models.Model | None = None) -> None:
        self.threshold = threshold  # None: the one chosen on validation, stored with the model
        self._reader = reader
        self._spanner = spanner
        self.vectors = SentenceVectors(embedder)

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder | None = None
                      ) -> LearnedAnswerer:
        return cls(embedder=embedder, threshold=settings.learned_threshold)

    @property
    def reader(self) -> Reader:
        """The shipped models, loaded on first use."""
        if self._reader is None:
            shipped = Reader.shipped()
            self._reader = shipped if self.threshold is None else Reader(
                shipped.selector, shipped.judge, self.threshold)
        return self._reader

    @property
    def spanner(self) -> models.Model:
        if self._spanner is None:
            self._spanner = shipped()
        return self._spanner

    def draft(self, question: str, passages: Sequence[Passage], lang: Lang) -> Draft:
        parts = self.answer_parts(question, passages, lang)
        if not parts:
            return Draft(refusal(lang), refused=True)
        pieces = []
        for part in parts:
            assert part.reading.best is not None  # an answered part has a best sentence
            best_n = part.reading.units[part.reading.best][0]
            lead = annotate_relative_dates(part.short, passages[best_n - 1].date)
            if lead:  # cited like any claim, so the verifier checks it too
                pieces.append(f"{lead}[{best_n}]{'. ' if lang == 'en' else '。'}")
            for q in part.quotes:
                text = annotate_relative_dates(q.span.text, passages[q.n - 1].date)
                pieces.append(f"{text}[{q.n}]" + (" " if lang == "en" else ""))
        body = "".join(pieces).strip()
        if lang == "zh-Hans":
            body = to_simplified(body)
        elif lang == "en":
            body = f"According to the articles (quoted in Chinese): {body}"
        return Draft(body)

    def select(self, question: str, passages: Sequence[Passage], lang: Lang | None = None
               ) -> list[Quote]:
        """The sentences to quote, in answer order; [] means refuse."""
        return [q for part in self.answer_parts(question, passages, lang) for q in part.quotes]

    def answer_parts(self, question: str, passages: Sequence[Passage], lang: Lang | None
                     ) -> list[Part]:
        """A question asking two things is answered part by part, and only when every part
        is answered; otherwise as a whole. [] means refuse."""
        pieces = split_parts(question, lang)
        if len(pieces) > 1:
            parts = [self.answer_one(p, passages, lang) for p in pieces]
            if all(p is not None for p in parts):
                return _without_repeats([p for p in parts if p is not None], passages)
        whole = self.answer_one(question, passages, lang)
        return [whole] if whole is not None else []

    def answer_one(self, question: str, passages: Sequence[Passage], lang: Lang | None
                   ) -> Part | None:
        query = analyse(question, lang)
        reading = self.read(query, passages)
        rows = quoted(reading, query, passages, self.reader.near_best)
        if not rows or reading.best is None:
            return None
        n, best = reading.units[reading.best]
        short = best_span(self.spanner, query, best.text) if leads(query) else ""
        return Part(query=query, reading=reading, short=short,
                    quotes=[Quote(n=reading.units[r][0], span=reading.units[r][1])
                            for r in rows])

    def read(self, query: Query, passages: Sequence[Passage]) -> Reading:
        units = distinct_units(passages)
        sims = (self.vectors.similarities(query.text, [s.text for _, s in units])
                if self.reader.needs_similarity else np.zeros(len(units), dtype=np.float32))
        return self.reader.read(query, passages, units, [float(s) for s in sims])


def _without_repeats(parts: list[Part], passages: Sequence[Passage]) -> list[Part]:
    """A later part does not quote again what an earlier part quoted (same article text)."""
    seen: set[tuple[str, int]] = set()
    out = []
    for part in parts:
        kept = []
        for q in part.quotes:
            key = in_article(q.n, q.span, passages)[:2]
            if key not in seen:
                seen.add(key)
                kept.append(q)
        out.append(Part(query=part.query, reading=part.reading, short=part.short,
                        quotes=kept or part.quotes[:0]))
    return [p for p in out if p.quotes or p.short]
