"""Assistant with the extractive answerer on the real index: known answers with exact quotes,
refusals, languages, input checks, streaming, history and filters."""

from __future__ import annotations

from typing import Any

import pytest

from rag.assistant import Assistant
from rag.config import Settings
from rag.errors import ConfigError, InputError
from rag.followup import history_of
from rag.prompt import REFUSALS
from rag.retrieve import Retriever
from rag.schema import Answer, Filters
from rag.text import to_simplified

IURC = "000_09d82b08e27ce1d6"
LINKER = "001_29e2c6b1fde0e3f0"
US_TRIP = "002_d576b6d6b89d97c5"
ORANGE = "003_78186f8d2590a0a8"
PENANG = "004_450bdcc5c9fbd5dc"

# Questions whose answer sentence is unambiguous in the corpus: (question, key fact, article).
KNOWN = [
    ("高雄何時加入 IURC?", "2025年8月", IURC),
    ("檳城吸引了多少家跨國公司進駐?", "300", PENANG),
    ("橘郡郡長是誰?", "紐豪斯", ORANGE),
    ("率領代表團赴馬來西亞檳城交流的高雄市副市長是誰？", "林欽榮", PENANG),
    ("陳其邁在GTC 2025大會上親臨聆聽的是哪位執行長的主題演講？", "黃仁勳", US_TRIP),
    ("對高雄主權AI計畫表達高度肯定的美超微創辦人是誰？", "梁見後", US_TRIP),
    ("高雄市與美國紐約州橘郡在哪一天正式締結為姊妹市？", "4月15日", ORANGE),
    ("橘郡是紐約州第幾大行政區？", "第五大", ORANGE),
    ("高雄與橘郡是透過什麼方式簽署合作協議的？", "視訊會議", ORANGE),
    ("高雄市推動城市轉型有幾大主軸？", "四大主軸", PENANG),
    ("高雄目前已在城市服務中實際落實多少項智慧應用？", "50 項智慧應用", IURC),
    ("高雄市發展半導體產業推動的是什麼廊帶建設？", "S廊帶", PENANG),
]
UNANSWERABLE = [
    "高雄捷運的年度預算是多少?",
    "與高雄締結姊妹市的橘郡目前人口有多少？",
    "林欽榮分享經驗的高雄輕軌，全線總長度是多少公里？",
    "高雄巨蛋可以容納多少人？",
    "高雄市與檳城是在哪一天正式簽署姊妹市協定的？",
]


@pytest.fixture(scope="module")
def assistant(indexed: Settings, embedder: Any) -> Assistant:
    """One assistant for the module: its sentence-vector cache makes later questions cheap."""
    settings = indexed.with_(answerer="extractive")
    return Assistant(settings, retriever=Retriever(settings, embedder=embedder))


def assert_quotes_exact(assistant: Assistant, answer: Answer) -> None:
    for c in answer.citations:
        article = assistant.retriever.article(c.article_id)
        assert article is not None
        assert article.body[c.start:c.end] == c.quote, c
        assert (c.title, c.date) == (article.title, article.date)


@pytest.mark.parametrize(("question", "fact", "article_id"), KNOWN,
                         ids=[q for q, _, _ in KNOWN])
def test_known_answers_are_quoted_with_exact_citations(assistant: Assistant, question: str,
                                                       fact: str, article_id: str) -> None:
    answer = assistant.ask(question)
    assert not answer.refused and not answer.fallback and answer.backend == "extractive"
    assert fact in answer.text
    assert answer.citations and answer.citations[0].article_id == article_id
    assert fact in answer.citations[0].quote
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert "[1]" in answer.text
    assert_quotes_exact(assistant, answer)


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_unanswerable_questions_are_refused(assistant: Assistant, question: str) -> None:
    answer = assistant.ask(question)
    assert answer.refused and answer.text == REFUSALS["zh-Hant"] and answer.citations == ()
    assert answer.passages  # retrieval found something; the answerer declined


def test_english_unanswerable_refused_in_english(assistant: Assistant) -> None:
    answer = assistant.ask("Who is the Chief Minister of Penang?")
    assert answer.refused and answer.text == REFUSALS["en"]


def test_english_question_reaches_chinese_evidence_through_the_dictionary(
        assistant: Assistant) -> None:
    """"senior vice president" -> 資深 副總裁 (CC-CEDICT); the quote stays the article's text."""
    answer = assistant.ask("Which Cisco senior vice president did the Kaohsiung city team meet?")
    assert not answer.refused
    assert answer.text.startswith("According to the articles (quoted in Chinese): ")
    assert "Muhammad Issa" in answer.citations[0].quote
    assert_quotes_exact(assistant, answer)


def test_simplified_question_answered_in_simplified(assistant: Assistant) -> None:
    answer = assistant.ask("高雄何时加入IURC？")
    assert not answer.refused and "2025年8月" in answer.text
    assert answer.text == to_simplified(answer.text) and "获邀加入欧盟" in answer.text
    assert answer.citations[0].article_id == IURC
    assert "獲邀" in answer.citations[0].quote  # quotes stay the article's own text
    assert_quotes_exact(assistant, answer)


def test_traditional_question_refused_in_traditional(assistant: Assistant) -> None:
    """台 is as Traditional as 臺 (台北, 台灣): a question without Simplified-only characters is
    Traditional, so it is refused in Traditional (regression: it once came back in Simplified)."""
    answer = assistant.ask("台北101有多高？")
    assert answer.refused and answer.text == REFUSALS["zh-Hant"]


def test_english_question_gets_an_english_lead_in(assistant: Assistant) -> None:
    """The quotes stay Chinese, introduced in English (never a bare Chinese answer)."""
    answer = assistant.ask("When did Kaohsiung join IURC?")
    assert not answer.refused
    assert answer.text.startswith("According to the articles (quoted in Chinese): ")
    assert "2025年8月" in answer.text and answer.citations[0].article_id == IURC
    assert_quotes_exact(assistant, answer)


def test_english_question_naming_its_subject_in_chinese(assistant: Assistant) -> None:
    """The Chinese names are the question's words (they were dropped, and it was refused in
    Chinese); the answer opens in English."""
    answer = assistant.ask("When did 林欽榮 visit Penang?")
    assert not answer.refused
    assert answer.text.startswith("According to the articles (quoted in Chinese): ")
    assert answer.citations[0].article_id == PENANG and "林欽榮" in answer.citations[0].quote
    assert_quotes_exact(assistant, answer)


def test_english_follow_up_to_a_chinese_question_keeps_the_chinese_topic(
        assistant: Assistant) -> None:
    history = [{"role": "user", "content": "林欽榮在檳城和哪位行政議員交流？"},
               {"role": "assistant", "content": "方美錸"}]
    answer = assistant.ask("Who else did he meet there?", history=history)
    assert not answer.refused and answer.text.startswith("According to the articles")
    assert answer.citations[0].article_id == PENANG


@pytest.mark.parametrize("switch", ["燈塔計畫是什麼？", "What is 燈塔計畫?"])
def test_a_follow_up_on_a_new_topic_is_not_kept_in_the_previous_article(
        assistant: Assistant, switch: str) -> None:
    """No pronoun and no name the analyser knows, but 燈塔 is not in the Penang article: the
    user changed topic (before: answered with the Penang article's first sentence)."""
    first = assistant.ask("林欽榮在檳城和哪位行政議員交流？")
    answer = assistant.ask(switch, history=history_of([first]))
    assert not answer.refused
    assert {c.article_id for c in answer.citations} == {LINKER}
    assert "燈塔計畫" in answer.citations[0].quote


def test_small_talk_is_answered_without_the_articles(assistant: Assistant) -> None:
    """「謝謝」 was answered with an article's sentence about 感謝, 「有哪些文章？」 refused."""
    thanks = assistant.ask("謝謝")
    assert thanks.conversational and not thanks.refused and not thanks.citations
    assert thanks.text == "不客氣！還有其他想查的嗎？"
    catalog = assistant.ask("有哪些文章？")
    assert catalog.conversational and catalog.text.startswith("目前收錄 5 篇文章")
    assert "高雄與橘郡締結姊妹市" in catalog.text
    assert assistant.ask("What articles do you have?").text.startswith("The archive holds 5")
    assert catalog.to_dict()["conversational"] is True


def test_which_articles_mention_a_topic(assistant: Assistant) -> None:
    """「有關於NVIDIA的新聞嗎？」 was refused; now each article naming it is quoted once."""
    answer = assistant.ask("有關於NVIDIA的新聞嗎？")
    assert not answer.refused and answer.text.startswith("有 2 篇文章提到「NVIDIA」：")
    assert {c.article_id for c in answer.citations} == {LINKER, US_TRIP}
    assert all("NVIDIA" in c.quote for c in answer.citations)
    assert_quotes_exact(assistant, answer)
    english = assistant.ask("Which articles mention Penang?")
    assert [c.article_id for c in english.citations] == [PENANG]
    none = assistant.ask("哪些文章提到東京？")
    assert none.refused and none.text == "沒有文章提到「東京」。" and none.related


def test_a_summary_quotes_the_lead_of_the_article_on_the_topic(assistant: Assistant) -> None:
    """「總結一下燈塔計畫」 and "Summarize the Penang visit." were refused."""
    answer = assistant.ask("總結一下燈塔計畫")
    assert not answer.refused and answer.text.startswith("〈高雄點亮主權 AI 燈塔")
    assert {c.article_id for c in answer.citations} == {LINKER} and len(answer.citations) == 3
    assert_quotes_exact(assistant, answer)
    english = assistant.ask("Summarize the Penang visit.")
    assert {c.article_id for c in english.citations} == {PENANG}
    assert assistant.ask("總結一下東京奧運").refused  # no article holds it
    latest = assistant.ask("最新的一篇文章在講什麼？")  # refused before
    assert {c.article_id for c in latest.citations} == {IURC} and not latest.refused
    assert_quotes_exact(assistant, latest)


def test_a_greeting_before_a_question_neither_refuses_it_nor_becomes_its_topic(
        assistant: Assistant) -> None:
    plain = assistant.ask("橘郡郡長是誰？")
    greeted = assistant.ask("你好，橘郡郡長是誰？謝謝")  # refused before
    assert not greeted.refused and greeted.text == plain.text
    hello = assistant.ask("你好")
    follow = assistant.ask("燈塔計畫得了什麼獎？", history=history_of([hello]))
    assert not any("rewritten" in n for n in follow.notices)  # 你好 is no topic to carry


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_is_an_input_error(assistant: Assistant, question: str) -> None:
    with pytest.raises(InputError, match="empty"):
        assistant.ask(question)


def test_none_question_is_an_input_error(assistant: Assistant) -> None:
    with pytest.raises(InputError):
        assistant.ask(None)  # type: ignore[arg-type]


def test_overlong_question_is_truncated_with_a_notice(assistant: Assistant) -> None:
    limit = assistant.settings.max_question_chars
    question = "高雄何時加入 IURC?" + "請詳細說明。" * limit
    answer = assistant.ask(question)
    assert len(answer.question) == limit and question.startswith(answer.question)
    assert any(f"truncated to {limit} characters" in n for n in answer.notices)


def test_stream_yields_text_pieces_then_holds_the_answer(assistant: Assistant) -> None:
    stream = assistant.stream("高雄何時加入 IURC?")
    pieces = list(stream)
    assert pieces and all(isinstance(p, str) for p in pieces)
    final = stream.answer()
    assert isinstance(final, Answer) and "2025年8月" in "".join(pieces)
    assert final.text == assistant.ask("高雄何時加入 IURC?").text
    assert list(stream) == [] and stream.answer() is final  # read once, then kept


def test_stream_with_nothing_retrieved_has_no_pieces_and_a_refusal(assistant: Assistant) -> None:
    stream = assistant.stream("高雄何時加入 IURC?", filters=Filters(article_ids=()))
    assert list(stream) == []
    assert stream.answer().refused and stream.answer().passages == ()


def test_a_closed_stream_does_no_more_work(assistant: Assistant) -> None:
    stream = assistant.stream("高雄何時加入 IURC?")
    stream.close()
    assert list(stream) == []
    with pytest.raises(AssertionError, match="closed"):
        stream.answer()


def test_empty_article_list_in_a_dict_is_an_empty_selection(assistant: Assistant) -> None:
    """Like Retriever.retrieve(article_ids=[]) and Filters(article_ids=()): nothing selected,
    nothing searched."""
    assert assistant.retriever.retrieve("高雄何時加入 IURC?", article_ids=[]) == []
    answer = assistant.ask("高雄何時加入 IURC?", filters={"article_ids": []})
    assert answer.refused and answer.passages == ()


def test_follow_up_rewritten_by_rule_without_an_llm(assistant: Assistant) -> None:
    history = [{"role": "user", "content": "高雄何時加入 IURC?"},
               {"role": "assistant", "content": "高雄市於2025年8月加入 IURC [1]。"}]
    answer = assistant.ask("那橘郡呢?", history=history)
    assert "改寫後的問題 rewritten question: 橘郡何時加入 IURC?" in answer.notices
    assert answer.question == "那橘郡呢?"
    assert assistant.standalone("那橘郡呢?", [("高雄何時加入 IURC?", "…")]) == "橘郡何時加入 IURC?"
    assert assistant.standalone("那橘郡呢?", None) == "那橘郡呢?"


@pytest.mark.parametrize("filters", [{"article_ids": [ORANGE]},
                                     Filters(article_ids=(ORANGE,))], ids=["dict", "Filters"])
def test_article_filter_limits_the_citations(assistant: Assistant, filters: Any) -> None:
    answer = assistant.ask("橘郡郡長是誰?", filters=filters)
    assert answer.passages and {p.article_id for p in answer.passages} == {ORANGE}
    assert {c.article_id for c in answer.citations} <= {ORANGE}


def test_date_filter_before_every_article_refuses(assistant: Assistant) -> None:
    answer = assistant.ask("高雄何時加入 IURC?", filters={"before": "2020-01-01", "after": ""})
    assert answer.refused and answer.passages == ()


def test_label_and_backend(assistant: Assistant, indexed: Settings) -> None:
    assert assistant.backend == "extractive" and "抽取式" in assistant.label
    with pytest.raises(ConfigError):
        Assistant(indexed, retriever=assistant.retriever, answerer="gpt-9")


def test_answer_to_dict_is_json_ready(assistant: Assistant) -> None:
    import json

    data = assistant.ask("橘郡郡長是誰?").to_dict()
    assert set(data) >= {"question", "answer", "refused", "citations", "backend", "timings"}
    assert data["citations"][0]["article_id"] == ORANGE
    assert set(data["citations"][0]) >= {"n", "article_id", "title", "date", "quote"}
    json.dumps(data, ensure_ascii=False)


@pytest.mark.parametrize("question", ["台北101有多高？", "Who is the mayor of Taipei?"])
def test_an_english_refusal_is_english_and_a_chinese_one_chinese(assistant: Assistant,
                                                                  question: str) -> None:
    answer = assistant.ask(question)
    lang = "en" if question.isascii() else "zh-Hant"
    assert answer.refused and answer.text == REFUSALS[lang]


@pytest.mark.parametrize("question", [42, b"bytes", ["list"]])
def test_a_question_that_is_not_text_is_an_input_error(assistant: Assistant,
                                                       question: Any) -> None:
    with pytest.raises(InputError, match="must be a str"):
        assistant.ask(question)
