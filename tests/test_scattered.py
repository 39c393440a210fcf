"""A quote's article must hold enough of the question together: a question about news the
archive does not hold can find each of its words in some passage, but not in one article."""

from __future__ import annotations

from dataclasses import replace

from rag.answerers.extractive import MIN_ARTICLE_COVERAGE, ExtractiveAnswerer, scattered
from rag.schema import Passage


def passage(article: str, title: str, text: str, n: int = 0) -> Passage:
    return Passage(chunk_id=f"{article}:{n}", article_id=article, title=title,
                   date="2025-08-01", index=n, text=text, start=0, end=len(text), score=1.0)


ANSWERER = ExtractiveAnswerer(threshold=0.35)
# Three reports: a book fair in Kaohsiung, a bridge opening in Tainan, a bakery's sales.
SHOWN = [
    passage("a1", "高雄書展", "高雄書展於8月1日在展覽館開幕，共有120家出版社參展。展期三天，主辦"
            "單位預估入場人次將超過五萬。"),
    passage("a2", "台南新橋通車", "台南運河上的新橋昨日通車，市長主持剪綵儀式。新橋全長300公尺。"),
    passage("a3", "烘焙坊業績", "某烘焙坊上半年營收成長兩成，門市增加到十家。"),
]


def test_an_article_holding_the_question_together_answers() -> None:
    chosen = ANSWERER.select("高雄書展有多少家出版社參展？", SHOWN)
    assert chosen and chosen[0].ctx >= MIN_ARTICLE_COVERAGE
    assert "120家" in chosen[0].span.text


def test_words_found_only_across_articles_are_refused() -> None:
    # each word is shown somewhere; the article naming 台南新橋 holds none of the rest
    question = "台南新橋書展有多少家出版社參展？"
    evidence = ANSWERER.evidence(question, SHOWN)
    assert evidence.missing <= 0.3  # the words-missing bound alone would let it through
    assert ANSWERER.select(question, SHOWN) == []


def test_english_questions_are_not_held_to_it() -> None:
    """English words reach the Chinese text through dictionary senses, which miss more; the
    floor was measured on Chinese questions only."""
    best = ANSWERER.select("高雄書展有多少家出版社參展？", SHOWN)[0]
    assert scattered(replace(best, ctx=0.2))
    assert not scattered(replace(best, ctx=0.2, english=True))
