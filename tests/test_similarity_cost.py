"""What the offline answerers embed per question: each sentence once, only the sentences that can
still be quoted, nothing for a model that does not read similarities, and the same choice as
when every sentence is embedded (real embeddings, the shipped corpus)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from rag.answerers import model as models
from rag.answerers.evidence import Evidence, sentence_units
from rag.answerers.extractive import ExtractiveAnswerer
from rag.answerers.reader import Reader
from rag.answerers.similarity import SentenceVectors
from rag.config import Settings
from rag.embed import Embedder, Wrapper
from rag.lang import Lang, detect_language
from rag.retrieve import Retriever
from rag.schema import Passage

GOLD = Path(__file__).resolve().parents[1] / "eval" / "data" / "gold.jsonl"


class Counting(Embedder):
    """A deterministic fake: a text's vector comes from its characters; calls are counted."""

    name = "counting"

    def __init__(self) -> None:
        super().__init__(batch_size=8)
        self.texts: list[str] = []

    def _embed_batch(self, texts: list[str], is_query: bool) -> np.ndarray:
        self.texts.extend(texts)
        return np.array([[len(t), sum(map(ord, t)) % 97 + 1, 1.0] for t in texts])

    @property
    def dim(self) -> int:
        return 3

    def count_tokens(self, text: str, is_query: bool = False) -> int:
        return len(text)


def test_sentence_vectors_embed_each_text_once_and_stay_bounded() -> None:
    fake = Counting()
    vectors = SentenceVectors(fake, capacity=3)
    first = vectors.similarities("問題", ["甲句子", "乙句子", "甲句子"])
    assert fake.texts == ["甲句子", "乙句子", "問題"]  # the repeat is embedded once
    assert first[0] == pytest.approx(first[2])
    vectors.similarities("問題", ["乙句子", "丙句子", "丁句子"])
    assert fake.texts[3:] == ["丙句子", "丁句子"]  # 乙 from memory, the question too
    assert vectors.embedded == 4 and len(vectors._vectors) == 3  # 甲, the oldest, went
    assert SentenceVectors(None).similarities("q", ["a", "b"]).tolist() == [0.0, 0.0]


def test_a_query_vector_is_remembered_and_read_only() -> None:
    fake = Counting()
    a, b = fake.embed_query("高雄"), fake.embed_query("高雄")
    assert fake.texts == ["高雄"] and a is b
    with pytest.raises(ValueError):
        a[0] = 0.0


def _tree(feature: int) -> dict[str, list[float]]:
    """One split on `feature`, two leaves (sklearn's layout: leaves have left = -1)."""
    return {"feature": [feature, -2, -2], "threshold": [0.5, 0.0, 0.0], "left": [1, -1, -1],
            "right": [2, -1, -1], "value": [0.0, -1.0, 1.0]}


def test_a_model_reads_only_the_features_it_splits_on_or_weighs() -> None:
    trees = models.Model(name="t", kind="trees", features=("own", "sim", "cue"),
                         params={"base": 0.0, "trees": [_tree(0), _tree(2)]})
    assert trees.reads == {"own", "cue"}
    logistic = models.Model(name="l", kind="logistic", features=("own", "sim"),
                            params={"mean": [0, 0], "scale": [1, 1], "coef": [0.7, 0.0],
                                    "intercept": 0.0})
    assert logistic.reads == {"own"}


def test_the_learned_reader_embeds_only_when_a_model_reads_similarity() -> None:
    shipped = Reader.shipped()
    assert not shipped.needs_similarity  # trained without similarities: nothing to embed
    sim_col = shipped.selector.features.index("sim")
    reading_sim = models.Model(name="s", kind="trees", features=shipped.selector.features,
                               params={"base": 0.0, "trees": [_tree(sim_col)]})
    assert Reader(reading_sim, shipped.judge).needs_similarity


class EveryOne(ExtractiveAnswerer):
    """The reference: every shown sentence embedded, as before the bound."""

    def evidence(self, question: str, passages: Sequence[Passage], lang: Lang | None = None
                 ) -> Evidence:
        units = sentence_units(passages)
        if not units:
            return Evidence([], 1.0, False)
        sims = self.vectors.similarities(question, [s.text for _, s in units])
        return self.lexical(question, passages, units, lang, [float(s) for s in sims])


def test_embedding_only_quotable_sentences_chooses_what_embedding_all_chooses(
        indexed: Settings, embedder: Embedder) -> None:
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line]
    retriever = Retriever.from_settings(indexed, embedder=embedder)
    memo = Memo(embedder)
    full = EveryOne(embedder=memo)
    compared = lazy_cost = full_cost = 0
    for row in rows[::3]:  # 69 questions: answered and refused, three languages
        question = row["question"]
        passages = retriever.retrieve(question, k=5)
        lang = detect_language(question)
        lazy = ExtractiveAnswerer(embedder=memo)  # a cold sentence cache for each question
        got = [(c.n, c.span) for c in lazy.select(question, passages, lang)]
        want = [(c.n, c.span) for c in full.select(question, passages, lang)]
        assert got == want, question
        compared += bool(want)
        lazy_cost += lazy.vectors.embedded
        full_cost += len({s.text for _, s in sentence_units(passages)})
    assert compared >= 20  # enough answered questions for the comparison to mean something
    assert lazy_cost < full_cost / 2  # measured: 147 of 564 sentences (20 bench questions)


class Memo(Wrapper):
    """The real embedder, each text embedded once for the whole test (the cost is counted by
    each answerer's own SentenceVectors)."""

    def __init__(self, inner: Embedder) -> None:
        super().__init__(inner)
        self.seen: dict[tuple[str, bool], np.ndarray] = {}

    def _embed_batch(self, texts: list[str], is_query: bool) -> np.ndarray:
        todo = [t for t in texts if (t, is_query) not in self.seen]
        if todo:
            self.seen.update(zip([(t, is_query) for t in todo],
                                 self.inner._embed_batch(todo, is_query), strict=True))
        return np.array([self.seen[(t, is_query)] for t in texts])
