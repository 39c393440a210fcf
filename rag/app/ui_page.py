"""The page's HTML shell: Gradio's index.html names Gradio in its title and og/twitter tags (with an
image on an outside host) and says lang="en". An ASGI middleware rewrites that one HTML response:
the product's own description, lang="zh-Hant", and no tag that names another host."""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

TITLE = "新聞問答 News Q&A"
DESCRIPTION = ("以新聞文章回答問題並附上可點選的引用來源。 "
               "Answers questions from news articles, citing the passages it used.")
LANG = "zh-Hant"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_SOCIAL = re.compile(r'\s*<meta\s+(?:property="og:[^"]*"|name="twitter:[^"]*")[^>]*/?>', re.S)
_HTML_LANG = re.compile(r'(<html\b[^>]*?\blang=")[^"]*(")', re.S)
_TITLE = re.compile(r"<title>.*?</title>", re.S)


def product_meta(title: str = TITLE, description: str = DESCRIPTION) -> str:
    """Title and social tags that describe this product; no URL, no image, no outside host."""
    t, d = html.escape(title, quote=True), html.escape(description, quote=True)
    return (f'<meta name="description" content="{d}" />'
            f'<meta property="og:title" content="{t}" />'
            f'<meta property="og:description" content="{d}" />'
            '<meta property="og:type" content="website" />'
            '<meta name="twitter:card" content="summary" />'
            f'<meta name="twitter:title" content="{t}" />'
            f'<meta name="twitter:description" content="{d}" />')


def rewrite_page(page: str, title: str = TITLE, description: str = DESCRIPTION) -> str:
    """Gradio's index.html with this product's lang, title and social tags."""
    page = _SOCIAL.sub("", page)
    page = _HTML_LANG.sub(lambda m: m.group(1) + LANG + m.group(2), page, count=1)
    page = _TITLE.sub(f"<title>{html.escape(title)}</title>", page, count=1)
    charset = re.search(r"<meta charset=[^>]*>", page)
    at = charset.end() if charset else page.find("<head>") + len("<head>")
    return page[:at] + product_meta(title, description) + page[at:]


class PageMeta:
    """ASGI middleware: rewrites HTML responses to GET requests with `rewrite_page`; passes
    everything else (API calls, files, streams) through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if not _is_plain_html(message):
                    await send(message)
                    return
                start = message
                return
            if start is None:  # not an HTML page: pass through
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            page = rewrite_page(b"".join(body).decode("utf-8")).encode("utf-8")
            headers = [(k, v) for k, v in start.get("headers", [])
                       if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(page)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": page, "more_body": False})

        await self.app(scope, receive, capture)


def _is_plain_html(message: Message) -> bool:
    headers = {k.lower(): v for k, v in message.get("headers", [])}
    return (headers.get(b"content-type", b"").startswith(b"text/html")
            and b"content-encoding" not in headers and message.get("status") == 200)
