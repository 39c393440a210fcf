"""Plain text and the news site's page layout (.txt): the whole file is one article."""

from __future__ import annotations

from ingest.readers.base import WholeFileArticle


class TextReader(WholeFileArticle):
    """Cleaning tells the news-page layout from plain text (ingest.clean.looks_like_news_page)."""

    name = "text"
    kind = "text"
    suffixes = frozenset({".txt"})

    def sniff(self, head: str) -> bool:
        # plain prose has no mark to be told by; the news-page layout has its date line
        from ingest.clean import looks_like_news_page

        return looks_like_news_page(head)


READER = TextReader()
