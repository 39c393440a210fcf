"""The learned reader: the selector scores every shown sentence, the answerability model says
whether the best one really answers; both are trained by `python -m train` (docs/answerer.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.answerers import model as models
from rag.answerers.evidence import completion, in_article
from rag.answerers.features import ANSWER_FEATURES, SENTENCE_FEATURES, Table, answer_row, table
from rag.answerers.question import Query
from rag.schema import Passage
from rag.text import Span, fold

SELECTOR = "selector"
JUDGE = "answerability"


@dataclass(frozen=True, kw_only=True)
class Reading:
    """What the reader concluded for one question over the shown passages."""

    table: Table
    probs: np.ndarray  # P(this sentence answers), per row of the table
    best: int | None  # row of the best sentence; None when no sentence was shown
    second: int | None  # the runner-up: a different sentence, or None
    p_answer: float  # P(the best sentence holds the asked fact)
    answered: bool  # p_answer reached the answerability model's threshold

    @property
    def units(self) -> list[tuple[int, Span]]:
        return self.table.units


class Reader:
    """Selector + answerability model; `read` is pure given the similarities."""

    def __init__(self, selector: models.Model, judge: models.Model,
                 threshold: float | None = None) -> None:
        self.selector = selector
        self.judge = judge
        self.threshold = judge.threshold if threshold is None else threshold
        self._sel_cols = selector.columns(SENTENCE_FEATURES)
        self._judge_cols = judge.columns(ANSWER_FEATURES)

    @property
    def near_best(self) -> float:
        """Quote the runner-up too when it scores this share of the best (chosen with the
        threshold on validation; above 1: never)."""
        return self.judge.policy.get("near_best", 1.01)

    @property
    def needs_similarity(self) -> bool:
        """True when a model reads the question-sentence embedding similarity."""
        return bool({"sim", "sim_rel"} & self.selector.reads or "best_sim" in self.judge.reads)

    @classmethod
    def shipped(cls) -> Reader:
        """The models in rag/answerers/models/ (read once per process)."""
        return cls(models.load(SELECTOR), models.load(JUDGE))

    def read(self, query: Query, passages: Sequence[Passage], units: list[tuple[int, Span]],
             sims: Sequence[float]) -> Reading:
        return self.decide(table(query, passages, units, sims), query, passages)

    def decide(self, tab: Table, query: Query, passages: Sequence[Passage]) -> Reading:
        units = tab.units
        if not units:
            return Reading(table=tab, probs=np.zeros(0), best=None, second=None, p_answer=0.0,
                           answered=False)
        probs = self.selector.predict(tab.matrix[:, self._sel_cols])
        best = int(np.argmax(probs))
        second = runner_up(units, passages, probs, best)
        row = answer_row(tab, probs, best, second, passages, query)
        p_answer = float(self.judge.predict(row[None, self._judge_cols])[0])
        return Reading(table=tab, probs=probs, best=best, second=second, p_answer=p_answer,
                       answered=p_answer >= self.threshold)


def quoted(reading: Reading, query: Query, passages: Sequence[Passage], near_best: float,
           complete: bool = True) -> list[int]:
    """Rows to quote, in text order: the best sentence; the neighbour that completes it when a
    news page cut it short (`evidence.completion`); the runner-up when the selector rates it
    at least `near_best` of the best (two close candidates: quoting both keeps the answer)."""
    if reading.best is None or not reading.answered:
        return []
    rows = [reading.best]
    if complete:
        neighbour = completion(reading.table.evidence.candidates, reading.best, query)
        if neighbour is not None:
            rows.append(next(i for i, c in enumerate(reading.table.evidence.candidates)
                             if c is neighbour))
    second = reading.second
    if second is not None and reading.probs[second] >= near_best * reading.probs[reading.best]:
        rows.append(second)
    return _distinct(rows, reading.units, passages)


def _distinct(rows: list[int], units: list[tuple[int, Span]], passages: Sequence[Passage]
              ) -> list[int]:
    """Drop rows quoting the same article text as an earlier one (overlapping chunks); keep
    passage-then-offset order so the quote reads as the article does."""
    seen: set[tuple[str, int]] = set()
    kept = []
    for r in rows:
        key = in_article(*units[r], passages)[:2]
        if key not in seen:
            seen.add(key)
            kept.append(r)
    return sorted(kept, key=lambda r: (units[r][0], units[r][1].start))


def runner_up(units: list[tuple[int, Span]], passages: Sequence[Passage], probs: np.ndarray,
              best: int) -> int | None:
    """The best-scored sentence that is not the best one again: not the same text, and not a
    piece of the same article text (a chunk edge cuts a sentence that the next chunk shows
    whole)."""
    same = fold(units[best][1].text)
    order = np.argsort(-probs, kind="stable")
    return next((int(i) for i in order if int(i) != best
                 and fold(units[int(i)][1].text) != same
                 and not _overlap(units[int(i)], units[best], passages)), None)


def _overlap(a: tuple[int, Span], b: tuple[int, Span], passages: Sequence[Passage]) -> bool:
    article_a, lo_a, hi_a = in_article(*a, passages)
    article_b, lo_b, hi_b = in_article(*b, passages)
    return article_a == article_b and lo_a < hi_b and lo_b < hi_a
