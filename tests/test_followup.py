"""Follow-ups without an LLM (rag/followup.py): which kind a follow-up is, the topic it carries,
the articles its retrieval is restricted to, chains of follow-ups, and the history the UI and the
eval pass (with the articles each answer came from). Pure functions; no index."""

from __future__ import annotations

from typing import Any

import pytest

from rag.followup import (
    ELLIPTICAL,
    NEW,
    SWITCH,
    absent_words,
    answered_from,
    history_of,
    is_elliptical,
    resolve,
    switched_topic,
    topic,
)
from rag.schema import Answer, Citation, Passage

IURC = "000_09d82b08e27ce1d6"
LINKER = "001_29e2c6b1fde0e3f0"
US_TRIP = "002_d576b6d6b89d97c5"
PENANG = "004_450bdcc5c9fbd5dc"


def _answer(question: str, article: str, refused: bool = False) -> Answer:
    passage = Passage(chunk_id=f"{article}#0", article_id=article, title="t", date="", index=0,
                      text="x", start=0, end=1)
    citation = Citation(n=1, article_id=article, title="t", date="", quote="x", start=0, end=1)
    return Answer(question=question, text="答[1]", refused=refused,
                  citations=() if refused else (citation,), passages=(passage,),
                  related=(passage,) if refused else ())


def test_history_carries_the_articles_each_answer_came_from() -> None:
    history = history_of([_answer("歐盟IURC代表團哪天到高雄？", IURC),
                          _answer("高雄何時加入 IURC？", US_TRIP, refused=True)])
    assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant"]
    assert history[1]["article_ids"] == [IURC]
    assert history[3]["article_ids"] == [US_TRIP]  # a refusal: the closest article it saw
    assert answered_from(Answer(question="q", text="t", refused=True)) == ()


@pytest.mark.parametrize("follow_up", ["那是誰帶隊的？", "還有誰陪同？", "他們去了幾天？",
                                       "When?", "How many people live there?", "那次是誰帶隊？"])
def test_elliptical_follow_ups_are_restricted_to_the_previous_article(follow_up: str) -> None:
    history = history_of([_answer("歐盟IURC代表團哪天到高雄？", IURC)])
    follow = resolve(follow_up, history)
    assert follow.kind == ELLIPTICAL and follow.articles == (IURC,)
    assert follow.question.startswith("歐盟IURC代表團到高雄，")


def test_that_time_keeps_its_that() -> None:
    """那 before a measure word is "that", not the connective (it became 次是誰帶隊)."""
    history = history_of([_answer("高雄去年11月去西班牙參加了什麼？", IURC)])
    follow = resolve("那次是誰帶隊？", history)
    assert follow.kind == ELLIPTICAL and follow.question.endswith("，那次是誰帶隊？")
    assert resolve("那天誰致詞？", history).question.endswith("，那天誰致詞？")


def test_a_pronoun_subject_gives_way_to_the_carried_topic() -> None:
    history = history_of([_answer("陳其邁率市府團隊去了美國哪裡？", US_TRIP)])
    assert resolve("他們去了幾天？", history).question == "陳其邁率市府團隊去了美國，去了幾天？"


@pytest.mark.parametrize(("follow_up", "kind"), [
    ("那橘郡呢？", SWITCH), ("what about Penang?", SWITCH),
    ("陳其邁訪美時參加了哪一場大會？", NEW), ("檳城吸引了多少家跨國公司進駐？", NEW)])
def test_a_follow_up_with_its_own_subject_is_not_restricted(follow_up: str, kind: str) -> None:
    follow = resolve(follow_up, history_of([_answer("檳城位在哪個國家？", IURC)]))
    assert follow.kind == kind and follow.articles == ()


def test_a_chain_carries_the_first_topic_not_the_growing_question() -> None:
    history = history_of([_answer("歐盟IURC代表團哪天到高雄？", IURC),
                          _answer("那是誰帶隊的？", IURC)])
    follow = resolve("還有誰陪同？", history)
    assert follow.question == "歐盟IURC代表團到高雄，誰陪同？" and follow.articles == (IURC,)


@pytest.mark.parametrize("history", [
    None, [], [{"role": "assistant", "content": "你好"}]])
def test_no_previous_question_leaves_the_question_alone(history: Any) -> None:
    assert resolve("那是誰帶隊的？", history).question == "那是誰帶隊的？"


def test_plain_histories_carry_the_topic_without_articles() -> None:
    for history in ([("歐盟IURC代表團哪天到高雄？", "6日[1]")],
                    [{"role": "user", "content": "歐盟IURC代表團哪天到高雄？"},
                     {"role": "assistant", "content": "6日[1]"}]):
        follow = resolve("那是誰帶隊的？", history)
        assert follow.kind == ELLIPTICAL and follow.articles == ()
        assert "歐盟IURC代表團" in follow.question


def test_topic_drops_the_question_word_with_its_measure_word() -> None:
    assert topic("高雄是橘郡的第几个姐妹市？") == "高雄是橘郡的姐妹市"
    assert topic("陳其邁在GTC現場和哪些台灣企業交流？") == "陳其邁在GTC現場和台灣企業交流"
    assert topic("燈塔計畫是什麼？") == "燈塔計畫"
    assert topic("誰？") == "誰"  # nothing but a question word: kept as it is


@pytest.mark.parametrize(("question", "expected"), [
    ("那是誰帶隊的？", True), ("他第一次來台灣是什麼時候？", True), ("Name a few of them.", True),
    ("橘郡郡長是誰？", False), ("林欽榮跟檳城分享了高雄哪方面的經驗？", False)])
def test_elliptical_means_no_subject_of_its_own(question: str, expected: bool) -> None:
    assert is_elliptical(question) is expected


def _passage(article: str, text: str) -> Passage:
    return Passage(chunk_id=f"{article}#0", article_id=article, title="t", date="", index=0,
                   text=text, start=0, end=len(text))


def test_only_an_unanchored_follow_up_keeps_its_own_words() -> None:
    history = history_of([_answer("林欽榮在檳城和哪位行政議員交流？", PENANG)])
    switch = resolve("燈塔計畫是什麼？", history)
    assert switch.kind == ELLIPTICAL and switch.own == ("灯塔", "计划")
    assert resolve("那是誰帶隊的？", history).own == ()  # 那 ties it to the previous turn
    assert resolve("他們聊了什麼主題？", history).own == ()  # so does 他們


@pytest.mark.parametrize(("previous_body", "top", "switched"), [
    ("林欽榮率團赴檳城交流。", _passage(LINKER, "燈塔計畫獲得獎項。"), True),
    # every own word is in the previous article: a follow-up on it
    ("檳城的燈塔計畫啟動。", _passage(LINKER, "燈塔計畫獲得獎項。"), False),
    # the question as asked is still best answered by the previous article
    ("林欽榮率團赴檳城交流。", _passage(PENANG, "燈塔計畫。"), False),
    # the missing word is not in the other article's passage either
    ("林欽榮率團赴檳城交流。", _passage(LINKER, "高雄獲得獎項。"), False),
])
def test_a_new_topic_is_an_own_word_the_previous_article_lacks_and_another_has(
        previous_body: str, top: Passage, switched: bool) -> None:
    follow = resolve("燈塔計畫是什麼？", history_of([_answer("林欽榮在檳城和誰交流？", PENANG)]))
    missing = absent_words(follow.own, [previous_body])
    assert switched_topic(missing, follow.articles, [top]) is switched
    assert switched_topic(missing, follow.articles, []) is False


def test_a_turn_answered_from_other_articles_was_a_new_topic_for_the_next_one() -> None:
    history = history_of([_answer("林欽榮在檳城和哪位行政議員交流？", PENANG),
                          _answer("燈塔計畫得了什麼獎？", LINKER)])
    follow = resolve("跟哪些夥伴合作？", history)
    assert follow.articles == (LINKER,) and follow.question.startswith("燈塔計畫得了獎，")


def test_a_follow_up_to_a_search_carries_its_topic_and_articles() -> None:
    history = history_of([_answer("有關於NVIDIA的新聞嗎？", LINKER), _answer("你好", LINKER)])
    follow = resolve("高雄跟他們怎麼合作？", history)
    assert follow.question.startswith("NVIDIA，") and follow.articles == (LINKER,)


def test_a_follow_up_to_a_summary_carries_its_topic() -> None:
    history = history_of([_answer("總結一下燈塔計畫", LINKER)])
    follow = resolve("跟哪些夥伴合作？", history)
    assert follow.question == "燈塔計畫，跟哪些夥伴合作？" and follow.articles == (LINKER,)


def test_a_follow_up_to_the_latest_article_is_asked_in_it_without_the_request_words() -> None:
    history = history_of([_answer("最新的一篇文章在講什麼？", IURC)])
    follow = resolve("誰帶隊？", history)
    assert follow.question == "誰帶隊？" and follow.articles == (IURC,)
