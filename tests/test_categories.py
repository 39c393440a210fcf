"""A keyword query's category nouns (國家, 職務) count as what it asks for, as they do after a
question word; the nouns are learned from training questions by `python -m train.categories`."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answerers import categories
from rag.answerers.categories import category_nouns, keyword_categories
from rag.answerers.extractive import ExtractiveAnswerer
from rag.answerers.question import analyse
from rag.schema import Passage
from rag.text import fold
from train.categories import category_counts, frequent


def passage(text: str) -> Passage:
    return Passage(chunk_id="a1:0", article_id="a1", title="標題", date="2025-04-16", index=0,
                   text=text, start=0, end=len(text), score=1.0)


def test_a_noun_counts_once_per_article_that_asks_it() -> None:
    counts = category_counts([
        ("a1", "他來自哪個國家？"), ("a1", "她是哪一個國家的人？"),
        ("a2", "蘇利南是哪個國家的殖民地？"), ("a3", "這家公司在哪個城市？"), ("a3", "總統是誰？")])
    assert counts == {"国家": 2, "城市": 1}
    assert frequent(counts, 2) == ["国家"]


@pytest.mark.parametrize(("question", "found"), [
    ("巴赫 出生 國家 城市", {"国家", "城市"}),  # keywords: the nouns name what is asked
    ("巴赫 萊比錫 職務", {"职务"}),
    ("巴赫 出生 萊比錫", set()),  # no category noun
])
def test_a_keyword_query_gets_its_category_nouns(question: str, found: set[str]) -> None:
    query = keyword_categories(analyse(question))
    assert query.categories == found
    assert query.words == analyse(question).words  # still words: coverage reads them


@pytest.mark.parametrize("question", [
    "巴赫出生在哪個國家？",  # a question word: its own categories stand
    "巴赫 出生 城市 在哪",
    "Which country was Bach born in?",  # English reads CC-CEDICT senses
])
def test_a_question_with_a_question_word_is_left_as_it_is(question: str) -> None:
    query = analyse(question)
    assert keyword_categories(query, frozenset({"国家", "城市", "country"})) == query


def test_the_shipped_nouns_are_folded_and_were_learned_on_the_training_split() -> None:
    import json

    data = json.loads(categories.CATEGORIES_PATH.read_text(encoding="utf-8"))
    nouns = category_nouns()
    assert {"国家", "城市", "公司", "职务"} <= nouns
    assert all(fold(w) == w for w in nouns)
    assert data["record"]["split"] == "train"
    assert all(data["record"]["articles_per_word"][w] >= data["record"]["min_articles"]
               for w in data["words"])


def test_a_keyword_query_is_answered_once_its_category_noun_is_not_required(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """國家 is in no sentence (it says 德國); required, it made the query look unanswered."""
    ps = [passage("作曲家巴赫於1685年出生在德國的愛森納赫。他後來在萊比錫擔任教堂樂長。")]
    answerer = ExtractiveAnswerer()
    picked = answerer.select("巴赫 出生 國家", ps)
    assert [c.span.text for c in picked] == ["作曲家巴赫於1685年出生在德國的愛森納赫。"]
    assert answerer.select("巴赫 出生 國家 身高", ps) == []  # a missing word still counts
    monkeypatch.setattr(categories, "category_nouns", lambda: frozenset())
    assert answerer.select("巴赫 出生 國家", ps) == []


@pytest.mark.parametrize("content", [None, "{not json", '{"nouns": []}'])
def test_a_missing_or_damaged_category_file_says_how_to_rebuild_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None) -> None:
    from rag.errors import ConfigError

    path = tmp_path / "categories.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    monkeypatch.setattr(categories, "CATEGORIES_PATH", path)
    category_nouns.cache_clear()
    try:
        with pytest.raises(ConfigError, match="python -m train.categories"):
            category_nouns()
    finally:
        category_nouns.cache_clear()
