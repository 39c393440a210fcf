"""A toy answerer: quotes the first sentence of the first passage, cited [1]."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rag.answerers import Response
from rag.config import Settings
from rag.embed import Embedder
from rag.lang import Lang
from rag.schema import Draft, Passage
from rag.text import split_sentences


class FirstSentenceAnswerer:
    name: ClassVar[str] = "first-sentence"
    can_rewrite: ClassVar[bool] = False
    label = "第一句 First sentence"

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        return True

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder | None = None
                      ) -> FirstSentenceAnswerer:
        return cls()

    def respond(self, question: str, passages: Sequence[Passage], lang: Lang) -> Response:
        first = split_sentences(passages[0].text)[0].text
        return Response(iter([first[:4], first[4:], "[1]"]), lambda text: Draft(text))

    def rewrite(self, history: str, question: str) -> str:
        raise NotImplementedError
