"""The short answer span inside quoted sentences, for reading-comprehension scoring (DRCD,
CMRC): the learned span model (rag/answerers/short.py) over every quoted sentence."""

from __future__ import annotations

from collections.abc import Sequence

from rag.answerers.question import analyse
from rag.answerers.short import scored_span, shipped


def shortest_span(question: str, sentences: Sequence[str]) -> str:
    """The best-scored candidate span of any of `sentences` ("" when there is none)."""
    model = shipped()
    query = analyse(question)
    found = [scored_span(model, query, s) for s in sentences]
    return max(found, key=lambda f: f[1])[0] if found else ""
