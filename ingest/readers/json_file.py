"""A JSON file (.json): a list of records, or {"records": [...]} / {"data": [...]}, read whole."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from ingest.readers.base import Problem, RawDoc
from ingest.readers.records import to_rawdoc


class JsonFileReader:
    name = "json"
    suffixes = frozenset({".json"})
    line_records = False

    def sniff(self, head: str) -> bool:
        return head.lstrip().startswith(("[", "{"))

    def read(self, path: Path, text: str, encoding: str,
             first_line: int = 1) -> Iterator[RawDoc | Problem]:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Problem(str(path), f"不是有效的 JSON (invalid JSON): {exc.msg}", exc.lineno)
            return
        items = data.get("records", data.get("data", [data])) if isinstance(data, dict) else data
        if not isinstance(items, list):
            yield Problem(str(path), "JSON 應為紀錄的清單 (expected a list of records)")
            return
        for n, item in enumerate(items, start=1):
            yield to_rawdoc(path, item, encoding, index=n, line=None)


READER = JsonFileReader()
