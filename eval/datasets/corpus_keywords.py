"""`corpus-keywords`: the gold set's Chinese questions asked as their keywords (林欽榮 檳城 行政
議員 交流), the way people type a search; same collection, answers and splits as `corpus`."""

from __future__ import annotations

from dataclasses import replace

from eval.dataset import GoldItem
from eval.datasets.corpus import CorpusDataset
from rag.answerers.question import keywords


class CorpusKeywordsDataset(CorpusDataset):
    name = "corpus-keywords"
    description = "the gold set's Chinese questions asked as keywords (no question words)"

    def questions(self, items: list[GoldItem]) -> list[GoldItem]:
        """Chinese items only: an English question's keywords are not what an English user
        types (its words are read through CC-CEDICT, not cut by jieba)."""
        return [replace(i, question=keywords(i.question)) for i in items if i.lang != "en"]


CORPUS_KEYWORDS = CorpusKeywordsDataset()
