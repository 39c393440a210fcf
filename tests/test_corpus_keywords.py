"""`rag eval --dataset corpus-keywords`: the gold set's Chinese questions as keyword queries,
with their ids, answers and splits; English ones are left out."""

from __future__ import annotations

from eval.dataset import GOLD_PATH, load_gold
from eval.datasets import DATASETS
from eval.datasets.corpus_keywords import CORPUS_KEYWORDS
from rag.answerers.question import keywords


def test_the_gold_questions_are_asked_as_their_keywords() -> None:
    gold = load_gold(GOLD_PATH)
    assert DATASETS["corpus-keywords"] is CORPUS_KEYWORDS
    asked = CORPUS_KEYWORDS.questions(gold)
    chinese = [i for i in gold if i.lang != "en"]
    assert [i.id for i in asked] == [i.id for i in chinese]
    for item, original in zip(asked, chinese, strict=True):
        assert item.question == keywords(original.question)  # a keyword item stays as it is
        assert (item.split, item.answerable, item.key_facts) == (
            original.split, original.answerable, original.key_facts)
        assert not any(w in item.question for w in ("哪", "誰", "谁", "什麼", "什么"))
    assert {i.split for i in asked} == {"tune", "heldout"}


def test_keywords_keep_the_content_words_in_the_question_s_script() -> None:
    assert keywords("巴赫出生在哪個國家？") == "巴赫 出生 國家"
    assert keywords("巴赫出生在哪个国家？") == "巴赫 出生 国家"
