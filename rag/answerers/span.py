"""The short answer span inside quoted sentences, for reading-comprehension scoring (DRCD)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answerers.evidence import presence
from rag.answerers.question import analyse
from rag.text import fold

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
    query = analyse(question)
    for kind in query.kinds:
        pattern = _SPAN_PATTERNS.get(kind)
        m = pattern.search(text) if pattern else None
        if m and m.group(0).strip():
            return m.group(0).strip()
    clauses = [c.strip() for c in _CLAUSE.findall(text) if c.strip()]
    if not clauses:
        return text
    groups = list(query.alternatives().values())
    best = max(clauses, key=lambda c: (sum(max(presence(w, fold(c)) for w in g) for g in groups),
                                       -len(c)))
    asked = set(fold(question))
    start, end = 0, len(best)
    while start < end and fold(best[start]) in asked:
        start += 1
    while end > start and fold(best[end - 1]) in asked:
        end -= 1
    return best[start:end] or best
