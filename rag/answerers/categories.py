"""A keyword query's category nouns: 巴赫 出生 國家 asks for a country, as 巴赫出生在哪個國家
does. The nouns come from training questions (train/categories.py)."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from rag.answerers.model import read_shipped
from rag.answerers.question import Query
from rag.text import fold

CATEGORIES_PATH = Path(__file__).parent / "models" / "categories.json"
# A question word (folded text is Simplified): a question with one already has its categories
# (the nouns right after it). 多久 and 多大 too: 觀塘明渠有多長？ is no keyword query.
_ASKING = re.compile(r"[哪几谁何怎]|什么|甚么|多[少久长大高远重深宽快]")


@lru_cache(maxsize=1)
def category_nouns() -> frozenset[str]:
    """The shipped nouns (folded, Simplified), read on first use."""
    return read_shipped(CATEGORIES_PATH, lambda data: frozenset(data["words"]),
                        ("類別名詞檔", "Category file"), "python -m train.categories")


def keyword_categories(query: Query, nouns: frozenset[str] | None = None) -> Query:
    """The query with its category nouns marked as categories when it has no question word
    (a keyword query); any other query as it is. A category need not be in the answer: the
    passages say 德國, not 國家."""
    if query.english or _ASKING.search(fold(query.text)):
        return query
    found = set(query.words) & (category_nouns() if nouns is None else nouns)
    return replace(query, categories=query.categories | found) if found else query
