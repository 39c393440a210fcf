"""One JSON record -> RawDoc: the fields the record formats (json, jsonl) share and check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ingest.readers.base import Problem, RawDoc

# Fields that clean.from_record reads as text; a number is written as text on purpose (an id
# of 12 is "12"), a list or an object is a mistake in the data and is reported, not stringified.
TEXT_FIELDS = ("title", "date", "url", "author", "source")


def to_rawdoc(path: Path, item: Any, encoding: str, index: int,
              line: int | None) -> RawDoc | Problem:
    where = f"record {index}" if line is None else f"line {line}"
    if not isinstance(item, dict):
        return Problem(str(path), f"紀錄不是物件 (record is not an object, {where})", line)
    text = item.get("text", item.get("content"))
    if not isinstance(text, str) or not text.strip():
        return Problem(str(path), f"紀錄缺少 text/content 欄位 (record has no text, {where})", line)
    for name in ("id", *TEXT_FIELDS):
        kind = _not_scalar(item.get(name))
        if kind:
            return Problem(str(path), (
                f"紀錄的 {name} 欄位是{kind[0]}，應為文字或數字；請修正資料 (record field "
                f"{name!r} is {kind[1]}, expected text or a number; fix the record, {where})"),
                line)
    raw_id = item.get("id")
    doc_id = _id_text(raw_id) if raw_id not in (None, "") else ""
    doc_id = doc_id or f"{path.stem}-{index}"
    source = f"{path}:{line}" if line else f"{path}#{index}"
    return RawDoc(doc_id=doc_id, kind="record", text=text, source=source, encoding=encoding,
                  record=dict(item))


def _not_scalar(value: Any) -> tuple[str, str] | None:
    """(Chinese, English) name of a JSON type that cannot stand for text, or None."""
    if isinstance(value, dict):
        return "物件", "an object"
    if isinstance(value, list):
        return "清單", "a list"
    if isinstance(value, bool):
        return "布林值", f"{str(value).lower()}"
    return None


def _id_text(value: Any) -> str:
    from ingest.clean import strip_controls

    # the id becomes the article id: stored, printed and used in chunk ids, so no terminal
    # escapes in it
    return strip_controls(str(value))
