"""Answerers: one-method backends that turn a question and numbered passages into a draft."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from rag.config import Settings
from rag.errors import ConfigError
from rag.schema import Passage


class Answerer(Protocol):
    name: str  # backend id, e.g. "extractive" or "openai"
    label: str  # what the interfaces show, e.g. "抽取式（未設定 LLM）" or the model name

    def stream(self, question: str, passages: Sequence[Passage], lang: str) -> Iterator[str]:
        """Pieces of the draft answer, with [n] markers pointing at passages (1-based)."""
        ...


# name -> "module:Class"; adding a backend is one new file plus one line here.
REGISTRY: dict[str, str] = {
    "extractive": "rag.answerers.extractive:ExtractiveAnswerer",
    "openai": "rag.answerers.openai:OpenAIAnswerer",
}


def resolve_name(settings: Settings, override: str | None = None) -> str:
    """'auto' means openai when an LLM server is configured, extractive otherwise."""
    name = override or settings.answerer
    if name == "auto":
        name = "openai" if settings.llm_base_url else "extractive"
    if name not in REGISTRY:
        raise ConfigError(f"未知的回答後端：{name}。 Unknown answerer {name!r}; use one of "
                          f"auto, {', '.join(REGISTRY)}.")
    return name


def get_answerer(name: str, settings: Settings, **kwargs: Any) -> Answerer:
    module_name, cls_name = REGISTRY[name].split(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    answerer: Answerer = cls.from_settings(settings, **kwargs)
    return answerer
