"""The read side of one collection: its Chroma collection (model-checked) and its manifest,
opened on first use and shared by the retriever and its signals."""

from __future__ import annotations

from typing import Any

from rag import store
from rag.config import Settings
from rag.embed import Embedder
from rag.manifest import Manifest


class IndexReader:
    """Lazily opened handles; callers serialise access (the Retriever holds a lock)."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self._collection: Any = None
        self._manifest: Manifest | None = None

    @property
    def collection(self) -> Any:
        """The Chroma collection; IndexEmptyError when there is none, ModelMismatchError when
        it was built with another embedder."""
        if self._collection is None:
            collection = store.read_collection(self.settings)
            store.check_model(collection, self.embedder.name, self.settings.collection)
            self._collection = collection
        return self._collection

    @property
    def manifest(self) -> Manifest:
        if self._manifest is None:
            self._manifest = Manifest(self.settings.manifest_path)
        return self._manifest
