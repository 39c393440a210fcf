"""同義詞詞林 in the extractive answerer: a reworded question word counts as present through its
synonyms, and a "which country" question needs a sentence naming a country."""

from __future__ import annotations

import pytest

from rag.answerers.evidence import gather, sentence_units
from rag.answerers.extractive import ExtractiveAnswerer
from rag.answerers.question import analyse, new_name
from rag.answerers.thesaurus import MIN_CHARS, names_country, synonyms, widen
from rag.schema import Passage
from rag.text import fold


def passage(text: str, article: str = "a1", title: str = "標題") -> Passage:
    return Passage(chunk_id=f"{article}:0", article_id=article, title=title,
                   date="2025-04-16", index=0, text=text, start=0, end=len(text), score=1.0)


def test_synonyms_are_folded_words_of_two_characters_or_more() -> None:
    found = synonyms("带队")
    assert "率领" in found and "带队" not in found
    assert all(len(w) >= MIN_CHARS for w in found)
    assert synonyms("不是一个词") == ()


@pytest.mark.parametrize(("text", "country"), [
    ("他是美国人", True), ("来自马来西亚的代表", True), ("中国大陆", True),
    ("義大利發行過郵票", True), ("索馬利亞的海港", True), ("尼西亞帝國繼承法統", True),
    ("欧盟代表团亲自率领", False), ("高雄市政府", False), ("全國各地", False)])
def test_names_country(text: str, country: bool) -> None:
    """詞林's names, Taiwan's forms (義大利 for 意大利) and 帝國/王國 names, in folded text."""
    assert names_country(fold(text)) is country


@pytest.mark.parametrize(("question", "asks"), [
    ("他是哪國人？", True), ("他是哪国人？", True), ("代表團來自哪一個國家？", True),
    ("他的國籍是什麼？", True), ("Which country is he from?", True), ("是哪一國製造的？", True),
    ("他是誰？", False), ("檳城在哪裡？", False), ("是哪一個國王的雕像？", False),
    ("成為哪個國際酒店集團的成員？", False)])
def test_which_country_questions(question: str, asks: bool) -> None:
    assert analyse(question).asks_country is asks
    assert widen(analyse(question)).needs_country is asks
    assert not analyse(question).needs_country  # only the widened query checks


def test_widen_gives_each_chinese_word_its_synonyms() -> None:
    query = widen(analyse("是誰帶隊的？"))
    assert "率领" in dict(zip(query.words, query.senses, strict=True))["带队"]


def test_a_reworded_word_is_covered_by_its_synonym_only_when_widened() -> None:
    ps = [passage("此次訪團由歐盟第一參事親自率領，拜會高雄市政府。")]
    units = sentence_units(ps)
    plain = gather(analyse("歐盟訪團帶隊拜會的是誰？"), ps, units, [0.0] * len(units))
    wide = gather(widen(analyse("歐盟訪團帶隊拜會的是誰？")), ps, units, [0.0] * len(units))
    assert wide.missing < plain.missing
    assert wide.candidates[0].own > plain.candidates[0].own


def test_which_country_is_refused_without_a_country_and_answered_with_one() -> None:
    answerer = ExtractiveAnswerer(threshold=0.35)
    without = [passage("此次訪團由歐盟第一參事 Andreas Röttger 親自率領。")]
    assert answerer.select("Andreas Röttger 是哪國人？", without) == []
    with_one = [passage("此次訪團由德國籍的歐盟第一參事 Andreas Röttger 親自率領。")]
    assert answerer.select("Andreas Röttger 是哪國人？", with_one)


@pytest.mark.parametrize(("question", "sentence", "plain", "widened"), [
    ("1997年時誰創立了網易公司？", "1997年丁磊創立網易公司。", False, True),  # a 2-character name
    ("人工智能的基本原理需要谁来研究？", "基本原理需要数学家来研究。", False, True),  # a role
    ("誰率領代表團？", "代表團於6日抵達高雄。", False, False),  # jieba's "name" 高雄 is a place
    ("誰推動這項計畫？", "這項計畫推動智慧醫療。", False, False),  # and 智慧 a common word
    ("誰率領代表團？", "代表團由 Andreas Röttger 率領。", True, True),
    ("Who founded NetEase?", "1997年丁磊創立網易公司。", False, False)])  # measured on Chinese
def test_who_is_answered_by_a_name_or_a_role_when_widened(question: str, sentence: str,
                                                          plain: bool, widened: bool) -> None:
    assert new_name(sentence, analyse(question)) is plain
    assert new_name(sentence, widen(analyse(question))) is widened
