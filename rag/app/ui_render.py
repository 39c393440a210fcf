"""What the chat UI shows, as pure functions: the chat (answers with [n] links to their own
sources), the sources panel (every answer keeps its sources; a refusal shows related passages),
plain-text copies and the Markdown export, and the filter inputs read and explained. No Gradio
here; rag/app/ui.py wires them up."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from rag.app.ui_session import Turn
from rag.errors import InputError
from rag.schema import Answer, Citation, Filters, Passage

ALL_ARTICLES = ""  # the article dropdown's "no filter" value
SEARCHING = "正在檢索相關段落… Searching the articles…"
CURSOR = " ▌"
ERROR_CLASS = "rag-error"
UNEXPECTED = "發生未預期的錯誤，請再試一次。 Something went wrong; please try again."
STOPPED = "已停止 Stopped"
EMPTY_SOURCES = ('<div class="rag-sources-empty">引用來源會顯示在這裡。'
                 '點選回答中的 [n] 可跳到對應的段落。<br>'
                 'Sources appear here; click a [n] marker to jump to its passage.</div>')
NO_SOURCES = ('<div class="rag-sources-empty">這個回答沒有引用來源。 '
              'No sources for this answer.</div>')
CHAT_SOURCES = ('<div class="rag-sources-empty">這是對話回覆，不是根據文章的回答。 '
                'A conversational reply, not an answer from the articles.</div>')
PENDING_SOURCES = '<div class="rag-sources-empty">檢索中… Searching…</div>'
FILTERS_EXCLUDE = ("篩選條件排除了可能相關的文章 — the filters exclude articles that may answer "
                   "this. 請放寬或移除篩選 Widen or remove the filters.")
RELATED_HEAD = "相關但無法回答此問題的段落 Related, but they do not answer this"
QUESTION_EXCERPT = 60  # characters of a question shown above its sources

_MARKER = re.compile(r"\[(\d{1,3})\]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~$])")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# ------------------------------------------------------------------ text
def md_text(text: str) -> str:
    """Article or user text -> Markdown that shows exactly that text (no tags, no markup)."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def truncated(turn: Turn) -> int | None:
    """How many characters of the question were used, when fewer than it has."""
    if turn.live or not turn.limit or len(turn.question.strip()) <= turn.limit:
        return None
    return turn.limit


def truncation_notice(turn: Turn) -> str:
    used = truncated(turn)
    if used is None:
        return ""
    total = len(turn.question.strip())
    return (f"問題有 {total:,} 字，只用了前 {used:,} 字回答；請把問題縮短。 The question has "
            f"{total:,} characters; only the first {used:,} were used. Shorten it.")


# ------------------------------------------------------------------ the chat
def render_answer(answer: Answer, n: int = 1) -> str:
    """The answer text with each [k] a link to its own source card (#src-<n>-<k>)."""
    cited = {c.n: c for c in answer.citations}
    out: list[str] = []
    last = 0
    for m in _MARKER.finditer(answer.text):
        citation = cited.get(int(m.group(1)))
        if citation is None:
            continue
        out.append(md_text(answer.text[last:m.start()]))
        out.append(f'<a class="cite-ref" href="#src-{n}-{citation.n}" '
                   f'title="{_attr(citation.title)}">[{citation.n}]</a>')
        last = m.end()
    out.append(md_text(answer.text[last:]))
    return "".join(out)


def render_draft(text: str) -> str:
    """A draft while it streams in: plain text (its markers are not final yet) and a cursor."""
    return md_text(text) + CURSOR


def render_error(message: str) -> str:
    return f'<span class="{ERROR_CLASS}">⚠ {html.escape(message, quote=False)}</span>'


def _note(text: str, kind: str = "rag-note") -> str:
    return f'<div class="{kind}">{html.escape(text, quote=False)}</div>'


def render_turn(turn: Turn) -> str:
    """The assistant's message of a turn: searching, the draft, the verified answer (with the
    notes a person needs to read it: truncated question, filters, related passages), an error,
    or a stopped draft."""
    warn = truncation_notice(turn)
    head = _note("⚠ " + warn, "rag-warn") if warn else ""
    if turn.error:
        return head + render_error(turn.error)
    if turn.stopped:
        text = md_text(turn.draft or "")
        return f'{text}<span class="rag-stopped">（{STOPPED}）</span>'
    if turn.live or turn.answer is None:
        return render_draft(turn.draft) if turn.draft else SEARCHING
    answer = turn.answer
    body = render_answer(answer, turn.n)
    if answer.refused and answer.filters_excluded:
        body += _note(FILTERS_EXCLUDE, "rag-note rag-filter-note")
    if answer.refused and answer.related:
        body += _note("相關段落列在「引用來源」：它們相關，但無法回答此問題。 Related passages "
                      "are listed under Sources; they do not answer this.")
    return head + body


def render_chat(turns: Sequence[Turn]) -> list[dict[str, str]]:
    """The Chatbot's value: a user and an assistant message per turn."""
    out: list[dict[str, str]] = []
    for t in turns:
        if t.question.strip():
            out.append({"role": "user", "content": md_text(t.question)})
        out.append({"role": "assistant", "content": render_turn(t)})
    return out


# ------------------------------------------------------------------ the sources panel
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


def _meta(day: str, reporter: str, url: str) -> str:
    meta = [f'<time datetime="{_attr(day)}">{html.escape(day)}</time>' if day else "日期不明"]
    if reporter:
        meta.append("記者 " + html.escape(reporter))
    if url:
        meta.append(f'<a class="src-url" href="{_attr(url)}" target="_blank" '
                    f'rel="noopener noreferrer">原文 Original ↗</a>')
    return f'<div class="src-meta">{" · ".join(meta)}</div>'


def _safe_url(url: str) -> str:
    return url if re.match(r"https?://", url or "") else ""


def _cards(turn: Turn, answer: Answer) -> str:
    cards = []
    for c in answer.citations:
        passage = _passage_for(c, answer.passages)
        reporter = passage.reporter if passage is not None else ""
        url = _safe_url(turn.urls.get(c.article_id, ""))
        cards.append(
            f'<li class="src-card" id="src-{turn.n}-{c.n}">'
            f'<div class="src-title"><span class="src-n">[{c.n}]</span> '
            f"{html.escape(c.title)}</div>{_meta(c.date, reporter, url)}"
            f'<div class="src-text">{_highlighted(c, passage)}</div></li>')
    return f'<ol class="src-list">{"".join(cards)}</ol>'


def _related(turn: Turn, answer: Answer) -> str:
    cards = []
    for p in answer.related:
        url = _safe_url(turn.urls.get(p.article_id, ""))
        cards.append(f'<li class="rel-card"><div class="src-title">{html.escape(p.title)}</div>'
                     f"{_meta(p.date, p.reporter, url)}"
                     f'<div class="src-text">{html.escape(p.text)}</div></li>')
    return (f'<div class="rel-head">{RELATED_HEAD}</div>'
            f'<ul class="rel-list">{"".join(cards)}</ul>')


def _group(turn: Turn) -> str:
    """One turn's sources: its question, a copy button, notices, cited or related passages."""
    excerpt = turn.question.strip()
    if len(excerpt) > QUESTION_EXCERPT:
        excerpt = excerpt[:QUESTION_EXCERPT] + "…"
    head = (f'<div class="src-head"><span class="src-q">第 {turn.n} 題 Q{turn.n}：'
            f"{html.escape(excerpt)}</span>")
    answer = turn.answer
    if turn.live:
        return f'<section class="src-group">{head}</div>{PENDING_SOURCES}</section>'
    if answer is None:
        return ""
    head += (f'<button type="button" class="rag-copy" data-copy="{_attr(copy_text(turn))}" '
             f'aria-label="複製第 {turn.n} 題的回答與來源 Copy answer {turn.n} with its '
             f'sources">複製 Copy</button></div>')
    notices = "".join(f"<li>{html.escape(n)}</li>" for n in answer.notices)
    notes = f'<ul class="rag-notices">{notices}</ul>' if notices else ""
    if turn.filters:
        notes = f'<div class="rag-notices">篩選 Filters：{html.escape(turn.filters)}</div>' + notes
    if answer.conversational:
        body = CHAT_SOURCES
    elif answer.refused or not answer.citations:
        body = _related(turn, answer) if answer.related else NO_SOURCES
    else:
        body = (f'<div class="src-count">引用來源 Sources（{len(answer.citations)}）</div>'
                + _cards(turn, answer))
    return (f'<section class="src-group" id="turn-{turn.n}" aria-label="第 {turn.n} 題的來源 '
            f'Sources of question {turn.n}">{head}{notes}{body}</section>')


def render_sources(turns: Sequence[Turn]) -> str:
    """The sources panel: every answered turn's group, newest first, so the [n] links of every
    answer (older ones too) land on their own cards."""
    groups = [g for g in (_group(t) for t in reversed(turns)) if g]
    if not groups:
        return EMPTY_SOURCES
    return f'<div class="rag-sources">{"".join(groups)}</div>'


# ------------------------------------------------------------------ copy and export
def _source_lines(turn: Turn, answer: Answer) -> list[str]:
    lines = []
    for c in answer.citations:
        lines.append(f"[{c.n}] {c.title} ({c.date or '日期不明'}): {c.quote}")
        url = _safe_url(turn.urls.get(c.article_id, ""))
        if url:
            lines.append(f"    {url}")
    return lines


def copy_text(turn: Turn) -> str:
    """An answer as plain text with its sources listed ("[1] title (date): quote")."""
    answer = turn.answer
    if answer is None:
        return turn.error or (turn.draft or "")
    lines = [answer.text]
    sources = _source_lines(turn, answer)
    if sources:
        lines += ["", "來源 Sources:", *sources]
    return "\n".join(lines)


def export_markdown(turns: Sequence[Turn], title: str = "新聞問答 News Q&A") -> str:
    """The conversation as Markdown: each question, its answer and its sources."""
    out = [f"# {title}", ""]
    for t in turns:
        out += [f"## 第 {t.n} 題 Q{t.n}", "", "> " + t.question.strip().replace("\n", "\n> "), ""]
        if t.answer is not None:
            out += [t.answer.text, ""]
            sources = _source_lines(t, t.answer)
            if sources:
                out += ["**來源 Sources**", ""] + [f"- {s.strip()}" if s.startswith("[") else
                                                  f"  {s.strip()}" for s in sources] + [""]
        elif t.error:
            out += [f"⚠ {t.error}", ""]
        elif t.stopped:
            out += [(t.draft or "") + f"（{STOPPED}）", ""]
    return "\n".join(out).rstrip() + "\n"


# ------------------------------------------------------------------ filters
def _iso(value: Any, label: str, which: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    if _ISO_DATE.fullmatch(text[:10]) and (len(text) == 10 or text[10:11] in (" ", "T")):
        try:
            return date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            pass
    raise InputError(f"{label}格式不正確：{text}。請用 YYYY-MM-DD，例如 2025-04-15；"
                     "這個日期沒有套用。 "
                     f"Invalid {which} date {text!r}; use YYYY-MM-DD, e.g. 2025-04-15. It was "
                     "not applied.")


def make_filters(after: Any = None, before: Any = None, article: str | None = None) -> Filters:
    """The UI's filter inputs -> Filters; InputError for a bad or reversed date range."""
    start, end = _iso(after, "開始日期", "start"), _iso(before, "結束日期", "end")
    if start and end and start > end:
        raise InputError(f"開始日期 {start} 晚於結束日期 {end}，請對調或修改。 "
                         f"The start date {start} is after the end date {end}; swap or fix "
                         "them.")
    ids = (article,) if article and article != ALL_ARTICLES else None
    return Filters(start, end, ids)


@dataclass(frozen=True)
class FilterView:
    """What the chips above the input show: a label per active filter (None: not active) and
    an error message when an input is invalid (that input is not applied)."""

    after: str | None = None
    before: str | None = None
    article: str | None = None
    error: str = ""

    @property
    def words(self) -> str:
        return "；".join(x for x in (self.after, self.before, self.article) if x)


def describe_filters(after: Any, before: Any, article: str | None,
                     titles: dict[str, str] | None = None) -> FilterView:
    """The chips for the current filter inputs, and the message for an invalid one."""
    errors = []
    start = end = None
    for value, label, which in ((after, "開始日期", "start"), (before, "結束日期", "end")):
        try:
            parsed = _iso(value, label, which)
        except InputError as exc:
            errors.append(str(exc))
            parsed = None
        if which == "start":
            start = parsed
        else:
            end = parsed
    if start and end and start > end:
        try:
            make_filters(start, end)
        except InputError as exc:
            errors.append(str(exc))
    title = (titles or {}).get(article or "", article or "")
    if len(title) > 24:
        title = title[:24] + "…"
    return FilterView(
        after=f"自 From {start}" if start else None, before=f"至 To {end}" if end else None,
        article=f"文章 Article：{title}" if article and article != ALL_ARTICLES else None,
        error=" ".join(errors))
