"""Running a gold set through retrieval and answering; one ItemResult per question."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eval import metrics
from eval.dataset import GoldItem
from rag.assistant import Assistant
from rag.retrieve import Retriever
from rag.schema import Answer


@dataclass
class ItemResult:
    item: GoldItem
    ranked_articles: list[str]
    ranked_texts: list[str]
    answer: Answer | None
    seconds: dict[str, float] = field(default_factory=dict)

    def scores(self) -> dict[str, Any]:
        """Per-item metric values (see eval/metrics.py for the definitions)."""
        it, ans = self.item, self.answer
        out: dict[str, Any] = {}
        if it.answerable:
            out["article_hit@1"] = metrics.hit_at_k(self.ranked_articles, it.article_ids, 1)
            out["article_hit@5"] = metrics.hit_at_k(self.ranked_articles, it.article_ids, 5)
            out["article_mrr@10"] = metrics.reciprocal_rank(self.ranked_articles, it.article_ids)
            out["article_ndcg@10"] = metrics.ndcg_at_k(self.ranked_articles, it.article_ids)
            out["evidence_hit@5"] = metrics.evidence_hit_at_k(self.ranked_texts, it.evidence, 5)
            out["evidence_mrr@10"] = metrics.evidence_reciprocal_rank(self.ranked_texts,
                                                                      it.evidence)
        if ans is None:
            return out
        out["refused"] = ans.refused
        out["answer_chars"] = len(ans.text)
        if it.answerable:
            out["key_fact_accuracy"] = float(
                not ans.refused and metrics.key_fact_accuracy(ans.text, it.key_facts))
            out["char_f1"] = metrics.max_over_refs(metrics.char_f1, ans.text, it.evidence)
            cited = [_cited_text(ans, c.n) for c in ans.citations]
            if cited:
                out["citation_precision"] = metrics.citation_precision(cited, it.evidence)
            out["citation_recall"] = float(metrics.citation_recall_item(cited, it.evidence))
        return out


def _cited_text(answer: Answer, n: int) -> str:
    """The passage a citation points into (its quote lies inside it)."""
    citation = next(c for c in answer.citations if c.n == n)
    for p in answer.passages:
        if p.article_id == citation.article_id and p.start <= citation.start < p.end:
            return p.text
    return citation.quote


def run_items(items: Sequence[GoldItem], retriever: Retriever, assistant: Assistant | None,
              k: int = 10, progress: Callable[[int], None] | None = None) -> list[ItemResult]:
    results = []
    for item in items:
        t0 = time.perf_counter()
        passages = retriever.retrieve(item.question, k=k)
        t1 = time.perf_counter()
        answer = assistant.ask(item.question) if assistant is not None else None
        t2 = time.perf_counter()
        articles = list(dict.fromkeys(p.article_id for p in passages))
        seconds = {"retrieve": t1 - t0}
        if answer is not None:
            seconds.update({"answer": t2 - t1, **{f"assistant.{k}": v
                                                  for k, v in answer.timings.items()}})
        results.append(ItemResult(item, articles, [p.text for p in passages], answer, seconds))
        if progress:
            progress(1)
    return results
