"""The read side of one collection: its Chroma collection (model-checked) and its manifest,
opened on first use and shared by the retriever and its signals; and the health check that
tells a reader when the index is half-written (an interrupted ingest or rebuild)."""

from __future__ import annotations

import time
from typing import Any

from rag import store
from rag.config import Settings
from rag.embed import Embedder
from rag.errors import StoreCorrupt
from rag.lease import host_name, is_stale
from rag.manifest import ManifestStore, open_manifest

HEALTH_SECONDS = 2.0  # the health check reads the lease, the pending marks and two counts


class IndexReader:
    """Lazily opened handles; callers serialise access (the Retriever holds a lock)."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self._collection: Any = None
        self._manifest: ManifestStore | None = None
        self._health: tuple[float, list[str]] = (float("-inf"), [])

    @property
    def collection(self) -> Any:
        """The Chroma collection; IndexEmptyError when there is none, ModelMismatchError when
        it was built with another embedder, StoreCorrupt when the manifest was lost while
        Chroma still holds chunks, StoreUnavailable when the server cannot be reached."""
        if self._collection is None:
            collection = store.read_collection(self.settings)
            store.check_model(collection, self.embedder.name, self.settings.collection)
            self._check_manifest(collection)
            self._collection = collection
        return self._collection

    @property
    def manifest(self) -> ManifestStore:
        if self._manifest is None:
            self._manifest = open_manifest(self.settings)
        return self._manifest

    def _check_manifest(self, collection: Any) -> None:
        """A manifest that never saw a write beside a collection full of chunks was lost
        (deleted, or truncated to zero bytes): every answer would be a silent refusal."""
        manifest = self.manifest
        if manifest.generation > 0 or manifest.count() != (0, 0):
            return
        lease = manifest.lease()
        if lease is not None and not is_stale(lease, time.time(), host_name()):
            return  # the first ingest is writing: health_notices() says so
        n = collection.count()
        raise StoreCorrupt(
            f"索引清單是空的或遺失了（{self.settings.manifest_path}），但 Chroma 集合 "
            f"{self.settings.collection} 仍有 {n} 個片段。請重新匯入同一批檔案以重建清單："
            f"rag --collection {self.settings.collection} ingest <你的檔案>。 The manifest is "
            f"empty or missing while Chroma holds {n} chunks of {self.settings.collection!r}: "
            f"run `rag --collection {self.settings.collection} ingest <your files>` to rebuild "
            "it (Chroma is reconciled with your files).")

    def health_notices(self) -> list[str]:
        """Notices when the index may be half-written; checked at most every HEALTH_SECONDS."""
        checked, notices = self._health
        if time.monotonic() - checked < HEALTH_SECONDS:
            return list(notices)
        notices = self._check_health()
        self._health = (time.monotonic(), notices)
        return list(notices)

    def _check_health(self) -> list[str]:
        manifest = self.manifest
        staging = manifest.swap_journal()
        if staging is not None:
            return [f"重建替換中或被中斷（{staging}）：結果可能不完整，"
                    f"執行 `rag ingest` 可完成替換。 A rebuild is being swapped in, or its swap "
                    f"was interrupted ({staging}): results may be incomplete; running "
                    "`rag ingest` finishes the swap."]
        pending = manifest.pending()
        _, in_manifest = manifest.count()
        in_chroma = self.collection.count()
        if not pending and in_chroma != in_manifest:
            manifest.refresh()  # a mirror a few seconds behind a finished ingest is no alarm
            _, in_manifest = manifest.count()
        if not pending and in_chroma == in_manifest:
            return []
        lease = manifest.lease()
        if lease is not None and not is_stale(lease, time.time(), host_name()):
            return [f"匯入進行中（{lease.describe()}）：新文章可能尚未能檢索。 An ingest is "
                    f"running ({lease.describe()}): articles it is writing may not be "
                    "searchable yet."]
        return [f"上次匯入被中斷：{len(pending)} 篇文章寫到一半，Chroma 有 {in_chroma} 個片段、"
                f"清單有 {in_manifest} 個；回答可能缺少這些文章。請再執行一次 `rag ingest "
                f"<你的檔案>` 完成它。 The last ingest was interrupted: {len(pending)} "
                f"article(s) half-written, Chroma holds {in_chroma} chunks and the manifest "
                f"{in_manifest}; answers may miss them. Run `rag ingest <your files>` again "
                "to finish it."]
