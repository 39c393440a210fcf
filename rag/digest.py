"""Summaries on request: the lead sentences of the article that best matches a topic.

「總結一下燈塔計畫」, 「檳城交流的重點是什麼？」, "Summarize the Penang visit." are recognised as a
whole message; the answer quotes the first sentences of the best-matching article's body (news
puts its gist first; headings and datelines are skipped), each cited (pure functions; the
Assistant retrieves). Before, all three were refused: no sentence matches a request to
summarise."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.dates import annotate_relative_dates
from rag.lang import CJK, Lang
from rag.mentions import topic_in
from rag.schema import Article, Citation
from rag.text import both_scripts, fold, split_sentences, to_simplified

LEAD = 3  # sentences quoted
MIN_CJK = 12  # a lead sentence has at least this many Chinese characters (not a heading)
_ENDS = ("。", "！", "？", "!", "?", ".")
_ZH = [re.compile(r"^\s*" + both_scripts(p) + r"\s*[。？?！!]*\s*$") for p in (
    r"(?:請|幫我|麻煩)?\s*(?:總結|摘要|概括|簡述|整理|簡介)(?:一下)?\s*(?:關於|有關)?\s*"
    r"(?P<x>.+?)\s*(?:的(?:報導|新聞|文章|內容|重點))?",
    r"(?P<x>.+?)的(?:重點|摘要|大意|要點)(?:是什麼|有哪些)?",
)]
_EN = [re.compile(r"^\s*" + p + r"\s*[.?!]*\s*$", re.I) for p in (
    r"(?:please\s+)?(?:summari[sz]e|sum up|give me a summary of)\s+(?P<x>.+?)",
    r"what(?:'s| is) the (?:gist|summary|main points?) of\s+(?P<x>.+?)",
)]


# "What is the latest article about?": the newest article's lead (the catalog's first).
_LATEST = re.compile(
    r"^\s*(?:" + both_scripts(
        r"(?:最新|最近)的?(?:一篇|一則)?(?:文章|新聞|報導|消息)(?:在講|講了?|說了?|是|有)?(?:什麼|甚麼)"
        r"|(?:最新|最近)(?:消息|新聞)") + r"|what(?:'s| is) the (?:latest|newest|most recent) "
    r"(?:article|news|story)(?: about)?|what(?:'s| is) new|(?:any )?latest news"
    r")\s*[。？?！!.]*\s*$", re.I)


def asks_latest(message: str) -> bool:
    """True when the whole message asks what the newest article says (最新的文章在講什麼？)."""
    return _LATEST.match(message) is not None


def summary_topic(message: str) -> str | None:
    """What a "summarise X" message asks about (X), or None for any other message."""
    return topic_in(message, (*_ZH, *_EN))


def covers(article: Article, alternatives: dict[str, tuple[str, ...]]) -> bool:
    """True when the article (title and body, folded) holds at least half of the topic's words
    in some form: a summary of whatever ranked first for 東京奧運 would answer nothing."""
    if not alternatives:
        return False
    text = fold(f"{article.title} {article.body}")
    held = sum(1 for forms in alternatives.values() if any(f in text for f in forms))
    return held * 2 >= len(alternatives)


def lead(article: Article, n: int = LEAD) -> list[Citation]:
    """The article's first `n` body sentences that read as sentences, as citations 1..n."""
    out: list[Citation] = []
    for span in split_sentences(article.body):
        text = span.text.strip()
        if len(CJK.findall(text)) < MIN_CJK or not text.endswith(_ENDS):
            continue
        start = span.start + span.text.index(text)
        out.append(Citation(n=len(out) + 1, article_id=article.article_id, title=article.title,
                            date=article.date, quote=text, start=start, end=start + len(text)))
        if len(out) == n:
            break
    return out


def reply(article: Article, lang: Lang, quoted: Sequence[Citation]) -> str:
    """The summary: the article named, then its lead sentences with their [n]."""
    body = [f"{annotate_relative_dates(c.quote, article.date)}[{c.n}]" for c in quoted]
    if lang == "en":
        return (f'Summary of "{article.title}" ({article.date or "undated"}), quoted in '
                f'Chinese: {" ".join(body)}')
    text = f"〈{article.title}〉（{article.date or '日期不明'}）的重點：\n" + "".join(body)
    return to_simplified(text) if lang == "zh-Hans" else text
