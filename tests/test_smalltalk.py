"""Messages that are not questions about the articles (rag/smalltalk.py): which whole messages
are greetings, thanks, help or catalog requests, the pleasantries around a real question, and
the replies in the message's language. Pure functions; no index."""

from __future__ import annotations

import pytest
from test_gold_data import evaluation_questions

from rag.schema import Article
from rag.smalltalk import (
    CATALOG,
    GREETING,
    HELP,
    SHOWN,
    THANKS,
    kind_of,
    reply,
    without_pleasantries,
)


@pytest.mark.parametrize(("message", "kind"), [
    ("你好", GREETING), ("您好！", GREETING), ("Hi!", GREETING), ("good morning", GREETING),
    ("謝謝", THANKS), ("谢谢你", THANKS), ("Thank you very much!", THANKS),
    ("你能做什麼？", HELP), ("What can you do?", HELP), ("你是谁", HELP),
    ("有哪些文章？", CATALOG), ("你有哪些新闻", CATALOG), ("What articles do you have?", CATALOG),
    ("list articles", CATALOG),
])
def test_a_whole_short_message_is_small_talk(message: str, kind: str) -> None:
    assert kind_of(message) == kind


@pytest.mark.parametrize("question", [
    "你好，橘郡郡長是誰？", "謝謝你告訴我橘郡的事", "高雄感謝誰？", "哪些文章提到橘郡？",
    "有哪些科技公司？", "高雄", "Who is Orange County's county executive?"])
def test_a_question_is_never_small_talk(question: str) -> None:
    assert kind_of(question) is None


def test_no_evaluation_question_is_taken_for_small_talk() -> None:
    assert [q for q in evaluation_questions() if kind_of(q)] == []


@pytest.mark.parametrize(("question", "expected"), [
    ("你好，橘郡郡長是誰？", "橘郡郡長是誰？"),
    ("您好！燈塔計畫得了什麼獎？謝謝您！", "燈塔計畫得了什麼獎？"),
    ("Hi, who led the delegation? Thanks!", "who led the delegation?"),
    ("這次誰表達感謝", "這次誰表達感謝"),  # 感謝 is the question's own word here
    ("你好嗎？", "你好嗎？"), ("hello", "hello"),
])
def test_pleasantries_around_a_question_are_dropped(question: str, expected: str) -> None:
    assert without_pleasantries(question) == expected


def _articles(n: int) -> list[Article]:
    return [Article(article_id=f"a{i}", title=f"標題{i}", body="內文", date=f"2025-01-{i + 1:02d}")
            for i in range(n)]


def test_the_catalog_lists_the_newest_articles_in_the_message_language() -> None:
    newest = _articles(SHOWN + 2)
    hant = reply(CATALOG, "zh-Hant", 40, newest)
    assert hant.startswith("目前收錄 40 篇文章") and "1. 標題0（2025-01-01）" in hant
    assert f"{SHOWN}. 標題{SHOWN - 1}" in hant and f"標題{SHOWN}（" not in hant
    assert hant.endswith("\n\n可以直接問文章裡的人、事、時、地。")  # a paragraph after the list
    assert reply(CATALOG, "zh-Hans", 40, newest).startswith("目前收录 40 篇文章")
    english = reply(CATALOG, "en", 40, newest)
    assert english.startswith("The archive holds 40 articles") and "標題0" in english
    assert "rag ingest" in reply(CATALOG, "zh-Hant", 0, [])
    undated = [Article(article_id="x", title="無日期", body="b")]
    assert "無日期（日期不明）" in reply(CATALOG, "zh-Hant", 1, undated)


def test_greeting_help_and_thanks_replies() -> None:
    assert reply(GREETING, "zh-Hant", 5, []).startswith("您好！我會根據已收錄的 5 篇")
    assert "有哪些文章" in reply(HELP, "zh-Hant", 5, [])
    assert reply(GREETING, "en", 5, []).startswith("Hello! I answer questions from the 5")
    assert reply(THANKS, "zh-Hans", 5, []) == "不客气！还有其他想查的吗？"
    assert reply(THANKS, "en", 5, []).startswith("You're welcome")
