"""Answerers: the contract every backend meets, the Response it returns, and the registry."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from rag.config import Settings
from rag.errors import ConfigError
from rag.lang import Lang
from rag.schema import Draft, Passage

if TYPE_CHECKING:
    from rag.embed import Embedder


class Response:
    """Pieces of a draft as they arrive (iterate), then the whole Draft (`draft()`): callers
    never sort a mixed stream. `finish` turns the joined pieces into the Draft (e.g. decides
    whether the text is a refusal); it runs once, after the last piece."""

    def __init__(self, pieces: Iterable[str], finish: Callable[[str], Draft]) -> None:
        self._pieces = iter(pieces)
        self._finish = finish
        self._parts: list[str] = []
        self._draft: Draft | None = None

    @classmethod
    def of(cls, draft: Draft) -> Response:
        """A draft that is complete at once (one piece)."""
        return cls([draft.text], lambda _text: draft)

    def __iter__(self) -> Iterator[str]:
        for piece in self._pieces:
            self._parts.append(piece)
            yield piece
        if self._draft is None:
            self._draft = self._finish("".join(self._parts))

    def draft(self) -> Draft:
        """The whole draft; reads whatever pieces have not been read yet."""
        for _ in self:
            pass
        assert self._draft is not None
        return self._draft


class Answerer(Protocol):
    """What the Assistant relies on. Capabilities are class attributes, never probed."""

    name: ClassVar[str]  # registry id, e.g. "extractive" or "openai"
    can_rewrite: ClassVar[bool]  # rewrite() turns follow-ups into stand-alone questions
    label: str  # what the interfaces show, e.g. "抽取式（未設定 LLM）" or the model name

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        """True when the settings hold what this backend needs ("auto" picks the first)."""
        ...

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder | None = None) -> Answerer:
        ...

    def respond(self, question: str, passages: Sequence[Passage], lang: Lang) -> Response:
        """The draft for numbered passages ([n] markers are 1-based passage numbers)."""
        ...

    def rewrite(self, history: str, question: str) -> str:
        """A stand-alone version of a follow-up; only called when `can_rewrite`."""
        ...


class OfflineAnswerer:
    """What the offline answerers (extractive, learned) share: they need nothing but the index,
    answer in one piece from `draft`, and have no model to rewrite follow-ups with (those are
    rewritten by rule, rag/rewrite.py). Subclasses set `name` and `label` and write `draft`
    and `from_settings`."""

    can_rewrite: ClassVar[bool] = False

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        return True  # needs nothing but the index

    def respond(self, question: str, passages: Sequence[Passage], lang: Lang) -> Response:
        return Response.of(self.draft(question, passages, lang))

    def draft(self, question: str, passages: Sequence[Passage], lang: Lang) -> Draft:
        raise NotImplementedError

    def rewrite(self, history: str, question: str) -> str:
        raise NotImplementedError("an offline answerer has no model to rewrite with")


# name -> "module:Class"; adding a backend is one new file plus one line here. "auto" means the
# first backend, in this order, whose `configured(settings)` holds.
REGISTRY: dict[str, str] = {
    "openai": "rag.answerers.openai:OpenAIAnswerer",
    "extractive": "rag.answerers.extractive:ExtractiveAnswerer",
    # never `auto`: extractive is always configured and comes first (README "Answerers")
    "learned": "rag.answerers.learned:LearnedAnswerer",
}
FALLBACK = "extractive"  # answers when an LLM backend fails; needs nothing but the index


def answerer_class(name: str) -> Any:
    module_name, cls_name = REGISTRY[name].split(":")
    return getattr(importlib.import_module(module_name), cls_name)


def resolve_name(settings: Settings, override: str | None = None) -> str:
    """The backend to use; 'auto' is the first configured one in registry order."""
    name = override or settings.answerer
    if name == "auto":
        return next(n for n in REGISTRY if answerer_class(n).configured(settings))
    if name not in REGISTRY:
        raise ConfigError(f"未知的回答後端：{name}。 Unknown answerer {name!r}; use one of "
                          f"auto, {', '.join(REGISTRY)}.")
    return name


def get_answerer(name: str, settings: Settings, embedder: Embedder | None = None) -> Answerer:
    answerer: Answerer = answerer_class(name).from_settings(settings, embedder=embedder)
    return answerer
