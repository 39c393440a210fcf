"""Chroma access: the client (embedded or server), the collection and its model check, renames
for a rebuild's swap, and the guard that turns a lost server into StoreUnavailable."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from rag.config import Settings
from rag.errors import ConfigError, IndexEmptyError, ModelMismatchError, StoreUnavailable

log = logging.getLogger(__name__)
# what a guarded collection forwards (reads and writes); anything else is an attribute
_CALLS = frozenset({"add", "count", "delete", "get", "modify", "peek", "query", "upsert"})


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
            raise unavailable(settings, exc) from exc
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def unavailable(settings: Settings, exc: BaseException) -> StoreUnavailable:
    where = settings.chroma_url or str(settings.chroma_dir)
    return StoreUnavailable(
        f"無法連線 Chroma 伺服器 {where}：{exc}。請確認 `chroma run` 已在該位址啟動，稍後再試。 "
        f"The Chroma server at {where} cannot be reached ({exc}): is `chroma run` up at that "
        "address? Retry once it is back; nothing was lost.")


def is_unreachable(exc: BaseException) -> bool:
    """A transport failure (refused, reset, timed out), as opposed to Chroma answering with an
    error. chromadb's HTTP client raises httpx's errors, which are not a declared dependency
    here, so they are recognised by module."""
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    return any(cls.__module__.split(".")[0] in ("httpx", "httpcore")
               for cls in type(exc).__mro__)


class GuardedCollection:
    """A Chroma collection whose calls raise StoreUnavailable when the server is lost, and that
    finds its collection again by name when the handle went stale (a rebuild swapped it)."""

    def __init__(self, settings: Settings, name: str, collection: Any,
                 reopen: Callable[[], Any] | None = None) -> None:
        self._settings = settings
        self._name = name
        self._collection = collection
        self._reopen = reopen

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._collection, attr)
        if attr not in _CALLS:
            return value
        return lambda *args, **kwargs: self._call(attr, *args, **kwargs)

    def _call(self, attr: str, *args: Any, **kwargs: Any) -> Any:
        from chromadb.errors import NotFoundError

        try:
            try:
                return getattr(self._collection, attr)(*args, **kwargs)
            except NotFoundError:
                if self._reopen is None:
                    raise
                self._collection = self._reopen()  # renamed away by a swap: the new one
                return getattr(self._collection, attr)(*args, **kwargs)
        except Exception as exc:
            if is_unreachable(exc):
                raise unavailable(self._settings, exc) from exc
            raise

    @property
    def raw(self) -> Any:
        return self._collection


def guard(settings: Settings, fn: Callable[[], Any]) -> Any:
    """Run one Chroma call; a lost server becomes StoreUnavailable."""
    try:
        return fn()
    except Exception as exc:
        if is_unreachable(exc):
            raise unavailable(settings, exc) from exc
        raise


def open_collection(settings: Settings, model_name: str, dim: Callable[[], int],
                    name: str | None = None, command: str | None = None) -> GuardedCollection:
    """The collection for writing (`name`, default the configured one); refuses one built with
    another embedding model, naming `command` as the safe way to rebuild it."""
    name = name or settings.collection
    c = client(settings)
    existing = get(settings, name, c)
    if existing is not None:
        check_model(existing, model_name, name, command)
        return GuardedCollection(settings, name, existing)
    created = guard(settings, lambda: c.create_collection(
        name,
        metadata={"embed_model": model_name, "embed_dim": int(dim())},
        configuration={"hnsw": {"space": "cosine", "ef_search": settings.hnsw_ef_search}},
        embedding_function=None,
    ))
    return GuardedCollection(settings, name, created)


def search_breadth(settings: Settings, collection: Any) -> None:
    """Give a collection made before `hnsw_ef_search` existed (Chroma's default, 100) the
    configured search breadth; a query-time setting, so nothing is rebuilt. A store that
    refuses the change (a read-only server) keeps answering with its own, with a warning.

    Chroma fixes a collection's breadth when a process first loads its index, which a count
    does as well as a query: a change made after that is stored but searched with only from
    the next start (seen on 1M chunks: recall@10 of noisy queries stayed 0.535 after a change
    to 100 in the process that made it, 0.210 in the next). Hence `get` calls this before
    handing a collection out."""
    hnsw = (collection.configuration or {}).get("hnsw") or {}
    if hnsw.get("ef_search") == settings.hnsw_ef_search:
        return
    try:
        guard(settings, lambda: collection.modify(
            configuration={"hnsw": {"ef_search": settings.hnsw_ef_search}}))
    except StoreUnavailable:
        raise
    except Exception as exc:  # chromadb's own errors vary by version and mode
        log.warning("HNSW ef_search stays %s: %s", hnsw.get("ef_search"), exc)


def read_collection(settings: Settings) -> GuardedCollection:
    """The collection for reading; a clear message when it does not exist or is empty."""
    existing = get(settings, settings.collection)
    if existing is None or guard(settings, existing.count) == 0:
        raise IndexEmptyError(
            f"索引是空的（集合 {settings.collection}）：請先執行 `rag ingest data/corpus`。 "
            f"The index is empty: run `rag ingest data/corpus` first."
        )
    return GuardedCollection(settings, settings.collection, existing,
                             reopen=lambda: _must_get(settings, settings.collection))


def drop_collection(settings: Settings, name: str | None = None) -> None:
    c = client(settings)
    name = name or settings.collection
    if get(settings, name, c) is not None:
        guard(settings, lambda: c.delete_collection(name))


def rename_collection(settings: Settings, old: str, new: str) -> None:
    c = client(settings)
    collection = _must_get(settings, old, c)
    guard(settings, lambda: collection.modify(name=new))


def exists(settings: Settings, name: str) -> bool:
    return get(settings, name) is not None


def check_model(collection: Any, model_name: str, name: str, command: str | None = None) -> None:
    stored = (collection.metadata or {}).get("embed_model")
    if stored and stored != model_name:
        command = command or f"rag --collection {name} ingest --rebuild <your files>"
        raise ModelMismatchError(
            f"集合 {name} 是用 {stored} 建立的，現在設定的是 {model_name}。要沿用此集合，請設定 "
            f"RAG_EMBED_MODEL={stored}；要改用 {model_name}，請執行 `{command}`"
            "（新索引在旁邊建好後才替換，失敗時舊索引不動），或用 RAG_COLLECTION 指定另一個集合。 "
            f"Collection {name!r} was built with {stored!r}, not {model_name!r}: set "
            f"RAG_EMBED_MODEL={stored} to use it, or run `{command}` to re-embed it with "
            f"{model_name!r} (built beside the old one and swapped in only when complete; a "
            "failed rebuild leaves the old index as it was), or choose another collection."
        )


def get(settings: Settings, name: str, c: Any = None) -> Any:
    """The named collection, None when it does not exist; the chunks' collection with the
    configured HNSW search breadth set before anything else touches it (`search_breadth`)."""
    from chromadb.errors import NotFoundError

    c = c or client(settings)
    try:
        found = guard(settings, lambda: c.get_collection(name, embedding_function=None))
    except NotFoundError:
        return None
    if name == settings.collection:
        search_breadth(settings, found)
    return found


def _must_get(settings: Settings, name: str, c: Any = None) -> Any:
    found = get(settings, name, c)
    if found is None:
        raise IndexEmptyError(
            f"索引是空的（集合 {name}）：請先執行 `rag ingest data/corpus`。 "
            f"The index is empty (no collection {name!r}): run `rag ingest data/corpus` first.")
    return found
