"""Question words the answering text seldom repeats (因為, 當時, 多久) count for less, by rates
counted on training questions (`python -m train.word_weights`)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from rag.answerers import word_weights
from rag.answerers.extractive import ExtractiveAnswerer
from rag.answerers.question import Query
from rag.answerers.word_weights import WordRates, shipped_rates
from rag.errors import ConfigError
from rag.lang import Lang
from rag.schema import Passage
from rag.text import fold
from train.word_weights import word_counts, write

BACH = ("巴赫於1723年移居萊比錫。他在萊比錫擔任聖多馬教堂樂長長達二十七年，直到1750年去世。"
        "他的作品以複音音樂聞名。")


def passage(text: str) -> Passage:
    return Passage(chunk_id="a1:0", article_id="a1", title="巴赫生平", date="2025-04-16",
                   index=0, text=text, start=0, end=len(text), score=1.0)


class Unweighted(ExtractiveAnswerer):
    @staticmethod
    def query(question: str, lang: Lang | None = None) -> Query:
        return replace(ExtractiveAnswerer.query(question, lang), weights=(), missing_weights=())


def test_counts_say_how_often_the_answering_paragraph_holds_each_word() -> None:
    counts, found, asked = word_counts([
        ("a1", "巴赫為什麼移居萊比錫？", "巴赫移居萊比錫，因為那裡的教堂需要樂長。"),
        ("a2", "巴赫移居萊比錫的原因是什麼？", "巴赫於1723年移居萊比錫。"),
        ("a2", "他當時在萊比錫擔任哪個職位？", "他擔任樂長。")])
    assert counts["莱比锡"] == [2, 3, 2]  # found twice, asked three times, by two articles
    assert counts["原因"] == [0, 1, 1]
    assert "职位" not in counts  # a category noun names the answer's kind: never counted
    assert (found, asked) == (sum(r[0] for r in counts.values()),
                              sum(r[1] for r in counts.values()))


def test_a_word_seldom_found_weighs_less_and_no_word_more_than_one() -> None:
    rates = WordRates({"原因": (0, 40), "莱比锡": (30, 30), "当时": (5, 10), "罕见": (0, 1)},
                      prior=0.85)
    assert rates.weight("巴赫") == 1.0  # never asked in training: counts fully
    assert rates.weight("莱比锡") == 1.0  # found more often than words are: capped at 1
    assert rates.weight("原因") < rates.weight("当时") < 1.0
    assert rates.weight("罕见") > 0.8  # one question says little: smoothing keeps it near 1
    assert rates.weight("原因", smoothing=0.0) == 0.0
    assert rates.weights(("巴赫", "原因")) == (1.0, rates.weight("原因"))


def test_the_shipped_rates_were_counted_on_the_training_split() -> None:
    data = json.loads(word_weights.WEIGHTS_PATH.read_text(encoding="utf-8"))
    rates = shipped_rates()
    assert data["record"]["split"] == "train"
    assert 0.5 < rates.prior < 1.0
    assert all(fold(w) == w and 0 <= f <= a for w, (f, a) in rates.counts.items())
    assert rates.weight("原因") < 0.5 < rates.weight("国家")


def test_written_file_reads_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "w.json"
    write({"prior": 0.8, "words": {"原因": [1, 9]}, "record": {"split": "train"}}, out)
    monkeypatch.setattr(word_weights, "WEIGHTS_PATH", out)
    shipped_rates.cache_clear()
    try:
        assert shipped_rates().counts == {"原因": (1, 9)}
    finally:
        shipped_rates.cache_clear()


@pytest.mark.parametrize("content", ["not json", '{"words": {}}', '{"prior": 0, "words": {}}',
                                     '{"prior": 0.8, "words": {"原因": 3}}'])
def test_a_damaged_or_missing_file_says_how_to_rebuild_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str) -> None:
    bad = tmp_path / "w.json"
    bad.write_text(content, encoding="utf-8")
    for path in (bad, tmp_path / "absent.json"):
        monkeypatch.setattr(word_weights, "WEIGHTS_PATH", path)
        shipped_rates.cache_clear()
        try:
            with pytest.raises(ConfigError, match="train.word_weights"):
                shipped_rates()
        finally:
            shipped_rates.cache_clear()


def test_a_question_framed_by_a_seldom_repeated_word_is_answered() -> None:
    """因為 frames the question; the sentence that answers says 以…聞名, not 因為."""
    question = "巴赫的作品主要因為什麼聞名？"
    assert Unweighted().select(question, [passage(BACH)]) == []
    chosen = ExtractiveAnswerer().select(question, [passage(BACH)])
    assert chosen and "複音音樂" in chosen[0].span.text


def test_a_missing_name_still_refuses() -> None:
    """A name no passage has counts fully: the weights do not open the bound for it."""
    assert ExtractiveAnswerer().select("莫札特的作品主要因為什麼聞名？", [passage(BACH)]) == []


# Six sentences, so that one absent word is no longer most of a short question's weight.
BACH_LIFE = BACH + "他一生創作了一千多首作品。他的兒子們也成為音樂家。後世尊稱他為音樂之父。"


class MissingUnweighted(ExtractiveAnswerer):
    @staticmethod
    def query(question: str, lang: Lang | None = None) -> Query:
        return replace(ExtractiveAnswerer.query(question, lang), missing_weights=())


def test_a_missing_word_weighs_by_how_often_answering_paragraphs_lack_it() -> None:
    rates = WordRates({"原因": (0, 40), "莱比锡": (30, 30)}, prior=0.85,
                      tags={"v": (70, 100), "n": (95, 100)})
    assert rates.missing_weight("莱比锡") == 1.0  # found more often than words are: capped
    assert rates.missing_weight("原因") < 0.3  # absent from most answering paragraphs
    # unlisted words fall back to their part of speech: a verb is lacked 30% of the time
    assert rates.missing_weight("打算") == pytest.approx(
        0.15 / (1 - (70 + 15 * 0.85) / (100 + 15)))
    assert rates.missing_weight("人口") == 1.0  # a noun: its absence says the most
    assert WordRates({}, prior=0.85).missing_weight("打算") == pytest.approx(1.0)  # no tags


def test_the_shipped_parts_of_speech_say_verbs_and_adverbs_are_lacked_more_than_nouns() -> None:
    rates = shipped_rates()
    assert rates.tags, "rebuild with `python -m train.word_weights`"
    assert rates.missing_weight("一共") < rates.missing_weight("打算") < 1.0
    assert rates.missing_weight("人口") == 1.0


def test_a_framing_verb_the_article_words_otherwise_no_longer_refuses() -> None:
    """打算 is absent (the text says 移居, not what was planned): with the missing share
    weighed by how much an absent verb says, the date is answered."""
    question = "巴赫是哪一年打算移居萊比錫的？"
    assert MissingUnweighted().select(question, [passage(BACH_LIFE)]) == []
    chosen = ExtractiveAnswerer().select(question, [passage(BACH_LIFE)])
    assert chosen and "1723年" in chosen[0].span.text


def test_a_missing_noun_still_refuses() -> None:
    """The salary is what is asked and no passage says it: a noun's absence counts fully."""
    assert ExtractiveAnswerer().select("巴赫在萊比錫的薪水有多少？", [passage(BACH_LIFE)]) == []
