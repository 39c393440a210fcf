"""A word the passages lack counts through a shown part of it only when each of its pieces is
shown: a question about 日本大使館 is not answered from a text about 德國大使館."""

from __future__ import annotations

from rag.answerers.evidence import gather, resolve, sentence_units
from rag.answerers.extractive import ExtractiveAnswerer
from rag.answerers.question import analyse, pieces
from rag.schema import Passage
from rag.text import fold


def passage(text: str) -> Passage:
    return Passage(chunk_id="a1:0", article_id="a1", title="使館活動", date="2025-07-28",
                   index=0, text=text, start=0, end=len(text), score=1.0)


ANSWERER = ExtractiveAnswerer(threshold=0.35)
BERLIN = [passage("7月27日晚，中國駐德國大使館在柏林舉行招待會，國防武官王強少將致辭。"
                  "約三百人出席招待會。")]


def test_pieces_cut_a_word_into_smaller_dictionary_words() -> None:
    assert pieces("日本大使馆") == ("日本", "大使馆")
    assert pieces("搜狐公司") == ("搜狐", "公司")
    assert all(len(p) == 1 for p in pieces("长纽"))  # nothing smaller to require
    assert pieces("港") == ("港",) and pieces("") == ()


def test_a_part_stands_for_the_word_only_when_every_piece_is_shown() -> None:
    shown = fold("中國駐德國大使館舉行招待會，水利部對河北的防汛工作作出部署。")
    assert resolve("日本大使馆", shown) == "大使馆"  # any part, as before
    assert resolve("日本大使馆", shown, whole_parts=True) == "日本大使馆"  # 日本 is not shown
    assert resolve("河北省", shown, whole_parts=True) == "河北"  # 省 is a single character


def test_another_countrys_embassy_does_not_answer() -> None:
    assert ANSWERER.select("中國駐德國大使館的國防武官是誰？", BERLIN)
    assert ANSWERER.select("中國駐日本大使館的國防武官是誰？", BERLIN) == []


def test_only_the_extractive_reading_requires_whole_parts() -> None:
    """The learned models were trained on `analyse` without it: their features stay."""
    units = sentence_units(BERLIN)
    question = "中國駐日本大使館的國防武官是誰？"
    plain = gather(analyse(question), BERLIN, units, [0.0] * len(units))
    strict = gather(ExtractiveAnswerer.query(question), BERLIN, units, [0.0] * len(units))
    assert plain.candidates[0].names == 1.0 and strict.candidates[0].names < 1.0
