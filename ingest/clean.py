"""Cleaning: raw documents -> Article (chrome stripped, metadata parsed, controls removed)."""

from __future__ import annotations

import re

from ingest.readers.base import RawDoc
from rag.dates import parse_date
from rag.safety import instruction_warnings
from rag.schema import Article

# Site chrome of the news-page format; one line each, matched after stripping whitespace.
CHROME_LINES = frozenset({"投資理財", "A- A A+", "點擊時代網頁設計"})
RELATED_NEWS = re.compile(r"^(相關新聞|延伸閱讀|更多新聞)$")
CAPTION = re.compile(r"^[(（]?\s*圖\s*[/／:：].{0,40}?[)）]?$")
DATE_LINE = re.compile(r"^(?:發布日期|發佈日期|日期|Published)\s*[:：]\s*(?P<date>.+)$")
REPORTER_LINE = re.compile(
    r"^(?P<outlet>\S{2,20}?)?\s*記者\s*(?P<reporter>[^\s／/]{2,12}(?:[、／/]\s*\S{2,12})*)"
    r"\s*(?:整理|綜合|採訪)?報導$"
)
_BLANK = re.compile(r"^[\s\u00a0\u3000\u200b]*$")

# Terminal escape sequences, removed whole: strings (OSC title, DCS, ...) up to BEL or ST, CSI
# (colours, clear screen, cursor moves), then any other ESC sequence.
_ESCAPES = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]{0,512}(?:\x07|\x1b\\|\x9c)"
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|\x1b[ -/]*[0-~]")
# The controls that str.splitlines() breaks lines at become "\n", so that removing controls
# never joins two lines (a CR-only file keeps its lines).
_LINE_BREAKS = re.compile(r"\r\n?|[\x0b\x0c\x1c-\x1e\x85]")
# C0 but \t and \n, DEL, C1, and the bidi embeddings/overrides/isolates that can make stored
# text display as something else (U+202A-U+202E, U+2066-U+2069)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def strip_controls(text: str) -> str:
    """Text without terminal escapes, control characters (but newline and tab) or bidi
    overrides; line breaks of any kind become a newline."""
    if not _CONTROLS.search(text):
        return text  # the common case: nothing to do, no copy
    return _CONTROLS.sub("", _ESCAPES.sub("", _LINE_BREAKS.sub("\n", text)))


def to_article(doc: RawDoc) -> tuple[Article, list[str]]:
    """Clean one raw document; returns the article and warnings (e.g. a missing date).
    Stored text never carries control characters: they are removed here, before cleaning."""
    if doc.kind == "record":
        article = from_record(doc)
    elif doc.kind == "html":
        text = strip_controls(html_to_text(strip_controls(doc.text)))  # &#27; decodes to ESC
        article = clean_news(text, doc.doc_id, doc.source)
    elif looks_like_news_page(text := strip_controls(doc.text)):
        article = clean_news(text, doc.doc_id, doc.source)
    else:
        article = clean_plain(text, doc.doc_id, doc.source, markdown=doc.kind == "markdown")
    warnings = []
    if not article.date:
        warnings.append(f"{doc.source}: 沒有日期，仍會索引 (no date found; ingested without one)")
    warnings.extend(instruction_warnings(article.body, doc.source))  # masked when answering
    return article, warnings


def looks_like_news_page(text: str) -> bool:
    head = [line.strip() for line in text.splitlines()[:40]]
    return any(DATE_LINE.match(line) for line in head) or "A- A A+" in head


def clean_news(text: str, article_id: str, source: str = "") -> Article:
    """Strip the news site's chrome; keep body paragraphs and in-body section headings."""
    title = date_iso = reporter = outlet = ""
    body: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if RELATED_NEWS.match(line):
            break  # everything below is other articles' teasers
        if _BLANK.match(line) or line in CHROME_LINES or CAPTION.match(line):
            continue
        if m := DATE_LINE.match(line):
            date_iso = date_iso or parse_date(m.group("date"))
            continue
        if not body and (m := REPORTER_LINE.match(line)):
            outlet, reporter = (m.group("outlet") or "").strip(), m.group("reporter").strip()
            continue
        if not title:
            title = line
            continue
        if line == title and not body:
            continue  # the page repeats the title under the header image
        body.append(line)
    return Article(article_id=article_id, title=title or article_id, body="\n".join(body),
                   date=date_iso, reporter=reporter, outlet=outlet, source=source)


def clean_plain(text: str, article_id: str, source: str = "", markdown: bool = False) -> Article:
    """Plain text or Markdown: a short first line (or '# heading') is the title."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if not _BLANK.match(line)]
    title = article_id
    if lines and (markdown and lines[0].startswith("#") or len(lines) > 1 and len(lines[0]) <= 80):
        title = lines.pop(0).lstrip("#").strip()
    if markdown:
        lines = [re.sub(r"^#{1,6}\s*", "", line) for line in lines]
    return Article(article_id=article_id, title=title, body="\n".join(lines), source=source)


def from_record(doc: RawDoc) -> Article:
    """A JSON record: fields id, title, text|content, and optional date, url, author, source."""
    rec = doc.record

    def field(name: str) -> str:
        return strip_controls(str(rec.get(name) or ""))

    text = strip_controls(str(rec.get("text", rec.get("content", ""))))
    lines = [line.strip() for line in text.splitlines() if not _BLANK.match(line)]
    return Article(
        article_id=doc.doc_id,
        title=field("title").strip() or doc.doc_id,
        body="\n".join(lines),
        date=parse_date(field("date")),
        reporter=field("author").strip(),
        outlet=field("source").strip(),
        source=doc.source,
        url=field("url"),
    )


def html_to_text(html: str) -> str:
    """Main text of a page: <article> or <main> or <body>, without scripts, menus and figures."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form",
                     "figure", "figcaption", "iframe", "svg", "button"]):
        tag.decompose()
    lines: list[str] = []
    heading = soup.find("h1") or soup.find("title")
    title = heading.get_text(" ", strip=True) if heading is not None else ""
    if title:
        lines.append(title)
    published = soup.find("meta", attrs={"property": "article:published_time"}) or soup.find(
        "time", attrs={"datetime": True})
    if published is not None:
        stamp = published.get("content") or published.get("datetime")
        lines.append(f"發布日期:{stamp}")
    root = soup.find("article") or soup.find("main") or soup.body or soup
    for block in root.find_all(["p", "h2", "h3", "h4", "li", "blockquote", "pre"]):
        text = block.get_text(" ", strip=True)
        if text and text != title:
            lines.append(text)
    return "\n".join(lines)
