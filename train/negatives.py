"""Answerable-looking negatives: a question whose year, number, place or person is swapped for
another one from the same article, so that the sentence that answered it no longer does."""

from __future__ import annotations

import logging
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rag.schema import Filters
from rag.text import fold, split_sentences
from train.data import Item, Paragraph

_YEAR = re.compile(r"(?<!\d)(?:1[5-9]\d\d|20\d\d)(?!\d)")
_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])(?=\s*([^\W\d_a-zA-Z]))")
NAME_FLAGS = {"nr": "person", "nrfg": "person", "nrt": "person", "ns": "place", "nt": "org"}
# A swapped question is kept only if no sentence of the article that has the new value also
# covers this share of the question's other character bigrams: such a sentence might answer it.
MAX_OTHER_COVER = 0.5
# A name must be tagged so at least twice in the article (jieba tags a stray 毛巾 as a person
# once); a year or a number once.
_MIN_TAGS = {"year": 1}


@dataclass(frozen=True, kw_only=True)
class Swap:
    item: Item
    question: str
    kind: str  # year | number | person | place | org
    old: str
    new: str


def answering_sentence(item: Item, text: str) -> str:
    """The sentence of the gold paragraph that holds the reference answer."""
    for s in split_sentences(text):
        if s.start <= item.answer_start < s.end:
            return s.text
    return ""


def slots(text: str) -> list[tuple[str, str, int]]:
    """(kind, value, start) of the swappable things in `text`: years, numbers with a unit
    character after them (the unit stays), and jieba-tagged people, places, organisations."""
    found: list[tuple[str, str, int]] = [("year", m.group(0), m.start())
                                         for m in _YEAR.finditer(text)]
    years = {v for _, v, _ in found}
    found += [(f"number:{m.group(1)}", m.group(0), m.start()) for m in _NUMBER.finditer(text)
              if m.group(0) not in years]
    folded = fold(text)
    if len(folded) == len(text):  # fold maps character to character: offsets carry over
        pos = 0
        for word, flag in _pos_cut(folded):
            kind = NAME_FLAGS.get(flag)
            if kind and len(word) >= 2:
                found.append((kind, text[pos:pos + len(word)], pos))
            pos += len(word)
    return found


def swap(item: Item, gold_text: str, article_texts: Sequence[str], rng: random.Random
         ) -> Swap | None:
    """One swapped question for `item`, or None when nothing can be swapped safely."""
    answering = fold(answering_sentence(item, gold_text))
    if not answering:
        return None
    folded_gold = fold(gold_text)
    asked = [s for s in slots(item.question) if fold(s[1]) in folded_gold]
    # jieba tags a name differently in different places (馬祖: a person here, a place
    # there): a value counts as the kind it is tagged most often in the article.
    tagged: dict[str, Counter[str]] = {}
    for text in article_texts:
        for kind, value, _ in slots(text):
            tagged.setdefault(value, Counter())[kind] += 1
    kind_of = {value: kind for value, counts in tagged.items()
               for kind, times in counts.most_common(1) if times >= _MIN_TAGS.get(kind, 2)}
    options = []
    for kind, old, start in asked:
        if kind_of.get(old) != kind and not kind.startswith("number"):
            continue
        for new in sorted(v for v, k in kind_of.items() if k == kind or (
                kind.startswith("number") and v in tagged and kind in tagged[v])):
            if _safe(fold(old), fold(new), answering):
                options.append((kind, old, start, new))
    rng.shuffle(options)
    # years and numbers first: the near misses users meet most (the 2019 figure for 2021)
    options.sort(key=lambda o: 0 if o[0] == "year" or o[0].startswith("number") else 1)
    sentences = [fold(s.text) for t in article_texts for s in split_sentences(t)]
    for kind, old, start, new in options:
        question = item.question[:start] + new + item.question[start + len(old):]
        if not _answerable_elsewhere(fold(question), fold(new), sentences):
            return Swap(item=item, question=question, kind=kind.split(":")[0], old=old, new=new)
    return None


def _safe(old: str, new: str, answering: str) -> bool:
    """The new value differs, is not part of the old one, and the answering sentence lacks it."""
    return new != old and new not in old and old not in new and new not in answering


def _answerable_elsewhere(question: str, new: str, sentences: Sequence[str]) -> bool:
    rest = question.replace(new, " ")
    grams = {rest[i:i + 2] for i in range(len(rest) - 1)
             if re.fullmatch(r"\w\w", rest[i:i + 2])}
    if not grams:
        return True
    return any(new in s and sum(1 for g in grams if g in s) / len(grams) >= MAX_OTHER_COVER
               for s in sentences)


@lru_cache(maxsize=65536)
def _pos_cut(folded: str) -> tuple[tuple[str, str], ...]:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    return tuple((p.word, p.flag) for p in jieba.posseg.lcut(folded))


def swaps_for(items: Sequence[Item], paragraphs: Sequence[Paragraph], seed: int
              ) -> dict[str, Swap]:
    """The swapped question of every item that has one, by question id; one random stream
    over all items in file order, so training and evaluation make the same swaps."""
    by_pid = {p.pid: p for p in paragraphs}
    articles: dict[str, list[str]] = {}
    for p in paragraphs:
        articles.setdefault(p.article, []).append(p.text)
    rng = random.Random(seed)
    out = {}
    for item in items:
        found = swap(item, by_pid[item.pid].text, articles[item.article], rng)
        if found is not None:
            out[item.qid] = found
    return out


@dataclass(frozen=True)
class Ask:
    """One unanswerable question to ask: "removed" searches without the gold paragraph,
    "swapped" asks the swapped question over everything."""

    item: Item
    question: str
    kind: str  # removed | swapped
    filters: Filters | None


def negative_asks(chosen: Sequence[Item], paragraphs: Sequence[Paragraph],
                  swaps: dict[str, Swap], limit: int | None = None) -> list[Ask]:
    """The removed asks of `chosen` (the first `limit`), then their swapped asks (the first
    `limit` that have one). Callers drop a removed ask whose passages still answer it
    (train.build.ambiguous)."""
    pids = tuple(p.pid for p in paragraphs)
    n = len(chosen) if limit is None else limit
    asks = [Ask(i, i.question, "removed", Filters(article_ids=tuple(p for p in pids
                                                                     if p != i.pid)))
            for i in chosen[:n]]
    asks += [Ask(i, swaps[i.qid].question, "swapped", None) for i in chosen
             if i.qid in swaps][:n]
    return asks
