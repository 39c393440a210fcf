"""The offline answerer: picks the sentences that answer the question; no text is generated."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from rag.config import Settings
from rag.prompt import annotate_relative_dates, refusal
from rag.schema import Passage
from rag.text import Span, fold, split_sentences, to_simplified

# Question-type cues: (question pattern, pattern an answering sentence tends to hold).
CUES: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "person": (re.compile(r"誰|哪位|哪一位|何人|\bwho\b", re.I),
               re.compile(r"市長|副市長|處長|局長|郡長|董事長|執行長|總裁|議員|參事|主管|主任|教授|大使"
                          r"|理事長|創辦人|部長|代表|[A-Z][a-z]+ [A-Z]")),
    "date": (re.compile(r"何時|什麼時候|哪一天|哪天|幾月|幾號|哪一年|哪年|日期|\bwhen\b|what date"
                        r"|what year", re.I),
             re.compile(r"\d{4}\s*年|\d{1,2}\s*月|[(（]?\d{1,2}[)）]?\s*日|去年|今年|明年|年底")),
    "number": (re.compile(r"多少|幾|how many|how much|what number|多大", re.I),
               re.compile(r"\d|[一二三四五六七八九十兩百千萬]+\s*(?:個|項|家|座|位|天|年|名|大|億|萬|%)")),
    "list": (re.compile(r"哪些|有哪|which|what are|list|包括", re.I), re.compile(r"、|及|與|和|,")),
    "place": (re.compile(r"哪裡|哪裏|哪個城市|哪個國家|哪國|在哪|何處|\bwhere\b", re.I),
              re.compile(r"市|縣|州|國|區|中心|城|港|館")),
}
QUESTION_WORDS = re.compile(
    r"何時|什麼時候|哪一天|哪天|幾月|幾號|哪一年|哪年|是誰|哪位|哪一位|什麼|甚麼|多少|幾|哪些|哪裡|哪個|哪國|"
    r"為什麼|為何|如何|怎麼|是否|有沒有|請問|嗎|呢|的|了|是|有|在|與|和|及")
EN_STOP = frozenset("the a an of in on at to for and or is are was were be been did does do "
                    "what who when where which how many much with by from as that this it its "
                    "about has have had according articles article".split())
LABEL = "抽取式（未設定 LLM） Extractive (no LLM configured)"


@dataclass(frozen=True)
class Candidate:
    """One sentence of a shown passage with the evidence features it is scored on."""

    n: int  # 1-based passage number
    span: Span  # sentence offsets inside the passage text
    own: float  # IDF-weighted share of the question's content terms in the sentence
    ctx: float  # the same share in the sentence's passage (title included)
    sim: float  # cosine similarity of question and sentence embeddings
    cue: float  # 1.0 when the sentence holds what the question type asks for
    english: bool

    @property
    def score(self) -> float:
        w = WEIGHTS_EN if self.english else WEIGHTS
        return (w["own"] * self.own + w["ctx"] * self.ctx + w["cue"] * self.cue
                + w["sim"] * self.sim - w["rank"] * (self.n - 1))

    @property
    def support(self) -> float:
        """How well the evidence covers the question; below the threshold we refuse."""
        w = SUPPORT_EN if self.english else SUPPORT
        return w["own"] * self.own + w["ctx"] * self.ctx + w["sim"] * self.sim + w["bias"]


# Calibrated on eval/data/gold.jsonl by grid search (maximising key-fact accuracy + 1.5 x
# refusal recall: answering an unanswerable question is the worst error). English questions
# share almost no terms with Chinese text, so they lean on the cross-lingual similarity and
# get their own offset. README "Extractive answerer" has the numbers.
WEIGHTS = {"own": 0.3, "ctx": 0.1, "cue": 0.25, "sim": 0.5, "rank": 0.02}
WEIGHTS_EN = {"own": 0.5, "ctx": 0.1, "cue": 0.1, "sim": 2.0, "rank": 0.02}
SUPPORT = {"own": 0.5, "ctx": 0.5, "sim": 0.0, "bias": 0.0}
SUPPORT_EN = {"own": 0.5, "ctx": 0.5, "sim": 0.0, "bias": 0.45}
# A Chinese question whose content terms are mostly absent from every shown passage asks
# about something the articles do not cover (a budget, an age, a population): refuse.
MAX_MISSING = 0.4


class ExtractiveAnswerer:
    """Scores every sentence of the shown passages by question-term coverage (IDF-weighted,
    Traditional/Simplified folded), cross-lingual embedding similarity, a question-type cue
    and retrieval rank; refuses when the best support is weak."""

    name = "extractive"
    label = LABEL

    def __init__(self, embedder: Any = None, threshold: float = 0.55, max_sentences: int = 2
                 ) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.max_sentences = max_sentences
        self._cache: dict[str, np.ndarray] = {}

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Any = None, **_: Any
                      ) -> ExtractiveAnswerer:
        return cls(embedder=embedder, threshold=settings.extractive_threshold)

    def stream(self, question: str, passages: Sequence[Passage], lang: str) -> Iterator[str]:
        yield self.answer(question, passages, lang)

    def answer(self, question: str, passages: Sequence[Passage], lang: str) -> str:
        chosen = self.select(question, passages)
        if not chosen:
            return refusal(lang)
        parts = []
        for c in chosen:
            p = passages[c.n - 1]
            parts.append(f"{annotate_relative_dates(c.span.text, p.date)}[{c.n}]")
        body = "".join(parts) if lang != "en" else " ".join(parts)
        if lang == "zh-Hans":
            return to_simplified(body)
        if lang == "en":
            return f"According to the articles (quoted in Chinese): {body}"
        return body

    def select(self, question: str, passages: Sequence[Passage]) -> list[Candidate]:
        """The sentences to quote, best first; [] means refuse."""
        candidates = self.candidates(question, passages)
        if not candidates:
            return []
        ranked = sorted(candidates, key=lambda c: -c.score)
        best = ranked[0]
        if best.support < self.threshold or (
                not best.english and missing_share(question, passages) > MAX_MISSING):
            return []
        limit = self.max_sentences + (1 if "list" in question_kinds(question) else 0)
        chosen = [best]
        for c in ranked[1:]:
            if len(chosen) >= limit or c.score < 0.8 * best.score:
                break
            if not any(_same_text(c, d, passages) for d in chosen):
                chosen.append(c)
        return chosen

    def candidates(self, question: str, passages: Sequence[Passage]) -> list[Candidate]:
        units = [(n, s) for n, p in enumerate(passages, start=1) for s in split_sentences(p.text)
                 if len(s.text) >= 6]
        if not units:
            return []
        q_terms = question_terms(question)
        sentence_terms = [terms(s.text) for _, s in units]
        passage_terms = {n: terms(p.title + " " + p.text) for n, p in enumerate(passages, 1)}
        idf = _idf(sentence_terms)
        sims = self._similarities(question, passages, units)
        kinds = question_kinds(question)
        english = not re.search(r"[\u3400-\u9fff]", question)
        return [
            Candidate(n, span, _coverage(q_terms, sentence_terms[i], idf),
                      _coverage(q_terms, passage_terms[n] | sentence_terms[i], idf),
                      float(sims[i]),
                      1.0 if any(CUES[k][1].search(span.text) for k in kinds) else 0.0, english)
            for i, (n, span) in enumerate(units)]

    def _similarities(self, question: str, passages: Sequence[Passage],
                      units: list[tuple[int, Span]]) -> np.ndarray:
        if self.embedder is None:
            return np.zeros(len(units), dtype=np.float32)
        q = self.embedder.embed_query(question)
        rows = []
        for n, p in enumerate(passages, start=1):
            spans = [s for m, s in units if m == n]
            if spans:
                rows.append(self._sentence_vectors(p, spans))
        return np.vstack(rows) @ q

    def _sentence_vectors(self, passage: Passage, spans: list[Span]) -> np.ndarray:
        """Sentence embeddings per chunk, cached: the same passages come back often."""
        key = f"{passage.chunk_id}:{passage.start}:{len(spans)}"
        if key not in self._cache:
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = self.embedder.embed([s.text for s in spans])
        return self._cache[key]


def missing_share(question: str, passages: Sequence[Passage]) -> float:
    """IDF-weighted share of the question's content terms found in none of the passages."""
    wanted = question_terms(question)
    if not wanted:
        return 1.0
    sentences = [terms(s.text) for p in passages for s in split_sentences(p.text)]
    shown = set().union(*(terms(p.title + " " + p.text) for p in passages))
    return 1.0 - _coverage(wanted, shown, _idf(sentences))


def _same_text(a: Candidate, b: Candidate, passages: Sequence[Passage]) -> bool:
    pa, pb = passages[a.n - 1], passages[b.n - 1]
    return pa.article_id == pb.article_id and (pa.start + a.span.start == pb.start + b.span.start)


def question_kinds(question: str) -> list[str]:
    return [kind for kind, (ask, _) in CUES.items() if ask.search(question)]


def terms(text: str) -> set[str]:
    """CJK character bigrams and Latin words/numbers of the folded text."""
    folded = fold(text)
    out = set(re.findall(r"[a-z0-9]+", folded))
    for run in re.findall(r"[\u3400-\u9fff]+", folded):
        out.update(run[i : i + 2] for i in range(len(run) - 1))
        if len(run) == 1:
            out.add(run)
    return out


def question_terms(question: str) -> set[str]:
    """Content terms: question words and stop words removed before making bigrams."""
    stripped = _folded_question_words().sub(" ", fold(fold_question(question)))
    return {t for t in terms(stripped) if t not in EN_STOP}


@lru_cache(maxsize=1)
def _folded_question_words() -> re.Pattern[str]:
    return re.compile(fold(QUESTION_WORDS.pattern))


def fold_question(question: str) -> str:
    return re.sub(r"[?？!！。，,、]", " ", question)


def _idf(docs: list[set[str]]) -> dict[str, float]:
    df: dict[str, int] = {}
    for d in docs:
        for t in d:
            df[t] = df.get(t, 0) + 1
    n = len(docs)
    return {t: math.log(1 + n / (1 + c)) for t, c in df.items()}


def _coverage(wanted: set[str], have: set[str], idf: dict[str, float]) -> float:
    if not wanted:
        return 0.0
    default = max(idf.values(), default=1.0)  # a term absent from every sentence is rare
    total = sum(idf.get(t, default) for t in wanted)
    return sum(idf.get(t, default) for t in wanted & have) / total


_SPAN_PATTERNS = {
    "date": re.compile(r"\d{2,4}\s*年(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*日)?"
                       r"|\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?|[(（]?\d{1,2}[)）]?\s*日"
                       r"|[一二三四五六七八九十〇零百千]+年"),
    "number": re.compile(r"(?:約|近|逾|超過)?\d[\d,.]*\s*(?:%|[^\W\d_]?)"
                         r"|[一二三四五六七八九十百千萬億兩]+\s*(?:個|項|家|座|位|天|年|名|大|億|萬|人|次|種)"),
}
_CLAUSE = re.compile(r"[^，,、；;：:。！？!?]+")


def shortest_span(question: str, sentences: Sequence[str]) -> str:
    """A short answer span from the quoted sentences: a date or number match for such
    questions, else the clause sharing most terms with the question, trimmed of the
    characters it repeats from the question (the DRCD/CMRC reading-comprehension convention)."""
    text = "".join(sentences)
    if not text:
        return ""
    for kind in question_kinds(question):
        pattern = _SPAN_PATTERNS.get(kind)
        m = pattern.search(text) if pattern else None
        if m and m.group(0).strip():
            return m.group(0).strip()
    wanted = question_terms(question)
    clauses = [c.strip() for c in _CLAUSE.findall(text) if c.strip()]
    if not clauses:
        return text
    best = max(clauses, key=lambda c: (len(terms(c) & wanted), -len(c)))
    asked = set(fold(question))
    start, end = 0, len(best)
    while start < end and fold(best[start]) in asked:
        start += 1
    while end > start and fold(best[end - 1]) in asked:
        end -= 1
    return best[start:end] or best
