"""Question answering with verified citations over Chinese news articles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.assistant import Assistant
    from rag.retrieve import Retriever

__all__ = ["Assistant", "Retriever"]


def __getattr__(name: str) -> Any:
    # Lazy: `import rag` stays cheap; the heavy stack loads when the API is first used.
    if name == "Assistant":
        from rag.assistant import Assistant

        return Assistant
    if name == "Retriever":
        from rag.retrieve import Retriever

        return Retriever
    raise AttributeError(name)
