"""Follow-up questions made stand-alone by rule; Gradio dict and tuple histories."""

from __future__ import annotations

from typing import Any

import pytest

from rag.rewrite import last_user_question, rewrite_by_rule, turns

PREVIOUS = "高雄何時加入 IURC?"
DICT_HISTORY: list[Any] = [{"role": "user", "content": PREVIOUS},
                           {"role": "assistant", "content": "高雄市於2025年8月加入 IURC [1]。"}]
TUPLE_HISTORY: list[Any] = [(PREVIOUS, "高雄市於2025年8月加入 IURC [1]。")]
LIST_HISTORY: list[Any] = [[PREVIOUS, "高雄市於2025年8月加入 IURC [1]。"]]
HISTORIES = pytest.mark.parametrize("history", [DICT_HISTORY, TUPLE_HISTORY, LIST_HISTORY],
                                    ids=["dict", "tuple", "list"])


@HISTORIES
@pytest.mark.parametrize("follow_up", ["那橘郡呢?", "那橘郡呢？", "橘郡呢", "至於橘郡呢?",
                                       "那麼橘郡呢?"])
def test_follow_up_takes_the_previous_question_word(history: list[Any], follow_up: str) -> None:
    rewritten = rewrite_by_rule(follow_up, history)
    assert "橘郡" in rewritten and "何時" in rewritten and "IURC" in rewritten
    assert rewritten == "橘郡何時加入 IURC?"


@pytest.mark.parametrize("history", [None, [], [{"role": "assistant", "content": "你好"}]])
def test_no_previous_question_leaves_question_unchanged(history: Any) -> None:
    assert rewrite_by_rule("那橘郡呢?", history) == "那橘郡呢?"


@HISTORIES
@pytest.mark.parametrize("question", ["檳城吸引了多少家跨國公司進駐?", "橘郡郡長是誰呢?",
                                      "橘郡是什麼時候締結姊妹市的呢?", "陳其邁去了哪裡呢?",
                                      "那誰呢?"])
def test_full_question_with_question_word_not_rewritten(history: list[Any], question: str) -> None:
    assert rewrite_by_rule(question, history) == question


@pytest.mark.parametrize("question", ["高雄的智慧交通發展如何?", "檳城的輕軌建設怎麼樣?"])
def test_full_question_ending_in_how_is_not_rewritten(question: str) -> None:
    """如何/怎麼樣 are question words: "X如何?" is a whole question, not "那X呢?". (Fails today:
    FOLLOW_UP treats a trailing 如何/怎麼樣 as a follow-up cue and only checks the words before
    it for a question word, giving "高雄的智慧交通發展何時加入 IURC?"; see the report.)"""
    assert rewrite_by_rule(question, TUPLE_HISTORY) == question


def test_english_follow_up_keeps_the_english_question() -> None:
    history = [("When did Kaohsiung join the IURC?", "In August 2025 [1].")]
    rewritten = rewrite_by_rule("What about Orange County?", history)
    assert rewritten.startswith("When did Kaohsiung join the IURC") and "Orange County" in rewritten


def test_previous_question_without_question_word_is_prefixed() -> None:
    assert rewrite_by_rule("那橘郡呢?", [("高雄與IURC", None)]) == "橘郡 高雄與IURC"


def test_the_latest_user_question_is_the_frame() -> None:
    history = [*TUPLE_HISTORY, ("檳城吸引了多少家跨國公司進駐?", "超過300家[1]。")]
    assert rewrite_by_rule("那高雄呢?", history) == "高雄吸引了多少家跨國公司進駐?"


@pytest.mark.parametrize(("previous", "follow_up", "expected"), [
    ("檳城位在哪個國家？", "那橘郡呢？", "橘郡位在哪個國家？"),  # the verb before 哪 stays
    ("檳城的願景計畫叫什麼？", "那高雄呢？", "高雄的願景計畫叫什麼？"),
    ("張子霖是什麼職位？", "李志強呢？", "李志強是什麼職位？"),
    ("高雄市長是誰？", "那橘郡郡長呢？", "橘郡郡長是誰？"),  # 高雄市 begins a longer noun
    ("高雄市政府在哪裡？", "那橘郡呢？", "橘郡哪裡？"),  # no whole subject: the old rule
])
def test_the_new_topic_takes_the_place_of_the_previous_subject(previous: str, follow_up: str,
                                                                expected: str) -> None:
    """The name before the question word is the subject a 那X呢 swaps (the old rule dropped
    everything before the question word: 檳城位在哪個國家 + 那橘郡呢 -> 橘郡哪個國家)."""
    assert rewrite_by_rule(follow_up, [(previous, "…")]) == expected


def test_turns_reads_dicts_tuples_and_lists() -> None:
    assert turns(DICT_HISTORY) == turns(TUPLE_HISTORY) == turns(LIST_HISTORY) == [
        ("user", PREVIOUS), ("assistant", "高雄市於2025年8月加入 IURC [1]。")]
    # a pending turn (assistant None), a dict without content, and junk items
    assert turns([("問題", None), {"role": "assistant", "content": None}, "junk", (1, 2, 3)]) == [
        ("user", "問題"), ("assistant", "")]
    assert turns(None) == []


def test_last_user_question_skips_assistant_and_blank_turns() -> None:
    history = [*DICT_HISTORY, {"role": "user", "content": "  "},
               {"role": "assistant", "content": "..."}]
    assert last_user_question(history) == PREVIOUS
    assert last_user_question([]) == ""
