"""Gold datasets: the corpus Q&A file and its item type, with input errors that say how to fix."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

GOLD_PATH = Path(__file__).parent / "data" / "gold.jsonl"
REQUIRED = ("id", "question", "answerable", "key_facts", "article_ids", "evidence", "category")


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    answerable: bool
    key_facts: tuple[tuple[str, ...], ...]
    article_ids: tuple[str, ...]
    evidence: tuple[str, ...]
    category: str
    lang: str = "zh-Hant"


def load_gold(path: Path = GOLD_PATH) -> list[GoldItem]:
    """Items of a JSONL gold file; a malformed line raises ValueError naming file and line."""
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not JSON ({exc.msg}); one object per line") from exc
        missing = [k for k in REQUIRED if k not in raw]
        if missing:
            raise ValueError(f"{path}:{n}: missing fields {missing}; every item needs {REQUIRED}")
        items.append(GoldItem(
            str(raw["id"]), raw["question"], bool(raw["answerable"]),
            tuple(tuple(group) for group in raw["key_facts"]), tuple(raw["article_ids"]),
            tuple(raw["evidence"]), raw["category"], raw.get("lang", "zh-Hant")))
    return items
