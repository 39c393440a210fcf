"""When the extractive answerer answers, the learned selector's best sentence is quoted too if
the answer misses it; refusals are the extractive answerer's alone."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

from rag.answerers.extractive import ExtractiveAnswerer
from rag.answerers.question import Query
from rag.schema import Passage
from rag.text import Span, split_sentences

BACH = ("巴赫於1723年5月在萊比錫正式上任，接替去世的庫瑙。巴赫的薪水由市議會支付，每年約七百塔勒。"
        "他的作品以複音音樂聞名。")


def passage(text: str) -> Passage:
    return Passage(chunk_id="a1:0", article_id="a1", title="巴赫生平", date="2025-04-16",
                   index=0, text=text, start=0, end=len(text), score=1.0)


class Selector:
    """Stands in for the learned answerer: says sentence `pick` of passage 1 answers."""

    def __init__(self, pick: int) -> None:
        self.pick = pick
        self.asked: list[str] = []

    def read(self, query: Query, passages: Sequence[Passage]) -> SimpleNamespace:
        self.asked.append(query.text)
        units: list[tuple[int, Span]] = [(1, s) for s in split_sentences(passages[0].text)]
        return SimpleNamespace(best=self.pick, units=units)


def answerer(pick: int) -> tuple[ExtractiveAnswerer, Selector]:
    extractive, selector = ExtractiveAnswerer(), Selector(pick)
    extractive.second = selector  # type: ignore[assignment]
    return extractive, selector


def test_the_selectors_sentence_is_quoted_after_the_answer_when_it_is_missed() -> None:
    extractive, _ = answerer(pick=1)  # the salary sentence
    text = extractive.draft("巴赫何時上任？", [passage(BACH)], "zh-Hant").text
    assert text.index("1723年5月") < text.index("七百塔勒")
    assert text.count("[1]") == 2


def test_a_sentence_already_quoted_is_not_quoted_again() -> None:
    extractive, selector = answerer(pick=0)  # the sentence the answer quotes
    text = extractive.draft("巴赫何時上任？", [passage(BACH)], "zh-Hant").text
    assert selector.asked and text.count("1723年5月") == 1 and "七百塔勒" not in text


def test_a_refusal_stays_a_refusal_and_the_selector_is_not_asked() -> None:
    extractive, selector = answerer(pick=1)
    draft = extractive.draft("莫札特何時上任？", [passage(BACH)], "zh-Hant")
    assert draft.refused and selector.asked == []


def test_the_shipped_selector_agrees_on_a_plain_question() -> None:
    """The real models: the sentence both choose is quoted once."""
    extractive = ExtractiveAnswerer()
    chosen = extractive.select("巴赫何時上任？", [passage(BACH)])
    assert chosen and "1723" in chosen[0].span.text
    assert extractive.second_opinion("巴赫何時上任？", [passage(BACH)], None, chosen) is None
