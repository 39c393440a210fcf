"""The file formats `rag ingest` reads: one module per format, registered in FORMATS."""

from __future__ import annotations

from functools import cache
from importlib import import_module

from ingest.readers.base import Reader

# Adding a format = one new module with a READER object + one entry here. The order is the
# order of content detection: specific formats first, plain text (its own sniff is the news-page
# layout) last.
FORMATS = ("news_lines", "html_page", "jsonl", "json_file", "markdown", "text")


@cache
def readers() -> dict[str, Reader]:
    """name -> reader, in detection order (imported on first use: html needs bs4)."""
    found: dict[str, Reader] = {}
    for module in FORMATS:
        reader: Reader = import_module(f"ingest.readers.{module}").READER
        found[reader.name] = reader
    return found


def names() -> list[str]:
    """The format names, for `rag ingest --format NAME`."""
    return list(readers())


def by_name(name: str) -> Reader | None:
    return readers().get(name)


def by_suffix(suffix: str) -> Reader | None:
    """The reader that claims a file suffix such as '.jsonl' (any case), or None."""
    suffix = suffix.lower()
    return next((r for r in readers().values() if suffix in r.suffixes), None)


def detect(head: str) -> Reader | None:
    """The first reader, in FORMATS order, that recognises the first bytes of a file."""
    return next((r for r in readers().values() if r.sniff(head)), None)


def suffixes() -> frozenset[str]:
    return frozenset().union(*(r.suffixes for r in readers().values()))
