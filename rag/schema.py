"""Public data types, frozen dataclasses: Article, Chunk, Filters, Passage, Citation, Draft,
Answer. Records with more than four fields are keyword-only, so same-typed fields cannot swap."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rag.dates import date_int, iso_date
from rag.errors import InputError


@dataclass(frozen=True, kw_only=True)
class Article:
    """A cleaned article: body is the text that chunk offsets and citation quotes index into."""

    article_id: str
    title: str
    body: str
    date: str = ""  # ISO 8601 (YYYY-MM-DD) or "" when unknown
    reporter: str = ""
    outlet: str = ""
    source: str = ""  # file path (and line for JSONL records)
    url: str = ""


@dataclass(frozen=True, kw_only=True)
class Chunk:
    """A run of whole sentences of one article; body[start:end] == text."""

    article_id: str
    index: int
    text: str
    start: int
    end: int
    n_tokens: int

    @property
    def chunk_id(self) -> str:
        return f"{self.article_id}#{self.index}"


@dataclass(frozen=True)
class Filters:
    """Date range (ISO, inclusive) and article ids; applied inside every retrieval signal.
    Bad or reversed dates raise InputError here, so no face can silently drop a bound."""

    after: str | None = None
    before: str | None = None
    article_ids: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        after = iso_date(self.after, "開始日期", "start date (--after)")
        before = iso_date(self.before, "結束日期", "end date (--before)")
        if after and before and after > before:
            raise InputError(f"開始日期 {after} 晚於結束日期 {before}。 "
                             f"The start date {after} is after the end date {before}.")
        object.__setattr__(self, "after", after)
        object.__setattr__(self, "before", before)
        if self.article_ids is not None:
            object.__setattr__(self, "article_ids", tuple(self.article_ids))

    @property
    def active(self) -> bool:
        return bool(self.after or self.before or self.article_ids is not None)

    def chroma_where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.after:
            clauses.append({"date_int": {"$gte": date_int(self.after)}})
        if self.before:
            clauses.append({"date_int": {"$lte": date_int(self.before)}})
            clauses.append({"date_int": {"$gt": 0}})
        if self.article_ids is not None:
            clauses.append({"article_id": {"$in": list(self.article_ids)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def is_empty_selection(self) -> bool:
        return self.article_ids is not None and not self.article_ids


@dataclass(frozen=True, kw_only=True)
class Passage:
    """A retrieved chunk with its article metadata and the score of each retriever."""

    chunk_id: str
    article_id: str
    title: str
    date: str
    index: int
    text: str
    start: int
    end: int
    score: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)
    reporter: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk_id,
            "article_id": self.article_id,
            "title": self.title,
            "date": self.date,
            "index": self.index,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 6),
            "scores": {k: round(v, 6) for k, v in self.scores.items()},
            "text": self.text,
        }


@dataclass(frozen=True, kw_only=True)
class Citation:
    """Marker [n] of an answer: the exact quote, article.body[start:end] == quote."""

    n: int
    article_id: str
    title: str
    date: str
    quote: str
    start: int
    end: int
    chunk_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "article_id": self.article_id,
            "title": self.title,
            "date": self.date,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True)
class Draft:
    """What an answerer returns before verification: its text with [n] markers, whether it
    refuses (a flag, never detected from the wording), and how many of the passages it was
    actually shown (a token budget may drop the last ones; markers past it are invalid)."""

    text: str
    refused: bool = False
    shown: int | None = None  # None: every passage


@dataclass(frozen=True, kw_only=True)
class Answer:
    """What `Assistant.ask` returns."""

    question: str
    text: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    passages: tuple[Passage, ...] = ()
    backend: str = ""
    fallback: bool = False  # True when the LLM failed and the extractive answer stands in
    notices: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    # With a refusal: the closest passages, to show as "related, but they do not answer this";
    # never support for the answer (they are not cited).
    related: tuple[Passage, ...] = ()
    # With a refusal under active filters: the same question without them would be answered.
    filters_excluded: bool = False
    # A reply to a greeting, thanks, "what can you do" or "which articles" (rag/smalltalk.py):
    # no retrieval, nothing cited, not a refusal.
    conversational: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "related": [p.to_dict() for p in self.related],
            "filters_excluded": self.filters_excluded,
            "conversational": self.conversational,
            "backend": self.backend,
            "fallback": self.fallback,
            "notices": list(self.notices),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }
