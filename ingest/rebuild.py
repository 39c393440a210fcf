"""A rebuild's swap: the new index is built beside the old one (`<name>__rebuild`, by
`Ingestor`) and swapped in only when complete, through a journal any later ingest finishes."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable

from rag import store
from rag.config import Settings
from rag.errors import StoreCorrupt
from rag.manifest import ManifestStore, discard_manifest, manifest_exists, open_manifest

log = logging.getLogger(__name__)
STAGING_SUFFIX = "__rebuild"
OLD_SUFFIX = "__old"


def staging_settings(settings: Settings) -> Settings:
    return settings.with_(collection=settings.collection + STAGING_SUFFIX)


def swap_in(settings: Settings, main: ManifestStore, staging: ManifestStore,
            check: Callable[[], None]) -> None:
    """Replace the collection with its complete staging build: journal first, so that a
    process killed at any later step leaves a swap that `finish_swap` completes."""
    check()
    main.begin_swap(staging_settings(settings).collection)
    _swap(settings, main, staging, check)


def finish_swap(settings: Settings, main: ManifestStore, check: Callable[[], None]) -> None:
    """Complete a swap that a killed rebuild left half done (its journal is set), and drop
    what a finished swap left behind. Runs under the lease, before any other write."""
    staged = staging_settings(settings)
    if main.swap_journal() is None:
        store.drop_collection(settings, settings.collection + OLD_SUFFIX)
        return
    if not manifest_exists(staged):
        raise StoreCorrupt(
            f"重建替換的記錄指向 {staged.collection}，但它已不存在。請執行 "
            f"`rag --collection {settings.collection} ingest --rebuild <你的檔案>`。 "
            f"An interrupted rebuild's journal names {staged.collection!r}, which is gone: "
            f"run `rag --collection {settings.collection} ingest --rebuild <your files>`.")
    log.warning("finishing the swap of an interrupted rebuild (%s)", staged.collection)
    with open_manifest(staged) as staging:
        _swap(settings, main, staging, check)
    discard(staged)


def _swap(settings: Settings, main: ManifestStore, staging: ManifestStore,
          check: Callable[[], None]) -> None:
    """Chroma first (two renames; each step is redone or skipped by `finish_swap`), then the
    manifest in one step that also clears the journal, then the old collection is dropped."""
    name = settings.collection
    staging_name, old = name + STAGING_SUFFIX, name + OLD_SUFFIX
    check()
    if store.exists(settings, staging_name):
        if store.exists(settings, name):
            store.drop_collection(settings, old)
            store.rename_collection(settings, name, old)
        store.rename_collection(settings, staging_name, name)
    main.adopt(staging)
    store.drop_collection(settings, old)


def discard(staged: Settings) -> None:
    """Drop a staging collection: its Chroma collection, its manifest and its local files."""
    store.drop_collection(staged)
    discard_manifest(staged)
    shutil.rmtree(staged.collection_dir, ignore_errors=True)
