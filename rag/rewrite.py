"""Follow-up questions -> stand-alone questions, by rule (the LLM path lives in the answerer)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

FOLLOW_UP = re.compile(
    # "那X呢" / "X呢", or "那X如何" (如何 alone ends many full questions, so it needs the 那)
    r"^\s*(?:那麼|那么|至於|至于|還有|还有|那)?\s*(?P<topic>[^呢]+?)\s*呢\s*[?？]?\s*$"
    r"|^\s*(?:那麼|那么|至於|至于|還有|还有|那)\s*(?P<topic2>.+?)\s*(?:怎麼樣|怎么样|又如何|如何)"
    r"\s*[?？]?\s*$"
    r"|^\s*(?:what|how)\s+about\s+(?P<en>.+?)\s*\??\s*$", re.I)
ASK_WORDS = re.compile(
    r"何時|什麼時候|什么时候|哪一天|哪天|是誰|是谁|誰|谁|哪位|什麼|什么|多少|幾|几|哪些|哪裡|哪里|哪個|哪个|"
    r"為什麼|为什么|如何|怎麼|怎么|\b(?:when|who|what|how|which|where|why)\b", re.I)


def turns(history: Sequence[Any] | None) -> list[tuple[str, str]]:
    """(role, text) pairs from Gradio-style dicts or (user, assistant) tuples."""
    out: list[tuple[str, str]] = []
    for item in history or []:
        if isinstance(item, dict):
            out.append((str(item.get("role", "user")), message_text(item.get("content"))))
        elif isinstance(item, list | tuple) and len(item) == 2:
            out.append(("user", str(item[0] or "")))
            if item[1]:
                out.append(("assistant", str(item[1])))
    return out


def message_text(content: Any) -> str:
    """A chat message's content as text: a str, or Gradio 6's [{"type": "text", ...}] parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "")
    if isinstance(content, list | tuple):
        return "".join(message_text(part) for part in content)
    return ""


def last_user_question(history: Sequence[Any] | None) -> str:
    for role, text in reversed(turns(history)):
        if role == "user" and text.strip():
            return text.strip()
    return ""


def rewrite_by_rule(question: str, history: Sequence[Any] | None) -> str:
    """'那橘郡呢?' after '檳城位在哪個國家?' -> '橘郡位在哪個國家?': the new topic takes the place
    of the previous question's subject: the name it holds before its question word, else all
    the words before the question word ('高雄何時加入 IURC?' -> '橘郡何時加入 IURC?')."""
    previous = last_user_question(history)
    m = FOLLOW_UP.match(question)
    topic = ((m.group("topic") or m.group("topic2") or m.group("en") or "") if m else "").strip()
    if not previous or not topic or ASK_WORDS.search(topic):
        return question
    ask = ASK_WORDS.search(previous)
    if ask is None:
        return f"{topic} {previous}"
    if re.match(r"[A-Za-z]", previous):  # English: "When did Kaohsiung join?" -> keep verb
        return f"{previous.rstrip('?？ ')} — {topic}?"
    subject = _subject(previous, ask.start())
    if subject is not None:
        return previous[:subject[0]] + topic + previous[subject[1]:]
    return topic + previous[ask.start():]


def _subject(question: str, before: int) -> tuple[int, int] | None:
    """Where the question's first name (a place, person or organisation) lies, when it comes
    before the question word and is a whole subject: not the start of a longer noun (高雄市 in
    高雄市長 or 高雄市政府, where 那橘郡郡長呢 must not give 橘郡郡長長)."""
    import jieba.posseg

    from rag.answerers.question import analyse
    from rag.text import fold

    folded = [fold(ch) for ch in question]  # one folded piece per character: offsets map back
    text = "".join(folded)
    starts = [0]
    for piece in folded:
        starts.append(starts[-1] + len(piece))
    for name in analyse(question, "zh-Hant").names:
        at = text.find(name)
        if at < 0 or at not in starts:
            continue
        start = starts.index(at)
        end = next((i for i, s in enumerate(starts) if s >= at + len(name)), len(question))
        after = next(iter(jieba.posseg.cut(text[at + len(name):])), None)
        if end <= before and (after is None or after.flag[:1] not in ("n", "a")):
            return start, end
    return None
