"""Markdown (.md, .markdown): the whole file is one article; a '# heading' is its title."""

from __future__ import annotations

import re

from ingest.readers.base import WholeFileArticle

_HEADING = re.compile(r"\A\s*#{1,6} \S")


class MarkdownReader(WholeFileArticle):
    name = "markdown"
    kind = "markdown"
    suffixes = frozenset({".md", ".markdown"})

    def sniff(self, head: str) -> bool:
        return bool(_HEADING.match(head))


READER = MarkdownReader()
