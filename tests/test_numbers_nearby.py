"""The extractive answerer's number checks: a question's own years and amounts must be in the
quoted sentence or next to it (a swapped 2019 is not answered by the 2021 sentence), and a
多少 / 幾 question needs an amount that is not part of a date."""

from __future__ import annotations

from rag.answerers.evidence import gather, sentence_units
from rag.answerers.extractive import ExtractiveAnswerer
from rag.answerers.question import analyse
from rag.schema import Passage


def passage(text: str) -> Passage:
    return Passage(chunk_id="a1:0", article_id="a1", title="高雄市政", date="2025-03-20",
                   index=0, text=text, start=0, end=len(text), score=1.0)


ANSWERER = ExtractiveAnswerer(threshold=0.35)
PLAN = [passage("2021年高雄市推出智慧路燈計畫，由資訊處負責。這是另一段與此無關的說明文字。"
                "另有介紹提到2019年的交通建設。")]


def test_the_questions_year_must_be_in_the_quote_or_next_to_it() -> None:
    assert ANSWERER.select("2021年高雄市推出什麼計畫？", PLAN)
    assert ANSWERER.select("2019年高雄市推出什麼計畫？", PLAN) == []


def test_a_how_many_question_needs_an_amount_that_is_not_a_date() -> None:
    dates_only = [passage("高雄市捷運紅線的車站於2008年3月9日啟用，由高雄捷運公司營運。")]
    assert ANSWERER.select("高雄市捷運紅線有多少車站？", dates_only) == []
    counted = [passage("高雄市捷運紅線於2008年3月9日通車，全線共有二十四座車站。")]
    chosen = ANSWERER.select("高雄市捷運紅線有多少車站？", counted)
    assert chosen and "二十四座" in chosen[0].span.text


def test_only_the_extractive_reading_checks_numbers() -> None:
    """The learned models were trained on `analyse` without the check: their features stay."""
    units = sentence_units(PLAN)
    plain = gather(analyse("2019年高雄市推出什麼計畫？"), PLAN, units, [0.0] * len(units))
    checked = gather(ExtractiveAnswerer.query("2019年高雄市推出什麼計畫？"), PLAN, units,
                     [0.0] * len(units))
    assert plain.candidates[0].typed and not checked.candidates[0].typed
