"""One evaluated question: its gold item and what retrieval and the assistant returned."""

from __future__ import annotations

from dataclasses import dataclass, field

from eval.dataset import GoldItem
from rag.schema import Answer


@dataclass(frozen=True, kw_only=True)
class ItemResult:
    """What the metrics in eval/metric_table.py read; `answer` is None when only retrieved."""

    item: GoldItem
    ranked_articles: tuple[str, ...]  # distinct article ids of the retrieved passages, best first
    ranked_texts: tuple[str, ...]  # the retrieved passages' texts, best first
    answer: Answer | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # per timed stage
