"""The public API: `Assistant.ask` / `Assistant.stream` -> Answer with verified citations."""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import replace
from typing import Any

from rag import digest, mentions
from rag.answerers import FALLBACK, Answerer, get_answerer, resolve_name
from rag.answerers.question import analyse
from rag.answerers.thesaurus import widen
from rag.cite import verify
from rag.config import Settings
from rag.digest import asks_latest, summary_topic
from rag.errors import InputError, LLMError
from rag.followup import FollowUp, absent_words, resolve, switched_topic
from rag.lang import Lang, detect_language
from rag.mentions import searched_topic
from rag.prompt import refusal
from rag.retrieve import Retriever
from rag.rewrite import turns
from rag.safety import clean_question, mask_instructions
from rag.schema import Answer, Article, Citation, Draft, Filters, Passage
from rag.smalltalk import SHOWN, kind_of, reply, without_pleasantries

log = logging.getLogger(__name__)
RELATED = 3  # passages a refusal shows as related (never cited)


class AnswerStream:
    """Draft pieces while an answer is being made (iterate), then the verified Answer
    (`answer()`), which is authoritative: it may differ from the draft (a fallback, a removed
    marker). `close()` stops the work mid-way (the UI's Stop button)."""

    def __init__(self, steps: Generator[str, None, Answer]) -> None:
        self._steps = steps
        self._answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        if self._answer is None:
            self._answer = yield from self._steps

    def answer(self) -> Answer:
        for _ in self:
            pass
        assert self._answer is not None, "the stream was closed before its answer"
        return self._answer

    def close(self) -> None:
        self._steps.close()


class Assistant:
    """Retrieve, answer, verify. Thread-safe for concurrent questions (the UI serves many)."""

    def __init__(self, settings: Settings, retriever: Retriever | None = None,
                 answerer: str | None = None, strict: bool = False) -> None:
        self.settings = settings
        self.retriever = retriever or Retriever(settings)
        self.strict = strict
        self.backend = resolve_name(settings, answerer)
        embedder = self.retriever.embedder
        self.fallback = get_answerer(FALLBACK, settings, embedder=embedder)
        self.answerer: Answerer = (self.fallback if self.backend == FALLBACK
                                   else get_answerer(self.backend, settings, embedder=embedder))

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> Assistant:
        return cls(settings or Settings.from_env(), **kwargs)

    @property
    def label(self) -> str:
        return self.answerer.label

    def warm_up(self, examples: Sequence[str] = ("高雄", "Kaohsiung")) -> None:
        """Load now what a first question would wait for: the embedding model and the indexes,
        the English lexicon (1.7 s on the first English question) and the offline answer
        models. Nothing is sent to an LLM server."""
        for question in examples:
            lang = detect_language(question)
            passages, _ = self.retriever.search(question, self.settings.top_k, lang=lang)
            self.fallback.respond(question, passages, lang).draft()

    def ask(self, question: str, history: Sequence[Any] | None = None,
            filters: Filters | dict[str, Any] | None = None) -> Answer:
        return self.stream(question, history, filters).answer()

    def stream(self, question: str, history: Sequence[Any] | None = None,
               filters: Filters | dict[str, Any] | None = None) -> AnswerStream:
        """Iterate for draft pieces as they arrive, then `.answer()` for the verified Answer.
        Input errors (an empty question, a bad date) are raised here, before any work."""
        question, notices = self._check(question)
        return AnswerStream(self._steps(question, notices, history, _filters(filters)))

    def _steps(self, question: str, notices: list[str], history: Sequence[Any] | None,
               filters: Filters) -> Generator[str, None, Answer]:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        lang = detect_language(question)  # once per question; everything below is told
        chat = kind_of(question)
        if chat is not None:
            return self._chat(question, chat, lang, notices)
        topic = searched_topic(question)
        if topic is not None:
            return self._mentions(question, topic, filters, lang, notices)
        if asks_latest(question):
            return self._latest(question, lang, notices)
        topic = summary_topic(question)
        if topic is not None:
            return self._digest(question, topic, filters, lang, notices)
        asked = without_pleasantries(question)  # 你好，橘郡郡長是誰？ was refused
        follow = self.follow_up(asked, history, lang)
        standalone = follow.question
        if standalone != asked:
            notices.append(f"改寫後的問題 rewritten question: {standalone}")
        passages, retrieval_notes = self._search(standalone, follow, filters, lang)
        notices.extend(retrieval_notes)
        timings["retrieve"] = time.perf_counter() - started
        if not passages:
            timings["total"] = timings["retrieve"]
            return self._refusal(Answer(
                question=question, text=refusal(lang), refused=True, backend=self.backend,
                notices=tuple(notices), timings=timings), standalone, filters, lang)
        draft, fell_back = yield from self._draft(standalone, passages, lang, notices)
        timings["answer"] = time.perf_counter() - started - timings["retrieve"]
        verified = verify(draft, passages, lang)
        notices.extend(verified.notes)
        citations = tuple(self._checked(c) for c in verified.citations)
        timings["total"] = time.perf_counter() - started
        answer = Answer(question=question, text=verified.text, refused=verified.refused,
                        citations=citations, passages=tuple(passages),
                        backend=FALLBACK if fell_back else self.backend, fallback=fell_back,
                        notices=tuple(notices), timings=timings)
        return self._refusal(answer, standalone, filters, lang) if answer.refused else answer

    def _chat(self, question: str, kind: str, lang: Lang, notices: list[str]) -> Answer:
        """The reply to a greeting, thanks, "what can you do" or "which articles"."""
        started = time.perf_counter()
        n_articles, newest = self.retriever.catalog(SHOWN)
        return Answer(question=question, text=reply(kind, lang, n_articles, newest),
                      refused=False, backend=self.backend, notices=tuple(notices),
                      timings={"total": time.perf_counter() - started}, conversational=True)

    def _mentions(self, question: str, topic: str, filters: Filters, lang: Lang,
                  notices: list[str]) -> Answer:
        """The articles that mention `topic`, one quoted sentence each (rag/mentions.py),
        searched among three times the usual passages so that more articles can show."""
        started = time.perf_counter()
        passages, notes = self._find(topic, filters, lang, k=3 * self.settings.top_k)
        found = mentions.pick(passages, mentions.terms(topic, lang))
        shown = tuple(next(p for p in passages if p.chunk_id == c.chunk_id) for c in found)
        return Answer(question=question, text=mentions.reply(topic, lang, found),
                      refused=not found, citations=tuple(self._checked(c) for c in found),
                      passages=shown,
                      backend=self.backend, notices=(*notices, *notes),
                      timings={"total": time.perf_counter() - started},
                      related=() if found else tuple(passages[:RELATED]))

    def _digest(self, question: str, topic: str, filters: Filters, lang: Lang,
                notices: list[str]) -> Answer:
        """The lead sentences of the best-ranked article that holds the topic's words
        (rag/digest.py), or a refusal when none of the retrieved ones does."""
        started = time.perf_counter()
        passages, notes = self._find(topic, filters, lang)
        words = widen(analyse(topic, lang)).alternatives()
        ranked = (self.retriever.article(a) for a in dict.fromkeys(p.article_id for p in passages))
        article = next((a for a in ranked if a is not None and digest.covers(a, words)), None)
        return self._summary(question, article, passages, lang, (*notices, *notes), started)

    def _latest(self, question: str, lang: Lang, notices: list[str]) -> Answer:
        """The newest article's lead sentences (最新的文章在講什麼？, "What's new?")."""
        started = time.perf_counter()
        _, newest = self.retriever.catalog(1)
        return self._summary(question, newest[0] if newest else None, [], lang, tuple(notices),
                             started)

    def _summary(self, question: str, article: Article | None, passages: Sequence[Passage],
                 lang: Lang, notices: tuple[str, ...], started: float) -> Answer:
        """The article's lead sentences, each cited (rag/digest.py); a refusal, with the
        passages as related, when there is no article or it has no lead sentence."""
        quoted = digest.lead(article) if article is not None else []
        timings = {"total": time.perf_counter() - started}
        if article is None or not quoted:
            return Answer(question=question, text=refusal(lang), refused=True,
                          backend=self.backend, notices=notices, timings=timings,
                          related=tuple(passages[:RELATED]))
        return Answer(question=question, text=digest.reply(article, lang, quoted),
                      refused=False, citations=tuple(quoted),
                      passages=tuple(p for p in passages if p.article_id == article.article_id),
                      backend=self.backend, notices=notices, timings=timings)

    def follow_up(self, question: str, history: Sequence[Any] | None,
                  lang: Lang | None = None) -> FollowUp:
        """The question as asked in its conversation (rag/followup.py); an answerer that can
        rewrite (an LLM) words the stand-alone question, the rule decides the articles."""
        follow = self._topic(question, resolve(question, history, lang), lang)
        if not turns(history) or not self.answerer.can_rewrite:
            return follow
        try:
            text = "\n".join(f"{role}: {content}" for role, content in turns(history)[-6:])
            return FollowUp(self.answerer.rewrite(text, question) or follow.question,
                            follow.articles, follow.kind)
        except LLMError as exc:
            log.warning("rewrite by LLM failed, using the rule: %s", exc)
        return follow

    def _topic(self, question: str, follow: FollowUp, lang: Lang | None) -> FollowUp:
        """An unanchored elliptical follow-up that changed topic is asked as it is, in the whole
        index (rag/followup.py's `switched_topic`: a word of its own the previous articles lack
        and another article has). One extra search, only when such a word is missing."""
        if not follow.own:
            return follow
        bodies = [a.body for a in map(self.retriever.article, follow.articles) if a is not None]
        missing = absent_words(follow.own, bodies)
        if not missing:
            return follow
        found, _ = self._find(question, Filters(), lang or detect_language(question))
        return FollowUp(question) if switched_topic(missing, follow.articles, found) else follow

    def _search(self, question: str, follow: FollowUp, filters: Filters,
                lang: Lang) -> tuple[list[Passage], list[str]]:
        """An elliptical follow-up is looked up in the articles the previous answer came from
        (within the user's filters); anything else, and a follow-up whose articles the filters
        exclude, in the whole index."""
        narrowed = _narrowed(filters, follow.articles)
        if narrowed is not None:
            passages, notes = self._find(question, narrowed, lang)
            if passages:
                return passages, [*notes, "延續上一題的文章 Following up in the article the "
                                          "previous answer came from."]
        return self._find(question, filters, lang)

    def _find(self, question: str, filters: Filters, lang: Lang, k: int | None = None
              ) -> tuple[list[Passage], list[str]]:
        """Retrieved passages with instruction-like lines masked: documents are data, so no
        answerer, citation or 'related' list ever sees them."""
        passages, notes = self.retriever.search(question, k or self.settings.top_k, filters,
                                                lang=lang)
        passages, masked = mask_instructions(passages)
        return passages, [*notes, *masked]

    def _refusal(self, answer: Answer, question: str, filters: Filters, lang: Lang) -> Answer:
        """A refusal that helps: the closest passages it saw (never cited), and whether the
        filters are why (the same question without them is answered by the extractive
        answerer, which is local and cheap even when the configured one is an LLM)."""
        related = answer.passages[:RELATED]
        if not filters.active:
            return replace(answer, related=related)
        unfiltered, _ = self._find(question, Filters(), lang)
        if not unfiltered:
            return replace(answer, related=related)
        response = self.fallback.respond(question, unfiltered, lang)
        for _ in response:
            pass
        if verify(response.draft(), unfiltered, lang).refused:
            return replace(answer, related=related)
        note = ("篩選條件排除了可能相關的文章，請放寬或移除篩選。 The filters exclude articles "
                "that may answer this; widen or remove them.")
        return replace(answer, related=related or tuple(unfiltered[:RELATED]),
                       filters_excluded=True, notices=(*answer.notices, note))

    def standalone(self, question: str, history: Sequence[Any] | None) -> str:
        """The stand-alone form of a follow-up (the question itself without history)."""
        return self.follow_up(question, history).question

    def _check(self, question: str) -> tuple[str, list[str]]:
        if question is not None and not isinstance(question, str):
            raise InputError(f"問題必須是文字，收到 {type(question).__name__}。 "
                             f"The question must be a str, not {type(question).__name__}.")
        question, notices = clean_question(question or "")  # lone surrogates, controls
        question = question.strip()
        if not question:
            raise InputError("問題是空的，請輸入問題。 The question is empty.")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            return question[:limit], [*notices, f"問題過長，只取前 {limit} 字。 The question was "
                                      f"truncated to {limit} characters."]
        return question, notices

    def _draft(self, question: str, passages: list[Passage], lang: Lang,
               notices: list[str]) -> Generator[str, None, tuple[Draft, bool]]:
        """Yields pieces; returns (draft, fell_back)."""
        try:
            response = self.answerer.respond(question, passages, lang)
            yield from response
            return response.draft(), False
        except LLMError as exc:
            if self.strict:
                raise
            notices.append(f"{exc} 改用抽取式回答。 Falling back to the extractive answer.")
        response = self.fallback.respond(question, passages, lang)
        yield from response
        return response.draft(), True

    def _checked(self, citation: Citation) -> Citation:
        """The quote must be the article's exact text at the stored offsets."""
        article = self.retriever.article(citation.article_id)
        if article is not None and article.body[citation.start:citation.end] != citation.quote:
            found = article.body.find(citation.quote)
            if found >= 0:
                return replace(citation, start=found, end=found + len(citation.quote))
        return citation


def _narrowed(filters: Filters, articles: Sequence[str]) -> Filters | None:
    """The filters restricted to `articles` (those the filters allow); None when none remain."""
    allowed = [a for a in articles if filters.article_ids is None or a in filters.article_ids]
    if not allowed:
        return None
    return Filters(filters.after, filters.before, tuple(allowed))


def _filters(filters: Filters | dict[str, Any] | None) -> Filters:
    if filters is None or isinstance(filters, Filters):
        return filters or Filters()
    ids = filters.get("article_ids")
    return Filters(after=filters.get("after") or None, before=filters.get("before") or None,
                   article_ids=tuple(ids) if ids is not None else None)
