"""Which articles mention something (rag/mentions.py): the messages that ask it, the sentence
quoted per article, and the reply in the message's language. Pure functions; no index."""

from __future__ import annotations

import pytest
from test_gold_data import evaluation_questions

from rag.mentions import pick, reply, searched_topic, terms
from rag.schema import Passage


@pytest.mark.parametrize(("message", "topic"), [
    ("哪些文章提到橘郡？", "橘郡"), ("有哪些新聞提到「燈塔計畫」", "燈塔計畫"),
    ("有關於NVIDIA的新聞嗎？", "NVIDIA"), ("有没有关于西班牙的新闻？", "西班牙"),
    ("找一下陳其邁的報導", "陳其邁"), ("Which articles mention Penang?", "Penang"),
    ("Is there any news about Orange County?", "Orange County"),
    ("show me articles about Supermicro", "Supermicro"),
])
def test_a_which_articles_message_names_its_topic(message: str, topic: str) -> None:
    assert searched_topic(message) == topic


@pytest.mark.parametrize("message", [
    "有哪些文章？", "橘郡郡長是誰？", "文章提到哪些科技公司？", "What did the article say?",
    "有哪些公司的消息？", "Is there news about which county joined?"])
def test_other_messages_are_not_searches(message: str) -> None:
    assert searched_topic(message) is None


def test_no_evaluation_question_is_taken_for_a_search() -> None:
    assert [q for q in evaluation_questions() if searched_topic(q)] == []


def _passage(article: str, text: str, chunk: int = 0, start: int = 0) -> Passage:
    return Passage(chunk_id=f"{article}#{chunk}", article_id=article, title=f"標題{article}",
                   date="2025-04-16", index=chunk, text=text, start=start,
                   end=start + len(text))


def test_each_article_is_quoted_once_by_its_first_sentence_naming_the_topic() -> None:
    passages = [_passage("a", "高雄市政府宣布。橘郡位於紐約州。橘郡有軍校。", start=100),
                _passage("b", "沒有提到。"),
                _passage("a", "橘郡郡長致詞。", chunk=1),
                _passage("c", "高雄與橘郡締盟。")]
    found = pick(passages, terms("橘郡", "zh-Hant"))
    assert [(c.n, c.article_id, c.quote) for c in found] == [
        (1, "a", "橘郡位於紐約州。"), (2, "c", "高雄與橘郡締盟。")]
    assert (found[0].start, found[0].end) == (108, 116)  # offsets in the article body
    assert pick(passages, terms("東京", "zh-Hant")) == []


def test_an_english_topic_is_found_by_its_chinese_sense() -> None:
    assert "槟城" in terms("Penang", "en")
    found = pick([_passage("p", "林欽榮率團赴檳城交流。")], terms("Penang", "en"))
    assert [c.quote for c in found] == ["林欽榮率團赴檳城交流。"]


def test_replies_list_the_articles_or_say_none_mentions_it() -> None:
    found = pick([_passage("a", "橘郡位於紐約州。"), _passage("c", "高雄與橘郡締盟。")],
                 ("橘郡",))
    text = reply("橘郡", "zh-Hant", found)
    assert text.splitlines() == ["有 2 篇文章提到「橘郡」：",
                                 "1. 標題a（2025-04-16）：「橘郡位於紐約州。」[1]",
                                 "2. 標題c（2025-04-16）：「高雄與橘郡締盟。」[2]"]
    assert reply("橘郡", "zh-Hans", found).startswith("有 2 篇文章提到「橘郡」：\n1. 标题a")
    assert reply("Orange", "en", found[:1]).startswith('1 article mentions "Orange":')
    assert reply("東京", "zh-Hant", []) == "沒有文章提到「東京」。"
    assert reply("Tokyo", "en", []) == 'No article in the archive mentions "Tokyo".'
