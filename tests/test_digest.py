"""Summaries on request (rag/digest.py): which messages ask for one, the lead sentences quoted
(headings and short lines skipped), whether an article holds the topic, and the reply. Pure
functions; no index."""

from __future__ import annotations

import pytest
from test_gold_data import evaluation_questions

from rag.digest import asks_latest, covers, lead, reply, summary_topic
from rag.schema import Article

BODY = ("昨(18)日,高雄市副市長林欽榮率領代表團赴馬來西亞檳城進行交流。\n"
        "共同願景:打造綠色智慧城市\n"
        "雙方圍繞醫療、交通、智慧治理等多項議題展開熱烈對話。\n"
        "好。\n"
        "檳城政府以「檳城2030願景計畫」為藍圖,致力於打造綠色智慧城市。\n"
        "高雄市則以淨零科技為主軸,積極推動城市轉型與合作。")
ARTICLE = Article(article_id="p", title="高雄與檳城攜手", body=BODY, date="2024-10-19")


@pytest.mark.parametrize(("message", "topic"), [
    ("總結一下燈塔計畫", "燈塔計畫"), ("請摘要關於橘郡的報導", "橘郡"),
    ("请总结一下橘郡的新闻", "橘郡"),
    ("檳城交流的重點是什麼？", "檳城交流"), ("「高雄與檳城攜手」的重點是什麼？", "高雄與檳城攜手"),
    ("Summarize the Penang visit.", "the Penang visit"),
    ("What is the gist of the sister-city deal?", "the sister-city deal"),
])
def test_a_summary_request_names_its_topic(message: str, topic: str) -> None:
    assert summary_topic(message) == topic


@pytest.mark.parametrize("message", [
    "燈塔計畫是什麼？", "哪個計畫的重點是什麼？", "誰總結了會議？", "What did they summarize?",
    "總結報告何時發布？", "總結報告發布了嗎？"])
def test_other_messages_are_not_summary_requests(message: str) -> None:
    assert summary_topic(message) is None


def test_no_evaluation_question_is_taken_for_a_summary_request() -> None:
    assert [q for q in evaluation_questions() if summary_topic(q) or asks_latest(q)] == []


@pytest.mark.parametrize(("message", "latest"), [
    ("最新的一篇文章在講什麼？", True), ("最近的新聞是什麼", True), ("最新消息？", True),
    ("What is the latest article about?", True), ("what's new?", True),
    ("最新的燈塔計畫是什麼？", False), ("最近高雄有什麼新聞？", False), ("有哪些文章？", False)])
def test_what_the_newest_article_says(message: str, latest: bool) -> None:
    assert asks_latest(message) is latest


def test_the_lead_skips_headings_and_short_lines_and_keeps_exact_offsets() -> None:
    quoted = lead(ARTICLE)
    assert [c.n for c in quoted] == [1, 2, 3]
    assert quoted[1].quote.startswith("雙方圍繞") and quoted[2].quote.startswith("檳城政府")
    assert all(BODY[c.start:c.end] == c.quote for c in quoted)
    assert len(lead(ARTICLE, n=1)) == 1


def test_an_article_must_hold_half_of_the_topic_words() -> None:
    assert covers(ARTICLE, {"槟城": ("槟城",), "交流": ("交流",)})
    assert covers(ARTICLE, {"槟城": ("槟城",), "奥运": ("奥运",)})  # half is enough
    assert not covers(ARTICLE, {"东京": ("东京",), "奥运": ("奥运",)})
    assert not covers(ARTICLE, {})


def test_the_reply_names_the_article_and_resolves_relative_dates() -> None:
    quoted = lead(ARTICLE, n=2)
    text = reply(ARTICLE, "zh-Hant", quoted)
    assert text.startswith("〈高雄與檳城攜手〉（2024-10-19）的重點：\n昨(18)日〔2024-10-18〕")
    assert text.endswith("展開熱烈對話。[2]")
    assert reply(ARTICLE, "zh-Hans", quoted).startswith("〈高雄与槟城携手〉")
    assert reply(ARTICLE, "en", quoted).startswith('Summary of "高雄與檳城攜手" (2024-10-19)')
