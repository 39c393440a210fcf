"""Gold datasets: the corpus Q&A file and its item type, with input errors that say how to fix."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.errors import GoldDataError

GOLD_PATH = Path(__file__).parent / "data" / "gold.jsonl"
REQUIRED = ("id", "question", "answerable", "key_facts", "article_ids", "evidence", "category")
# "tune": items the answerer's weights and thresholds may be chosen on; "heldout": items nothing
# is fitted to, the honest figures (issue 11). Items without a split are tuning items.
SPLITS = ("tune", "heldout")


@dataclass(frozen=True, kw_only=True)
class GoldItem:
    """One question and what a right answer needs; a dataset fills the fields it has."""

    id: str
    question: str
    answerable: bool
    key_facts: tuple[tuple[str, ...], ...] = ()
    article_ids: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    category: str = ""
    lang: str = "zh-Hant"
    split: str = "tune"
    answers: tuple[str, ...] = ()  # short reference answers (SQuAD-style benchmarks)

    def __post_init__(self) -> None:
        if self.split not in SPLITS:
            raise GoldDataError(
                f"題目 {self.id} 的 split 無效：{self.split!r}（只能是 {' 或 '.join(SPLITS)}）。 "
                f"Item {self.id}: split must be one of {SPLITS}, got {self.split!r}.")


def load_gold(path: Path = GOLD_PATH) -> list[GoldItem]:
    """Items of a JSONL gold file; a malformed line raises GoldDataError naming file and line."""
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GoldDataError(f"{path}:{n}: 不是 JSON。 Not JSON ({exc.msg}); "
                                "write one object per line.") from exc
        missing = [k for k in REQUIRED if k not in raw]
        if missing:
            raise GoldDataError(f"{path}:{n}: 缺少欄位 {missing}。 Missing fields {missing}; "
                                f"every item needs {REQUIRED}.")
        try:
            items.append(_item(raw))
        except GoldDataError as exc:
            raise GoldDataError(f"{path}:{n}: {exc}") from exc
    return items


def _item(raw: dict[str, Any]) -> GoldItem:
    return GoldItem(
        id=str(raw["id"]), question=raw["question"], answerable=bool(raw["answerable"]),
        key_facts=tuple(tuple(group) for group in raw["key_facts"]),
        article_ids=tuple(raw["article_ids"]), evidence=tuple(raw["evidence"]),
        category=raw["category"], lang=raw.get("lang", "zh-Hant"),
        split=raw.get("split", "tune"))
