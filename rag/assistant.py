"""The public API: `Assistant.ask` / `Assistant.stream` -> Answer with verified citations."""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import replace
from typing import Any

from rag.answerers import Answerer, get_answerer, resolve_name
from rag.cite import verify
from rag.config import Settings
from rag.errors import InputError, LLMError
from rag.lang import detect_language
from rag.prompt import refusal
from rag.retrieve import Retriever
from rag.rewrite import rewrite_by_rule, turns
from rag.schema import Answer, Citation, Filters, Passage

log = logging.getLogger(__name__)


class Assistant:
    """Retrieve, answer, verify. Thread-safe for concurrent questions (the UI serves many)."""

    def __init__(self, settings: Settings, retriever: Retriever | None = None,
                 answerer: str | None = None, strict: bool = False) -> None:
        self.settings = settings
        self.retriever = retriever or Retriever(settings)
        self.strict = strict
        self.backend = resolve_name(settings, answerer)
        self.extractive = get_answerer("extractive", settings, embedder=self.retriever.embedder)
        self.answerer: Answerer = (self.extractive if self.backend == "extractive"
                                   else get_answerer(self.backend, settings))

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> Assistant:
        return cls(settings or Settings.from_env(), **kwargs)

    @property
    def label(self) -> str:
        return self.answerer.label

    def ask(self, question: str, history: Sequence[Any] | None = None,
            filters: Filters | dict[str, Any] | None = None) -> Answer:
        answer = None
        for piece in self.stream(question, history, filters):
            if isinstance(piece, Answer):
                answer = piece
        assert answer is not None
        return answer

    def stream(self, question: str, history: Sequence[Any] | None = None,
               filters: Filters | dict[str, Any] | None = None) -> Iterator[str | Answer]:
        """Draft text pieces as they arrive, then the final, verified Answer (authoritative:
        a verified answer may differ from the draft, e.g. after a fallback or a removed marker)."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        question, notices = self._check(question)
        lang = detect_language(question)
        standalone = self.standalone(question, history)
        if standalone != question:
            notices.append(f"改寫後的問題 rewritten question: {standalone}")
        passages, retrieval_notes = self.retriever.search(
            standalone, self.settings.top_k, _filters(filters))
        notices.extend(retrieval_notes)
        timings["retrieve"] = time.perf_counter() - started
        if not passages:
            timings["total"] = timings["retrieve"]
            yield Answer(question=question, text=refusal(lang), refused=True,
                         backend=self.backend, notices=tuple(notices), timings=timings)
            return
        draft, fallback = yield from self._draft(standalone, passages, lang, notices)
        timings["answer"] = time.perf_counter() - started - timings["retrieve"]
        verified = verify(draft, passages, lang)
        notices.extend(verified.notes)
        citations = tuple(self._checked(c) for c in verified.citations)
        timings["total"] = time.perf_counter() - started
        yield Answer(question=question, text=verified.text, refused=verified.refused,
                     citations=citations, passages=tuple(passages),
                     backend="extractive" if fallback else self.backend, fallback=fallback,
                     notices=tuple(notices), timings=timings)

    def standalone(self, question: str, history: Sequence[Any] | None) -> str:
        if not turns(history):
            return question
        rewrite = getattr(self.answerer, "rewrite", None)
        if rewrite is not None:
            try:
                text = "\n".join(f"{role}: {content}" for role, content in turns(history)[-6:])
                return str(rewrite(text, question)) or question
            except LLMError as exc:
                log.warning("rewrite by LLM failed, using the rule: %s", exc)
        return rewrite_by_rule(question, history)

    def _check(self, question: str) -> tuple[str, list[str]]:
        question = (question or "").strip()
        if not question:
            raise InputError("問題是空的，請輸入問題。 The question is empty.")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            return question[:limit], [f"問題過長，只取前 {limit} 字。 The question was truncated "
                                      f"to {limit} characters."]
        return question, []

    def _draft(self, question: str, passages: list[Passage], lang: str,
               notices: list[str]) -> Generator[str, None, tuple[str, bool]]:
        """Yields pieces; returns (draft, fell_back)."""
        pieces: list[str] = []
        try:
            for piece in self.answerer.stream(question, passages, lang):
                pieces.append(piece)
                yield piece
            return "".join(pieces), False
        except LLMError as exc:
            if self.strict:
                raise
            notices.append(f"{exc} 改用抽取式回答。 Falling back to the extractive answer.")
        text = "".join(self.extractive.stream(question, passages, lang))
        yield text
        return text, True

    def _checked(self, citation: Citation) -> Citation:
        """The quote must be the article's exact text at the stored offsets."""
        article = self.retriever.article(citation.article_id)
        if article is not None and article.body[citation.start:citation.end] != citation.quote:
            found = article.body.find(citation.quote)
            if found >= 0:
                return replace(citation, start=found, end=found + len(citation.quote))
        return citation


def _filters(filters: Filters | dict[str, Any] | None) -> Filters:
    if filters is None or isinstance(filters, Filters):
        return filters or Filters()
    ids = filters.get("article_ids")
    return Filters(after=filters.get("after") or None, before=filters.get("before") or None,
                   article_ids=tuple(ids) if ids is not None else None)
