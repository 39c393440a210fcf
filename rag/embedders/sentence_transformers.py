"""Any model sentence-transformers loads, by hub name (from the local cache) or local path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rag.embed import Embedder
from rag.errors import ModelError


class SentenceTransformerEmbedder(Embedder):
    def __init__(self, model: str, batch_size: int = 32) -> None:
        super().__init__(batch_size)
        self.model_name = model
        self.name = f"sentence-transformers:{model}"
        # e5-family models were trained with these prefixes; others take the text as is.
        is_e5 = "e5" in Path(model).name.lower()
        self.prefixes = ("query: ", "passage: ") if is_e5 else ("", "")
        self._model: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = self._load()
            self.max_tokens = int(self._model.max_seq_length or 512)
        return self._model

    def _load(self) -> Any:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ModelError("需要 sentence-transformers。 Install sentence-transformers.") from exc
        local = Path(self.model_name).expanduser()
        try:
            if local.exists():
                return SentenceTransformer(str(local), device="cpu")
            # Never reach for the hub: a name must already be in the local cache.
            return SentenceTransformer(self.model_name, device="cpu", local_files_only=True)
        except Exception as exc:  # the library raises many types (OSError, ValueError, HF errors)
            raise ModelError(
                f"無法載入嵌入模型 {self.model_name}：{type(exc).__name__}: {exc}。 "
                "Could not load the model: give a local folder path, or a hub name that is "
                "already in the local Hugging Face cache (this machine does not download)."
            ) from exc

    @property
    def dim(self) -> int:
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None)  # renamed in ST 6.x
        return int(getter() if getter else model.get_sentence_embedding_dimension())

    def count_tokens(self, text: str, is_query: bool = False) -> int:
        prefix = self.prefixes[0 if is_query else 1]
        return len(self.model.tokenizer(prefix + text)["input_ids"])

    def _embed_batch(self, texts: list[str], is_query: bool) -> np.ndarray:
        prefix = self.prefixes[0 if is_query else 1]
        vectors = self.model.encode([prefix + t for t in texts], batch_size=len(texts),
                                    convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)
