"""Training cases: every benchmark question with the passages the product's retriever shows
for it, plus two negatives made from it (gold paragraph removed; a constraint swapped)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from rag.config import Settings
from rag.retrieve import Retriever
from rag.schema import Passage
from rag.text import fold, split_sentences
from train.cache import CachedEmbedder, PassageCache
from train.data import Item, load, split_of
from train.negatives import swaps_for
from train.pools import build as build_pool

log = logging.getLogger(__name__)
TOP_K = 5  # what the product shows the answerer (Settings.top_k)
# Retrieved once per question: the retriever's candidate pool is max(3k, 30) chunks, so the
# first 5 of 10 are exactly what k=5 returns; the rest fill in for "gold removed" (the
# article's other paragraphs and near misses).
WIDE_K = 10
# A "gold removed" case is dropped when a shown sentence still has a gold answer and covers
# this share of the question's bigrams: the answer may be there after all.
AMBIGUOUS_COVER = 0.4


@dataclass(frozen=True, kw_only=True)
class Case:
    """One question as the answerer sees it, with what the right outcome is."""

    kind: str  # "answerable" | "removed" (gold paragraph gone) | "swapped" (constraint swapped)
    item: Item
    question: str
    passages: tuple[Passage, ...]
    split: str  # train | validation | test (by article)

    @property
    def answerable(self) -> bool:
        return self.kind == "answerable"

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.item.dataset}:{self.item.qid}"


def cases(settings: Settings, dataset: str, embedder: CachedEmbedder, seed: int,
          limit: int | None = None) -> list[Case]:
    """All cases of a dataset (the first `limit` questions only when given)."""
    paragraphs, items = load(dataset, settings.benchmarks_dir)
    items = items[:limit] if limit else items
    swaps = swaps_for(items, paragraphs, seed)
    retriever = Retriever(build_pool(settings, dataset), embedder=embedder)  # ingest if new
    cache = PassageCache(settings.data_dir / f"passages-{dataset}.jsonl")
    out: list[Case] = []
    for n, item in enumerate(items):
        split = split_of(item.article, seed)
        wide = _retrieve(retriever, cache, item.question, WIDE_K)
        out.append(Case(kind="answerable", item=item, question=item.question,
                        passages=tuple(wide[:TOP_K]), split=split))
        removed = [p for p in wide if p.article_id != item.pid][:TOP_K]
        if removed and not ambiguous(item, removed):
            out.append(Case(kind="removed", item=item, question=item.question,
                            passages=tuple(removed), split=split))
        swapped = swaps.get(item.qid)
        if swapped is not None:
            passages = _retrieve(retriever, cache, swapped.question, WIDE_K)[:TOP_K]
            out.append(Case(kind="swapped", item=item, question=swapped.question,
                            passages=tuple(passages), split=split))
        if n % 500 == 499:
            cache.save()
            embedder.save()
            log.info("%s: %d of %d questions retrieved", dataset, n + 1, len(items))
    cache.save()
    embedder.save()
    return out


def _retrieve(retriever: Retriever, cache: PassageCache, question: str, k: int
              ) -> list[Passage]:
    found = cache.get(question, k)
    if found is None:
        found = retriever.retrieve(question, k=k)
        cache.put(question, k, found)
    return found


def ambiguous(item: Item, passages: Sequence[Passage]) -> bool:
    """A shown sentence still has a gold answer and much of the question: not a clean
    "not in the articles" case."""
    answers = [fold(a) for a in item.answers]
    q = fold(item.question)
    grams = {q[i:i + 2] for i in range(len(q) - 1)}
    for p in passages:
        for s in split_sentences(p.text):
            text = fold(s.text)
            if any(a in text for a in answers) and grams and \
                    sum(1 for g in grams if g in text) / len(grams) >= AMBIGUOUS_COVER:
                return True
    return False
