"""HTML pages (.html, .htm): the whole file is one article; cleaning keeps the main text."""

from __future__ import annotations

import re

from ingest.readers.base import WholeFileArticle

_HTML = re.compile(r"\A\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)[\s>]", re.I | re.S)


class HtmlReader(WholeFileArticle):
    name = "html"
    kind = "html"
    suffixes = frozenset({".html", ".htm"})

    def sniff(self, head: str) -> bool:
        return bool(_HTML.match(head))


READER = HtmlReader()
