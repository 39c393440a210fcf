"""Hand-made eval results (no retrieval, no models) shared by the tests of eval/."""

from __future__ import annotations

from eval.dataset import GoldItem
from eval.item import ItemResult
from rag.schema import Answer, Citation, Passage


def answer(text: str, refused: bool = False, cited: tuple[str, ...] = ()) -> Answer:
    """An answer citing one passage per text in `cited` (passage i is article c<i>)."""
    passages = tuple(Passage(chunk_id=f"c{i}:0", article_id=f"c{i}", title="t", date="",
                             index=0, text=t, start=0, end=len(t)) for i, t in enumerate(cited))
    citations = tuple(Citation(n=i + 1, article_id=p.article_id, title="t", date="",
                               quote=p.text, start=0, end=p.end) for i, p in enumerate(passages))
    return Answer(question="q", text=text, refused=refused, citations=citations,
                  passages=passages)


def results() -> list[ItemResult]:
    """Four questions, hand-scored in the tests:

    g1 tune, answered right; g2 heldout, answerable but refused (gold article second);
    g3 heldout, unanswerable and refused; g4 tune, unanswerable yet answered.
    """
    g1 = GoldItem(id="g1", question="誰甲", answerable=True, key_facts=(("甲",),),
                  article_ids=("a1",), evidence=("句子甲。",), category="person")
    g2 = GoldItem(id="g2", question="何時乙", answerable=True, key_facts=(("乙",),),
                  article_ids=("a2",), evidence=("句子乙。",), category="date", split="heldout")
    g3 = GoldItem(id="g3", question="丙呢", answerable=False, category="unanswerable",
                  split="heldout")
    g4 = GoldItem(id="g4", question="丁呢", answerable=False, category="unanswerable")
    ranked, texts = ("a1", "a2"), ("句子甲。", "句子乙。")
    return [
        ItemResult(item=g1, ranked_articles=ranked, ranked_texts=texts,
                   answer=answer("甲。[1]", cited=("前文句子甲。",)),
                   seconds={"retrieve": 0.1, "answer": 0.2}),
        ItemResult(item=g2, ranked_articles=ranked, ranked_texts=texts,
                   answer=answer("無法回答。", refused=True),
                   seconds={"retrieve": 0.3, "answer": 0.4}),
        ItemResult(item=g3, ranked_articles=ranked, ranked_texts=texts,
                   answer=answer("無法回答。", refused=True), seconds={"retrieve": 0.1}),
        ItemResult(item=g4, ranked_articles=ranked, ranked_texts=texts,
                   answer=answer("丁是甲。[1]", cited=("無關。",)), seconds={"retrieve": 0.1}),
    ]
