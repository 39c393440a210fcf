"""Answer feedback (👍/👎 with an optional comment): appended to a JSONL file under the data folder.

A record holds what is needed to judge the answer later — question, answer, citations, backend,
time — and nothing about who gave it (no IP address, no user or session id). `rag eval
import-feedback` turns the thumbs-down ones into candidate gold items for a person to review."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.errors import InputError
from rag.schema import Answer

UP, DOWN = "up", "down"
FILE_NAME = "feedback.jsonl"
MAX_COMMENT = 2000  # characters kept of a comment


@dataclass(frozen=True, kw_only=True)
class Feedback:
    """One rating of one answer. `id` ties a later comment to the same rating."""

    id: str
    rating: str  # up | down
    question: str
    answer: str
    refused: bool
    citations: tuple[dict[str, Any], ...] = ()
    backend: str = ""
    comment: str = ""
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "time": self.time, "rating": self.rating,
                "question": self.question, "answer": self.answer, "refused": self.refused,
                "citations": list(self.citations), "backend": self.backend,
                "comment": self.comment}


def feedback_for(answer: Answer, liked: bool, comment: str = "",
                 feedback_id: str | None = None) -> Feedback:
    return Feedback(id=feedback_id or uuid.uuid4().hex, rating=UP if liked else DOWN,
                    question=answer.question, answer=answer.text, refused=answer.refused,
                    citations=tuple(c.to_dict() for c in answer.citations),
                    backend=answer.backend, comment=comment.strip()[:MAX_COMMENT])


class FeedbackLog:
    """Appends records to `path` (one JSON object a line); safe for the UI's threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, record: Feedback) -> None:
        line = json.dumps(record.to_dict(), ensure_ascii=False)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(line + "\n")


def read_feedback(path: Path) -> list[dict[str, Any]]:
    """The records of a feedback file, the latest per id (a comment updates its rating)."""
    if not path.is_file():
        raise InputError(f"找不到回饋檔：{path}。 Feedback file not found: {path}; it is written "
                         "under the data folder when someone rates an answer in the chat UI, "
                         "or pass --feedback PATH.")
    latest: dict[str, dict[str, Any]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{n}: 不是 JSON。 Not JSON ({exc.msg}); fix or delete "
                             "that line.") from exc
        if isinstance(record, dict) and record.get("id"):
            latest[str(record["id"])] = record
    return list(latest.values())
