"""JSON Lines (.jsonl, .ndjson): one record per line, read line by line (see records.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from ingest.readers.base import Problem, RawDoc
from ingest.readers.records import to_rawdoc


class JsonlReader:
    name = "jsonl"
    suffixes = frozenset({".jsonl", ".ndjson"})
    line_records = True

    def sniff(self, head: str) -> bool:
        first = head.lstrip().split("\n", 1)
        if not first[0].startswith("{"):
            return False
        if len(first) == 1:  # one long first line, cut by the sample: an object that goes on
            return first[0].startswith('{"')
        try:
            return isinstance(json.loads(first[0]), dict)
        except json.JSONDecodeError:
            return False

    def read(self, path: Path, text: str, encoding: str,
             first_line: int = 1) -> Iterator[RawDoc | Problem]:
        # lines end at "\n" only, as editors count them: U+2028 inside a JSON string is text
        for line_no, line in enumerate(text.split("\n"), start=first_line):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Problem(str(path), f"此行不是 JSON (not JSON): {exc.msg}", line_no)
                continue
            yield to_rawdoc(path, item, encoding, index=line_no, line=line_no)


READER = JsonlReader()
