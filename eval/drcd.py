"""SQuAD-format benchmark files (DRCD, CMRC 2018): paragraphs as records, questions with answers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from eval.errors import BenchmarkMissingError


@dataclass(frozen=True)
class Question:
    """A question; its gold item is the paragraph it was asked on (article id = paragraph id)."""

    qid: str
    text: str
    article_id: str
    answers: tuple[str, ...]


def load_drcd(path: str | Path) -> tuple[list[dict[str, str]], list[Question]]:
    """(records, questions): one record {id, title, text} per paragraph, every question."""
    path = Path(path)
    if not path.is_file():
        raise BenchmarkMissingError(path)
    data = json.loads(path.read_text("utf-8"))
    records: list[dict[str, str]] = []
    questions: list[Question] = []
    for article in data["data"]:
        for para in article["paragraphs"]:
            pid = str(para["id"])
            records.append({"id": pid, "title": article["title"], "text": para["context"]})
            for qa in para["qas"]:
                answers = tuple(a["text"] for a in qa.get("answers", []))
                questions.append(Question(str(qa["id"]), qa["question"], pid, answers))
    return records, questions


def write_records(records: Sequence[dict[str, str]], path: Path) -> Path:
    """The paragraphs as a JSONL file that `rag ingest` reads as records."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path
