"""What the chat UI shows, as pure functions: answers with [n] links, highlighted sources,
chat history conversion and filter parsing. No Gradio here; rag/app/ui.py wires them up."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from rag.errors import InputError
from rag.rewrite import message_text
from rag.schema import Answer, Citation, Filters, Passage

ALL_ARTICLES = ""  # the article dropdown's "no filter" value
SEARCHING = "正在檢索相關段落… Searching the articles…"
CURSOR = " ▌"
ERROR_CLASS = "rag-error"
UNEXPECTED = "發生未預期的錯誤，請再試一次。 Something went wrong; please try again."
EMPTY_SOURCES = ('<div class="rag-sources-empty">引用來源會顯示在這裡。'
                 '點選回答中的 [n] 可跳到對應的段落。<br>'
                 'Sources appear here; click a [n] marker to jump to its passage.</div>')
NO_SOURCES = ('<div class="rag-sources-empty">這個回答沒有引用來源。 '
              'No sources for this answer.</div>')
PENDING_SOURCES = '<div class="rag-sources-empty">檢索中… Searching…</div>'


_MARKER = re.compile(r"\[(\d{1,3})\]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~$])")
_MD_UNESCAPE = re.compile(r"\\([\\`*_\[\]#|~$])")
_TAG = re.compile(r"<[^>]+>")
_LIVE_LINK = re.compile(r'<a class="cite-ref" href="#src-\d+"[^>]*>(\[\d+\])</a>')
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# ------------------------------------------------------------------ rendering
def md_text(text: str) -> str:
    """Article or user text -> Markdown that shows exactly that text (no tags, no markup)."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def render_answer(answer: Answer) -> str:
    """The chat message: the answer text with each [n] a link to its source card (#src-n)."""
    cited = {c.n: c for c in answer.citations}
    out: list[str] = []
    last = 0
    for m in _MARKER.finditer(answer.text):
        citation = cited.get(int(m.group(1)))
        if citation is None:
            continue
        out.append(md_text(answer.text[last:m.start()]))
        title = html.escape(citation.title, quote=True)
        out.append(f'<a class="cite-ref" href="#src-{citation.n}" title="{title}">'
                   f"[{citation.n}]</a>")
        last = m.end()
    out.append(md_text(answer.text[last:]))
    return "".join(out)


def render_draft(text: str) -> str:
    """A draft while it streams in: plain text (its markers are not final yet) and a cursor."""
    return md_text(text) + CURSOR


def render_error(message: str) -> str:
    return f'<span class="{ERROR_CLASS}">⚠ {html.escape(message, quote=False)}</span>'


def _passage_for(citation: Citation, passages: Sequence[Passage]) -> Passage | None:
    for p in passages:
        if citation.chunk_id and p.chunk_id == citation.chunk_id:
            return p
    for p in passages:
        if p.article_id == citation.article_id and p.start <= citation.start < p.end:
            return p
    return None


def _highlighted(citation: Citation, passage: Passage | None) -> str:
    """The passage with the quoted span in <mark>; the quote alone when it is not inside."""
    quote = citation.quote
    if passage is not None:
        at = citation.start - passage.start
        if not (0 <= at and passage.text[at:at + len(quote)] == quote):
            at = passage.text.find(quote)
        if at >= 0:
            text = passage.text
            return (html.escape(text[:at]) + "<mark>" + html.escape(quote) + "</mark>"
                    + html.escape(text[at + len(quote):]))
    return "<mark>" + html.escape(quote) + "</mark>"


def render_sources(answer: Answer | None) -> str:
    """The sources panel: one card per citation (title, date, reporter, passage with the quote
    in <mark>), each with id src-n so that the answer's [n] links land on it."""
    if answer is None:
        return EMPTY_SOURCES
    notices = "".join(f"<li>{html.escape(n)}</li>" for n in answer.notices)
    notes = f'<ul class="rag-notices">{notices}</ul>' if notices else ""
    if answer.refused or not answer.citations:
        return NO_SOURCES + notes
    cards = []
    for c in answer.citations:
        passage = _passage_for(c, answer.passages)
        reporter = passage.reporter if passage is not None else ""
        meta = [html.escape(c.date or "日期不明")]
        if reporter:
            meta.append("記者 " + html.escape(reporter))
        cards.append(
            f'<li class="src-card" id="src-{c.n}">'
            f'<div class="src-title"><span class="src-n">[{c.n}]</span> '
            f"{html.escape(c.title)}</div>"
            f'<div class="src-meta">{" · ".join(meta)}</div>'
            f'<div class="src-text">{_highlighted(c, passage)}</div></li>')
    return (f'<div class="rag-sources"><div class="src-head">引用來源 Sources'
            f"（{len(cards)}）</div>{notes}<ol class=\"src-list\">{''.join(cards)}</ol></div>")


# ------------------------------------------------------------------ history
def chat_messages(history: Sequence[Any] | None) -> list[dict[str, str]]:
    """The Chatbot's value as {"role", "content": str} dicts (what `respond` yields back)."""
    out = []
    for m in history or []:
        if isinstance(m, dict) and m.get("role") in ("user", "assistant"):
            out.append({"role": str(m["role"]), "content": message_text(m.get("content"))})
    return out


def plain_history(history: Sequence[Any] | None) -> list[dict[str, str]]:
    """What the Assistant sees of the conversation: plain text, no links, no error lines."""
    out = []
    for m in chat_messages(history):
        if ERROR_CLASS in m["content"] or m["content"] == SEARCHING:
            continue
        text = html.unescape(_MD_UNESCAPE.sub(r"\1", _TAG.sub("", m["content"])))
        out.append({"role": m["role"], "content": text.removesuffix(CURSOR.strip()).strip()})
    return out


def retire_links(message: dict[str, str]) -> dict[str, str]:
    """Older answers' markers stop being links: the sources panel shows the newest answer."""
    content = _LIVE_LINK.sub(r'<span class="cite-old">\1</span>', message["content"])
    return {"role": message["role"], "content": content}


# ------------------------------------------------------------------ the callback
def _iso(value: Any, label: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    if _ISO_DATE.match(text):
        try:
            return date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            pass
    which = "start" if label.startswith("開始") else "end"
    raise InputError(f"{label}格式不正確：{text}。請用 YYYY-MM-DD。 "
                     f"Invalid {which} date; use YYYY-MM-DD.")


def make_filters(after: Any = None, before: Any = None, article: str | None = None) -> Filters:
    """The UI's filter inputs -> Filters; InputError for a bad or reversed date range."""
    start, end = _iso(after, "開始日期"), _iso(before, "結束日期")
    if start and end and start > end:
        raise InputError(f"開始日期 {start} 晚於結束日期 {end}。 "
                         "The start date is after the end date.")
    ids = (article,) if article and article != ALL_ARTICLES else None
    return Filters(start, end, ids)
