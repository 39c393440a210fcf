"""Retrieval signals: the contract each one meets (a name, a weight, `scores`), the registry,
and the `RAG_SIGNALS` spec that picks them. The retriever fuses whatever list it is given."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

from rag.config import Settings
from rag.errors import ConfigError
from rag.lang import Lang
from rag.schema import Filters

if TYPE_CHECKING:
    from rag.index_reader import IndexReader


@dataclass(frozen=True)
class SignalQuery:
    """What every signal sees of a query: its text and its language (decided once)."""

    text: str
    lang: Lang


class Signal(Protocol):
    name: ClassVar[str]  # registry id; also the key of Passage.scores
    weight: float  # its share in the fusion

    @classmethod
    def from_settings(cls, settings: Settings, index: IndexReader, weight: float) -> Signal:
        ...

    def scores(self, query: SignalQuery, pool: int, filters: Filters) -> dict[str, float]:
        """Up to `pool` chunk ids with a score (higher is better) among chunks that pass
        `filters`; only the ranking within one signal matters to the fusion."""
        ...


HYBRID = "hybrid"  # retrieval mode: every configured signal; any other mode is one signal alone
# name -> "module:Class"; adding a signal is one new file plus one line here.
REGISTRY: dict[str, str] = {
    "dense": "rag.signals.dense:DenseSignal",
    "lexical": "rag.signals.lexical:LexicalSignal",
}


def parse_spec(spec: str) -> list[tuple[str, float]]:
    """'dense=1.0,lexical=1.0' -> [("dense", 1.0), ("lexical", 1.0)]; a bare name weighs 1."""
    out: list[tuple[str, float]] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        name, _, weight = part.partition("=")
        name = name.strip()
        if name not in REGISTRY:
            raise ConfigError(f"RAG_SIGNALS 有未知的檢索訊號 {name!r}。 Unknown retrieval signal "
                              f"{name!r} in {spec!r}; known: {', '.join(REGISTRY)}.")
        try:
            value = float(weight) if weight.strip() else 1.0
        except ValueError as exc:
            raise ConfigError(f"RAG_SIGNALS 的權重無效：{part!r}。 Invalid weight in {part!r}; "
                              "write name=number, e.g. dense=1.0,lexical=1.0.") from exc
        out.append((name, value))
    if not out:
        raise ConfigError("RAG_SIGNALS 是空的。 RAG_SIGNALS names no signal; e.g. "
                          "dense=1.0,lexical=1.0.")
    return out


def build(settings: Settings, index: IndexReader, only: str | None = None) -> list[Signal]:
    """The configured signals (or just `only`, a registry name, at weight 1)."""
    chosen = [(only, 1.0)] if only else parse_spec(settings.signals)
    if only and only not in REGISTRY:
        raise ConfigError(f"未知的檢索訊號 {only}。 Unknown retrieval signal {only!r}; "
                          f"use hybrid or one of {', '.join(REGISTRY)}.")
    signals = []
    for name, weight in chosen:
        module_name, cls_name = REGISTRY[name].split(":")
        cls = getattr(importlib.import_module(module_name), cls_name)
        signals.append(cls.from_settings(settings, index, weight))
    return signals
