"""The unanswerable asks shared by `negatives-test` and `python -m train.validate`: each
question without its gold paragraph, then each swapped question, both capped by `limit`."""

from __future__ import annotations

from train.data import Item, Paragraph
from train.negatives import Swap, negative_asks


def _item(i: int) -> Item:
    return Item(qid=f"q{i}", question=f"問題{i}？", pid=f"p{i}", article=f"a{i}",
                answers=("2020年",), answer_start=0, dataset="drcd")


PARAGRAPHS = [Paragraph(pid=f"p{i}", article=f"a{i}", title="t", text="x") for i in range(4)]
ITEMS = [_item(i) for i in range(4)]
SWAPS = {q: Swap(item=ITEMS[i], question=f"換過{i}？", kind="year", old="2020", new="2019")
         for i, q in ((1, "q1"), (2, "q2"), (3, "q3"))}


def test_removed_asks_search_everything_but_the_gold_paragraph() -> None:
    asks = negative_asks(ITEMS, PARAGRAPHS, SWAPS)
    removed = [a for a in asks if a.kind == "removed"]
    assert [a.question for a in removed] == [i.question for i in ITEMS]
    for ask in removed:
        assert ask.filters is not None and ask.filters.article_ids is not None
        assert set(ask.filters.article_ids) == {p.pid for p in PARAGRAPHS} - {ask.item.pid}


def test_swapped_asks_follow_and_both_kinds_keep_their_first_limit() -> None:
    asks = negative_asks(ITEMS, PARAGRAPHS, SWAPS, limit=2)
    assert [(a.kind, a.item.qid) for a in asks] == [
        ("removed", "q0"), ("removed", "q1"), ("swapped", "q1"), ("swapped", "q2")]
    assert [a.question for a in asks if a.kind == "swapped"] == ["換過1？", "換過2？"]
    assert all(a.filters is None for a in asks if a.kind == "swapped")
