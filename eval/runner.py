"""Running gold items through retrieval and answering; one ItemResult per question."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from eval.dataset import GoldItem
from eval.item import ItemResult

if TYPE_CHECKING:
    from rag.assistant import Assistant
    from rag.retrieve import Retriever


def run_items(items: Sequence[GoldItem], retriever: Retriever, assistant: Assistant | None,
              k: int = 10, progress: Callable[[int], None] | None = None,
              answer_limit: int | None = None) -> list[ItemResult]:
    """Retrieve `k` passages for every item; ask the assistant too (the first `answer_limit`
    items only, when given: retrieval is cheap, answering is not)."""
    results = []
    for n, item in enumerate(items):
        t0 = time.perf_counter()
        passages = retriever.retrieve(item.question, k=k)
        t1 = time.perf_counter()
        answer = None
        if assistant is not None and (answer_limit is None or n < answer_limit):
            answer = assistant.ask(item.question)
        t2 = time.perf_counter()
        seconds = {"retrieve": t1 - t0}
        if answer is not None:
            seconds.update({"answer": t2 - t1, **{f"assistant.{stage}": secs
                                                  for stage, secs in answer.timings.items()}})
        results.append(ItemResult(
            item=item, ranked_articles=tuple(dict.fromkeys(p.article_id for p in passages)),
            ranked_texts=tuple(p.text for p in passages), answer=answer, seconds=seconds))
        if progress:
            progress(1)
    return results


def progress_bar(total: int, desc: str = "eval") -> Any:
    """A tqdm bar on a terminal, silent otherwise (use as a context manager; .update(1))."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="q", leave=False, disable=None)
