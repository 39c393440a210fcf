"""Public data types, frozen dataclasses: Article, Chunk, Passage, Citation, Answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "backend": self.backend,
            "fallback": self.fallback,
            "notices": list(self.notices),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }
