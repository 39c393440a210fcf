"""What every file-format reader shares: the RawDoc and Problem records and the Reader contract."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True, kw_only=True)
class RawDoc:
    """One document before cleaning: file text, or one JSON record."""

    doc_id: str
    kind: str  # "text" | "markdown" | "html" | "record": which cleaner reads it
    text: str
    source: str
    encoding: str = "utf-8"
    record: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """An input that was skipped, with where it is and why."""

    source: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.message}"


class Reader(Protocol):
    """A file format, as `ingest.load` uses it; one module per format, listed in
    `ingest.readers.FORMATS`."""

    name: str  # what `rag ingest --format NAME` and `load_file(fmt=NAME)` call it
    suffixes: frozenset[str]  # lower case with the dot; a folder walk picks these files
    # True: every document is one line, so the loader streams the file line by line and the
    # article size cap applies to each line (a 3.8 MB file of 2 KB articles is fine); False:
    # the whole file is read and decoded at once, and the cap applies to the file.
    line_records: bool

    def sniff(self, head: str) -> bool:
        """Whether a file whose first bytes decode to `head` is in this format (used when the
        suffix says nothing); formats that cannot be told from content return False."""
        ...

    def read(self, path: Path, text: str, encoding: str,
             first_line: int = 1) -> Iterator[RawDoc | Problem]:
        """The documents in `text`, the decoded file or, for line formats, one line of it
        (`first_line` is its 1-based line number); never raises for bad content."""
        ...


class WholeFileArticle:
    """Base of the formats whose whole file is one article (text, markdown, html): subclasses
    set name, kind (the cleaner that reads it), suffixes and sniff."""

    name: str
    kind: str
    suffixes: frozenset[str]
    line_records = False

    def sniff(self, head: str) -> bool:
        return False

    def read(self, path: Path, text: str, encoding: str,
             first_line: int = 1) -> Iterator[RawDoc | Problem]:
        yield RawDoc(doc_id=path.stem, kind=self.kind, text=text, source=str(path),
                     encoding=encoding)
