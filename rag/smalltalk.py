"""Messages that are not questions about the articles: a greeting, thanks, what the assistant can
do, which articles it holds. Recognised only as a whole short message, answered without
retrieval; pure functions (the Assistant passes the archive's size and newest articles).

Before, 「謝謝」 was answered with an article's sentence about 感謝, 「你好」 and "hello" with "the
articles do not contain enough information", and 「有哪些文章？」 was refused."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.lang import Lang
from rag.schema import Article
from rag.text import both_scripts, to_simplified

GREETING, THANKS, HELP, CATALOG = "greeting", "thanks", "help", "catalog"
SHOWN = 10  # articles a catalog reply lists, newest first
_END = r"\s*[!！。.~～,，?？]*\s*$"
# Greeting and thanks words: a whole message, or around a question (`without_pleasantries`).
_HELLO = r"你好|您好|大家好|哈囉|嗨|早安|午安|晚安"
_HELLO_EN = r"hi|hello|hey"
_THANK = r"謝謝|感謝|多謝"
_KINDS: dict[str, re.Pattern[str]] = {
    kind: re.compile(r"^\s*(?:" + both_scripts(pattern) + r")" + _END, re.I)
    for kind, pattern in {
        GREETING: rf"(?:{_HELLO})(?:呀|啊|喔|哦)?|{_HELLO_EN}|good (?:morning|afternoon|evening)",
        THANKS: rf"(?:{_THANK}|謝啦)(?:你|您|囉|啦)?|thanks?(?: you)?(?: (?:very|so) much)?"
                r"|thx|many thanks",
        HELP: r"(?:你|您)(?:可以|能|會)(?:做|幫我做|幫忙)?(?:什麼|甚麼|哪些事)|(?:你|您)是誰"
              r"|(?:怎麼|如何)使用|使用說明|說明|help|what can you do|who are you"
              r"|how (?:do|can) i use (?:this|you)",
        CATALOG: r"(?:你|您)?(?:有|收錄了?)(?:哪些|什麼|甚麼)(?:文章|新聞|報導|資料)"
                 r"|(?:列出|顯示)(?:所有|全部)?(?:的)?(?:文章|新聞)|文章列表|(?:有)?哪些文章"
                 r"|what (?:articles|news|documents) do you have"
                 r"|(?:list|show) (?:all |the )?articles"
                 r"|which articles (?:do you have|are there)",
    }.items()}


_GREETING_FIRST = re.compile(r"^\s*(?:" + both_scripts(f"{_HELLO}|{_HELLO_EN}")
                             + r")\s*[,，!！。~～]+\s*(?=\S)", re.I)
_THANKS_LAST = re.compile(r"(?<=[?？!！。.,，\s])[\s,，]*(?:" + both_scripts(
    f"{_THANK}|thanks|thank you") + r")(?:你|您)?\s*[!！。.~～]*\s*$", re.I)


def without_pleasantries(question: str) -> str:
    """The question without a greeting before it or thanks after it (你好，橘郡郡長是誰？謝謝 ->
    橘郡郡長是誰？): as words to match they made a plain question a refusal."""
    return _THANKS_LAST.sub("", _GREETING_FIRST.sub("", question)).strip() or question


def kind_of(message: str) -> str | None:
    """GREETING, THANKS, HELP or CATALOG when the whole message is one; None for a question."""
    for kind, pattern in _KINDS.items():
        if pattern.match(message):
            return kind
    return None


def reply(kind: str, lang: Lang, n_articles: int, newest: Sequence[Article]) -> str:
    """The reply to a message of `kind`, in the message's language."""
    if lang == "en":
        return _english(kind, n_articles, newest)
    text = _chinese(kind, n_articles, newest)
    return to_simplified(text) if lang == "zh-Hans" else text


def _chinese(kind: str, n_articles: int, newest: Sequence[Article]) -> str:
    if kind == THANKS:
        return "不客氣！還有其他想查的嗎？"
    if kind == CATALOG:
        if not newest:
            return "目前還沒有收錄任何文章，請先用 rag ingest 匯入。"
        return "\n".join([f"目前收錄 {n_articles} 篇文章，最新的幾篇：",
                          *_items(newest, "日期不明"), "", "可以直接問文章裡的人、事、時、地。"])
    about = (f"我會根據已收錄的 {n_articles} 篇新聞文章回答問題，並在句末以 [1] 標出引用的段落"
             "（標題、日期與原文）；文章沒有寫到的，我會直說找不到，不會猜測。可以用繁體中文、"
             "簡體中文或英文發問，也可以接著上一題追問（例如「那是誰帶隊的？」）。輸入「有哪些文章？」"
             "可看收錄的文章。")
    return ("您好！" + about) if kind == GREETING else about


def _english(kind: str, n_articles: int, newest: Sequence[Article]) -> str:
    if kind == THANKS:
        return "You're welcome! Anything else you would like to look up?"
    if kind == CATALOG:
        if not newest:
            return "The archive holds no articles yet; add some with `rag ingest`."
        return "\n".join([f"The archive holds {n_articles} articles; the newest:",
                          *_items(newest, "undated"), "",
                          "Ask about the people, events, dates and places in them."])
    about = (f"I answer questions from the {n_articles} news articles in this archive and mark "
             "each quoted passage with [1] (title, date and the exact text); when the articles "
             "do not say, I tell you so instead of guessing. Ask in Traditional or Simplified "
             "Chinese or in English, and follow up on the previous answer (\"Who led it?\"). "
             "Type \"What articles do you have?\" to see the articles.")
    return ("Hello! " + about) if kind == GREETING else about


def _items(newest: Sequence[Article], undated: str) -> list[str]:
    return [f"{i}. {a.title}（{a.date or undated}）" for i, a in enumerate(newest[:SHOWN], 1)]
