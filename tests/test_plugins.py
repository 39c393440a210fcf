"""A new retrieval signal and a new answerer are each one file plus one registry line."""

from __future__ import annotations

from typing import Any

import pytest

from rag import answerers, signals
from rag.assistant import Assistant
from rag.config import Settings
from rag.errors import ConfigError
from rag.retrieve import Retriever

IURC_QUESTION = "高雄何時加入 IURC?"
IURC = "000_09d82b08e27ce1d6"
ORANGE = "003_78186f8d2590a0a8"


def test_a_toy_signal_joins_the_fusion(indexed: Settings, embedder: Any,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(signals.REGISTRY, "favourite", "toys.toy_signal:FavouriteSignal")
    plain = Retriever(indexed, embedder=embedder).retrieve(IURC_QUESTION, k=3)
    assert plain[0].article_id == IURC and "favourite" not in plain[0].scores
    heavy = indexed.with_(signals="dense=1.0,lexical=1.0,favourite=5.0")
    passages = Retriever(heavy, embedder=embedder).retrieve(IURC_QUESTION, k=3)
    assert passages[0].article_id == ORANGE and passages[0].scores["favourite"] == 1.0
    assert set(passages[0].scores) >= {"dense", "lexical", "favourite"}
    alone = Retriever(indexed, embedder=embedder, mode="favourite")
    assert {p.article_id for p in alone.retrieve(IURC_QUESTION, k=3)} == {ORANGE}
    assert alone.retrieve(IURC_QUESTION, k=3, article_ids=[IURC]) == []  # filters honoured


def test_an_unknown_signal_or_weight_is_a_config_error(indexed: Settings, embedder: Any) -> None:
    with pytest.raises(ConfigError, match="Unknown retrieval signal 'sparse'"):
        Retriever(indexed.with_(signals="dense,sparse"), embedder=embedder)
    with pytest.raises(ConfigError, match="Invalid weight"):
        Retriever(indexed.with_(signals="dense=heavy"), embedder=embedder)


def test_a_toy_answerer_answers_through_the_assistant(indexed: Settings, embedder: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(answerers.REGISTRY, "first-sentence",
                        "toys.toy_answerer:FirstSentenceAnswerer")
    retriever = Retriever(indexed, embedder=embedder)
    assistant = Assistant(indexed, retriever=retriever, answerer="first-sentence")
    stream = assistant.stream(IURC_QUESTION)
    pieces = list(stream)
    answer = stream.answer()
    assert len(pieces) == 3 and answer.backend == "first-sentence"
    assert not answer.refused and answer.citations[0].article_id == answer.passages[0].article_id
    assert answer.text.endswith("[1]") and assistant.label == "第一句 First sentence"


def test_auto_is_the_first_configured_backend_in_registry_order(
        indexed: Settings, embedder: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    retriever = Retriever(indexed, embedder=embedder)
    assert Assistant(indexed, retriever=retriever).backend == "extractive"  # no LLM URL
    order = {"first-sentence": "toys.toy_answerer:FirstSentenceAnswerer",
             **answerers.REGISTRY}
    monkeypatch.setattr(answerers, "REGISTRY", order)
    assert Assistant(indexed, retriever=retriever).backend == "first-sentence"
