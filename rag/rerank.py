"""Optional cross-encoder reranking (sentence-transformers CrossEncoder by name or local path)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from rag.errors import ModelError


class Reranker(Protocol):
    def score(self, query: str, texts: list[str]) -> list[float]:
        """Relevance of each text to the query; higher is better."""
        ...


class CrossEncoderReranker:
    def __init__(self, model: str) -> None:
        self.model_name = model
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            try:
                from sentence_transformers import CrossEncoder

                local = Path(self.model_name).expanduser()
                self._model = (CrossEncoder(str(local), device="cpu") if local.exists() else
                               CrossEncoder(self.model_name, device="cpu", local_files_only=True))
            except Exception as exc:  # many error types from transformers/hub
                raise ModelError(
                    f"無法載入重排序模型 {self.model_name}：{exc}。 Could not load the reranker: "
                    "give a local folder or a name already in the local Hugging Face cache."
                ) from exc
        return self._model

    def score(self, query: str, texts: list[str]) -> list[float]:
        if not texts:
            return []
        scores = self._load().predict([(query, t) for t in texts], show_progress_bar=False)
        return [float(s) for s in scores]


def get_reranker(spec: str | None) -> Reranker | None:
    """None when no reranker is configured (the default: none ships offline)."""
    if not spec:
        return None
    return CrossEncoderReranker(spec.removeprefix("cross-encoder:"))
