"""Chroma access: the client (embedded or server), the collection and its model check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from rag.config import Settings
from rag.errors import ConfigError, IndexEmptyError, ModelMismatchError, RagError


def client(settings: Settings) -> Any:
    """PersistentClient under RAG_DATA_DIR, or HttpClient when RAG_CHROMA_URL is set."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigError(f"RAG_CHROMA_URL 無效：{settings.chroma_url}。 "
                              "Use a URL like http://127.0.0.1:8000")
        try:
            return chromadb.HttpClient(host=url.hostname, port=url.port or 8000,
                                       ssl=url.scheme == "https", settings=chroma_settings)
        except Exception as exc:  # chromadb raises ValueError/ConnectionError variants
            raise RagError(f"無法連線 Chroma 伺服器 {settings.chroma_url}：{exc}。 "
                           "Is `chroma run` up at that address?") from exc
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def open_collection(settings: Settings, model_name: str, dim: Callable[[], int]) -> Any:
    """The collection for writing; refuses one built with another embedding model."""
    c = client(settings)
    existing = _get(c, settings.collection)
    if existing is not None:
        check_model(existing, model_name, settings.collection)
        return existing
    return c.create_collection(
        settings.collection,
        metadata={"embed_model": model_name, "embed_dim": int(dim())},
        configuration={"hnsw": {"space": "cosine"}},
        embedding_function=None,
    )


def read_collection(settings: Settings) -> Any:
    """The collection for reading; a clear message when it does not exist or is empty."""
    existing = _get(client(settings), settings.collection)
    if existing is None or existing.count() == 0:
        raise IndexEmptyError(
            f"索引是空的（集合 {settings.collection}）：請先執行 `rag ingest data/corpus`。 "
            f"The index is empty: run `rag ingest data/corpus` first."
        )
    return existing


def drop_collection(settings: Settings) -> None:
    c = client(settings)
    if _get(c, settings.collection) is not None:
        c.delete_collection(settings.collection)


def check_model(collection: Any, model_name: str, name: str) -> None:
    stored = (collection.metadata or {}).get("embed_model")
    if stored and stored != model_name:
        raise ModelMismatchError(
            f"集合 {name} 是用 {stored} 建立的，現在設定的是 {model_name}。請加上 --rebuild 重建，"
            f"或用 RAG_COLLECTION 指定另一個集合。 Collection {name!r} was built with {stored!r}, "
            f"not {model_name!r}: re-run with --rebuild or choose another collection."
        )


def _get(c: Any, name: str) -> Any:
    from chromadb.errors import NotFoundError

    try:
        return c.get_collection(name, embedding_function=None)
    except NotFoundError:
        return None
