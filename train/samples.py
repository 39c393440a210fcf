"""Cases turned into feature tables with labels, by the same code the answerer runs."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.answerers.evidence import distinct_units
from rag.answerers.features import Table, table
from rag.answerers.question import Query, analyse
from rag.answerers.similarity import SentenceVectors
from rag.text import fold
from train.build import Case


@dataclass(frozen=True, kw_only=True)
class Sample:
    case: Case
    query: Query
    table: Table
    holds: np.ndarray  # per sentence: it contains a gold answer
    labels: np.ndarray  # per sentence, for the selector: 1 answers, 0 not, -1 ambiguous


def sample(case: Case, vectors: SentenceVectors) -> Sample:
    passages = list(case.passages)
    units = distinct_units(passages)
    sims = vectors.similarities(case.question, [s.text for _, s in units])
    query = analyse(case.question)
    tab = table(query, passages, units, [float(s) for s in sims])
    answers = [fold(a) for a in case.item.answers]
    holds = np.array([any(a in fold(span.text) for a in answers) for _, span in units],
                     dtype=bool)
    labels = np.zeros(len(units), dtype=np.int8)
    if case.answerable:
        for i, (n, _) in enumerate(units):
            if holds[i]:
                labels[i] = 1 if passages[n - 1].article_id == case.item.pid else -1
    return Sample(case=case, query=query, table=tab, holds=holds, labels=labels)


def answer_chars(text: str) -> list[str]:
    return [ch for ch in fold(text) if not re.fullmatch(r"[^\w]|_", ch)]


def char_f1(prediction: str, reference: str) -> float:
    """Character F1 after folding, punctuation dropped (the DRCD / CMRC 2018 convention)."""
    pred, ref = answer_chars(prediction), answer_chars(reference)
    if not pred or not ref:
        return float(pred == ref)
    overlap = sum((Counter(pred) & Counter(ref)).values())
    if not overlap:
        return 0.0
    p, r = overlap / len(pred), overlap / len(ref)
    return 2 * p * r / (p + r)


def best_f1(prediction: str, references: Sequence[str]) -> float:
    return max((char_f1(prediction, r) for r in references), default=0.0)


def exact(prediction: str, references: Sequence[str]) -> float:
    pred = answer_chars(prediction)
    return float(any(pred == answer_chars(r) for r in references))
