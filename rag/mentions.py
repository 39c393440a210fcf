"""Which articles mention something: a list with one quoted sentence per article.

「哪些文章提到橘郡？」, 「有關於NVIDIA的新聞嗎？」, "Which articles mention Penang?" are
recognised as a whole message; each article among the retrieved passages that names the topic
gets the first sentence naming it (pure functions; the Assistant retrieves). Before,
「有關於NVIDIA的新聞嗎？」 was refused although two articles are about NVIDIA, and 「哪些文章提到
橘郡？」 was answered with two sentences of one article."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.lang import Lang
from rag.lexicon import chinese_terms
from rag.schema import Citation, Passage
from rag.text import both_scripts, fold, split_sentences, to_simplified

SHOWN = 8  # articles listed, best retrieved first
_NEWS = r"(?:文章|新聞|報導|報道|消息)"
_ABOUT = r"(?:提到|提及|談到|講到|關於|有關|報導了?|報道了?|在講|寫到)"
_ZH = [re.compile(r"^\s*(?:請問)?\s*" + both_scripts(p) + r"\s*[？?。.!！]*\s*$") for p in (
    r"(?:有)?(?:哪些|哪幾篇|哪篇|什麼)" + _NEWS + r"(?:有)?" + _ABOUT + r"\s*(?P<x>.+?)",
    r"(?:有沒有|有)(?:關於|有關)?\s*(?P<x>.+?)\s*的" + _NEWS + r"(?:嗎)?",
    r"(?:找|搜尋|搜索|查)(?:一下)?(?:關於|有關)?\s*(?P<x>.+?)\s*的?" + _NEWS,
)]
_EN = [re.compile(r"^\s*" + p + r"\s*[?.!]*\s*$", re.I) for p in (
    r"(?:which|what) (?:articles|news|stories|reports) (?:mention|are about|talk about|cover"
    r"|discuss)\s+(?P<x>.+?)",
    r"(?:is there|are there|do you have) (?:any )?(?:news|articles?|stories|reports?) "
    r"(?:about|on|mentioning)\s+(?P<x>.+?)",
    r"(?:find|search(?: for)?|show(?: me)?) (?:the )?(?:articles|news|stories) (?:about|on"
    r"|mentioning)\s+(?P<x>.+?)",
)]
_QUOTES = "「」『』\"“”'‘’《》〈〉"
_ASKING = re.compile(both_scripts(r"哪|什麼|甚麼|誰|幾|多少|何|怎|嗎|是否")
                     + r"|\b(?:which|what|who|how|when|where|why|whether)\b", re.I)


def searched_topic(message: str) -> str | None:
    """What a "which articles mention X" message asks for (X), or None for any other message."""
    return topic_in(message, (*_ZH, *_EN))


def topic_in(message: str, patterns: Sequence[re.Pattern[str]]) -> str | None:
    """The group `x` of the first pattern matching the message, without quotes; None when none
    matches or the topic holds a question word (有哪些公司的消息？ is a question, not a request)."""
    for pattern in patterns:
        m = pattern.match(message)
        if m:
            topic = m.group("x").strip().strip(_QUOTES).strip()
            return topic if topic and not _ASKING.search(topic) else None
    return None


def terms(topic: str, lang: Lang) -> tuple[str, ...]:
    """The folded forms a mention may take: the topic as written and, for English, its Chinese
    senses (Penang -> 槟城)."""
    found = [fold(topic)]
    if lang == "en":
        found += chinese_terms(topic).split()
    return tuple(dict.fromkeys(t for t in found if len(t) >= 2))


def pick(passages: Sequence[Passage], wanted: Sequence[str],
         limit: int = SHOWN) -> list[Citation]:
    """For each article among `passages` (in their order), the first sentence of its best
    passage that holds one of `wanted`, as a citation numbered from 1."""
    out: list[Citation] = []
    seen: set[str] = set()
    for p in passages:
        if p.article_id in seen or len(out) >= limit:
            continue
        span = next((s for s in split_sentences(p.text)
                     if any(t in fold(s.text) for t in wanted)), None)
        if span is None:
            continue
        seen.add(p.article_id)
        out.append(Citation(n=len(out) + 1, article_id=p.article_id, title=p.title,
                            date=p.date, quote=span.text, start=p.start + span.start,
                            end=p.start + span.end, chunk_id=p.chunk_id))
    return out


def reply(topic: str, lang: Lang, found: Sequence[Citation]) -> str:
    """The list of articles with their quoted sentence, or that none mentions the topic."""
    if lang == "en":
        if not found:
            return f'No article in the archive mentions "{topic}".'
        head = (f'{len(found)} articles mention "{topic}":' if len(found) > 1
                else f'1 article mentions "{topic}":')
        lines = [f'{c.n}. {c.title} ({c.date or "undated"}): "{c.quote}" [{c.n}]' for c in found]
        return "\n".join([head, *lines])
    if not found:
        text = f"沒有文章提到「{topic}」。"
    else:
        lines = [f"{c.n}. {c.title}（{c.date or '日期不明'}）：「{c.quote}」[{c.n}]" for c in found]
        text = "\n".join([f"有 {len(found)} 篇文章提到「{topic}」：", *lines])
    return to_simplified(text) if lang == "zh-Hans" else text
