"""The per-collection manifest: its storage contract (`ManifestStore`) and the SQLite one."""

from __future__ import annotations

import functools
import importlib
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, ParamSpec, Protocol, Self, TypeVar

from rag.config import Settings
from rag.errors import StoreCorrupt
from rag.lease import Lease, LeaseStore
from rag.schema import Article, Chunk

# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class Entry:
    """What the manifest knows of one article."""

    article: Article
    content_hash: str
    duplicate_of: str | None


@dataclass(frozen=True, kw_only=True)
class StoredChunk:
    """A committed chunk with the metadata of its article that a Passage needs."""

    chunk_id: str
    article_id: str
    index: int
    start: int
    end: int
    text: str
    title: str
    date: str
    reporter: str
    source: str


class ChunkRow(NamedTuple):
    """What the lexical index reads of a chunk. A tuple (not a dataclass) because
    `LexicalIndex.build` takes plain 4-tuples and callers unpack it; read it by name."""

    chunk_id: str
    article_id: str
    date: str  # the article's ISO date, "" when unknown
    text: str


# ---------------------------------------------------------------- the contract


class ManifestBatch(Protocol):
    """The writes of one `ManifestStore.batch()`: all become visible together, or none."""

    def put(self, *, article: Article, content_hash: str, chunks: Sequence[Chunk],
            bands: Sequence[str], duplicate_of: str | None = None) -> None:
        """Replace everything held for `article.article_id` (and clear its pending mark)."""

    def delete(self, article_id: str) -> None:
        """Forget the article, its chunks, bands and pending mark (unknown ids are ignored)."""

    def relocate(self, article_id: str, source: str) -> None:
        """Record that the article (content unchanged) now comes from `source` (a moved file,
        or a path spelled another way); unknown ids are ignored."""


class ManifestStore(LeaseStore, Protocol):
    """Everything ingest, retrieval, the lexical index and the UI rely on; a second backend
    implements exactly this and passes tests/test_manifest_contract.py.

    An article's rows are written only after its chunks are in the vector store, so a crash
    leaves the article to be redone on the next run, never half-indexed."""

    # -- reading
    @property
    def generation(self) -> int:
        """Bumped by every batch that wrote something; derived indexes compare it to know
        they are stale (0 for a new manifest)."""

    def entries(self) -> dict[str, Entry]:
        """Every article, duplicates included, by id."""

    def article(self, article_id: str) -> Article | None: ...

    def duplicates_of(self, article_ids: Iterable[str]) -> list[Entry]:
        """The articles recorded as near-duplicates of any of `article_ids`, by id."""

    def candidates(self, bands: Iterable[str]) -> set[str]:
        """Ids of the articles that share at least one LSH band with `bands`."""

    def count(self) -> tuple[int, int]:
        """(indexed articles, chunks); duplicates are not counted as articles."""

    def newest(self, n: int) -> list[Article]:
        """The `n` most recent indexed articles, by date then title (duplicates left out;
        undated ones last)."""

    def chunk_rows(self) -> Iterator[ChunkRow]:
        """Every chunk with its article's date, ordered by article id then chunk index."""

    def all_chunks(self) -> Iterator[Chunk]:
        """Every chunk as stored, in the order of `chunk_rows`."""

    def stored_chunks(self, chunk_ids: Sequence[str]) -> dict[str, StoredChunk]:
        """The committed chunks among `chunk_ids`, with their article's metadata, by chunk id
        (a chunk in the vector store but not here belongs to an interrupted ingest: left out)."""

    def pending(self) -> list[str]:
        """Articles whose batch was interrupted between the vector write and the commit."""

    def refresh(self) -> None:
        """Catch up now with writes committed by other processes (a server store's mirror is
        otherwise checked at most every few seconds); a no-op for a local store."""

    # -- writing
    def mark_pending(self, article_ids: Iterable[str]) -> None:
        """Record, durably and before the vector store is written, which articles a batch is
        about to touch; `put` or `delete` of an article clears its mark. Not a generation bump:
        the content did not change."""

    def batch(self) -> AbstractContextManager[ManifestBatch]:
        """One atomic write: committed with a generation bump on a clean exit (no bump when
        nothing was written), rolled back when the block raises."""

    # -- a rebuild's swap (ingest/rebuild.py): the journal says one is under way
    def swap_journal(self) -> str | None:
        """The staging collection a rebuild is swapping in, None when no swap is under way."""

    def begin_swap(self, staging: str) -> None:
        """Record, durably, that `staging` is about to replace this collection."""

    def adopt(self, staging: Self) -> None:
        """In one step, replace every article, chunk, band and pending mark with `staging`'s
        and clear the swap journal; the lease stays, the generation moves past both."""

    # -- lifetime
    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None: ...


# backend -> "module:Class"; a class offers from_settings, exists and discard (classmethods).
# A backend is one file plus one line here (imported by name: the server one imports this).
STORES: dict[str, str] = {
    "sqlite": "rag.manifest:Manifest",  # embedded mode: one SQLite file per collection
    "chroma": "rag.store_chroma:ChromaManifest",  # RAG_CHROMA_URL: all state on the server
}


def _backend(settings: Settings) -> Any:
    module, _, name = STORES["chroma" if settings.chroma_url else "sqlite"].partition(":")
    return getattr(importlib.import_module(module), name)


def open_manifest(settings: Settings) -> ManifestStore:
    """The configured collection's manifest (the one place that picks the implementation)."""
    store: ManifestStore = _backend(settings).from_settings(settings)
    return store


def manifest_exists(settings: Settings) -> bool:
    """Whether the collection's manifest was ever created."""
    return bool(_backend(settings).exists(settings))


def discard_manifest(settings: Settings) -> None:
    """Delete the collection's manifest entirely (a staging collection after its swap)."""
    _backend(settings).discard(settings)


# ---------------------------------------------------------------- SQLite

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    article_id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, source TEXT NOT NULL,
    title TEXT NOT NULL, date TEXT NOT NULL, reporter TEXT NOT NULL, outlet TEXT NOT NULL,
    url TEXT NOT NULL, body TEXT NOT NULL, duplicate_of TEXT, ingested_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY, article_id TEXT NOT NULL, idx INTEGER NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL, n_tokens INTEGER NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE TABLE IF NOT EXISTS bands (band TEXT NOT NULL, article_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS bands_band ON bands(band);
CREATE INDEX IF NOT EXISTS bands_article ON bands(article_id);
CREATE TABLE IF NOT EXISTS pending (article_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS lease (
    one INTEGER PRIMARY KEY CHECK (one = 1), epoch INTEGER NOT NULL, holder TEXT NOT NULL,
    pid INTEGER NOT NULL, host TEXT NOT NULL, proc_start TEXT NOT NULL, started REAL NOT NULL,
    expires REAL NOT NULL);
"""
DATA_TABLES = ("articles", "chunks", "bands", "pending")
_LEASE_COLUMNS = "epoch, holder, pid, host, proc_start, started, expires"
_BROKEN = ("SQLITE_CORRUPT", "SQLITE_NOTADB")  # damage; "database is locked" etc. are not

_ARTICLE_COLUMNS = "article_id, title, body, date, reporter, outlet, source, url"
_ENTRY_COLUMNS = f"{_ARTICLE_COLUMNS}, content_hash, duplicate_of"
_MAX_PARAMS = 500  # ids per statement: SQLite caps bound parameters (999 in older builds)


P = ParamSpec("P")
T = TypeVar("T")


def corrupt_error(path: Path, exc: BaseException) -> StoreCorrupt:
    return StoreCorrupt(
        f"索引清單已損壞：{path}（{exc}）。請把它移開後重新匯入，文章會從原始檔重建、"
        f"Chroma 會一併核對：mv '{path}' '{path}.bad' && rag ingest <你的檔案>。 "
        f"The manifest {path} is damaged ({exc}): move it aside (mv '{path}' '{path}.bad') "
        "and run `rag ingest <your files>`; "
        "the articles are rebuilt from your files and Chroma is reconciled with them.")


def _guarded(method: Callable[P, T]) -> Callable[P, T]:
    """A damaged file becomes StoreCorrupt with the fix, never a raw sqlite3.DatabaseError."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorname", "") not in _BROKEN:
                raise
            raise corrupt_error(args[0].path, exc) from exc  # type: ignore[attr-defined]

    return wrapper


def _article(row: sqlite3.Row) -> Article:
    return Article(**{name: row[name] for name in _ARTICLE_COLUMNS.split(", ")})


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(_article(row), row["content_hash"], row["duplicate_of"])


def _parts(ids: Iterable[str]) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(ids))
    for i in range(0, len(unique), _MAX_PARAMS):
        yield unique[i : i + _MAX_PARAMS]


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


class SqliteBatch:
    """`ManifestBatch` on one open SQLite transaction."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self.wrote = False

    def put(self, *, article: Article, content_hash: str, chunks: Sequence[Chunk],
            bands: Sequence[str], duplicate_of: str | None = None) -> None:
        self._remove(article.article_id)
        self._db.execute(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (article.article_id, content_hash, article.source, article.title, article.date,
             article.reporter, article.outlet, article.url, article.body, duplicate_of,
             time.time()))
        self._db.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?)",
            [(c.chunk_id, c.article_id, c.index, c.start, c.end, c.n_tokens, c.text)
             for c in chunks])
        self._db.executemany("INSERT INTO bands VALUES (?,?)",
                             [(b, article.article_id) for b in bands])

    def delete(self, article_id: str) -> None:
        self._remove(article_id)

    def put_stored(self, article: Article, content_hash: str, chunks: Sequence[Chunk],
                   bands: Sequence[str], duplicate_of: str | None, ingested_at: float) -> None:
        """`put` of a record read back from another store (a mirror keeps its timestamp)."""
        self.put(article=article, content_hash=content_hash, chunks=chunks, bands=bands,
                 duplicate_of=duplicate_of)
        self._db.execute("UPDATE articles SET ingested_at=? WHERE article_id=?",
                         (ingested_at, article.article_id))

    def relocate(self, article_id: str, source: str) -> None:
        cursor = self._db.execute("UPDATE articles SET source=? WHERE article_id=?",
                                  (source, article_id))
        self.wrote = self.wrote or cursor.rowcount > 0

    def _remove(self, article_id: str) -> None:
        self.wrote = True
        for table in ("articles", "chunks", "bands", "pending"):
            self._db.execute(f"DELETE FROM {table} WHERE article_id=?", (article_id,))


class Manifest:
    """`ManifestStore` in one SQLite file (WAL), one transaction per batch."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            if getattr(exc, "sqlite_errorname", "") in _BROKEN:
                raise corrupt_error(path, exc) from exc
            raise

    @classmethod
    def from_settings(cls, settings: Settings) -> Manifest:
        return cls(settings.manifest_path)

    @classmethod
    def exists(cls, settings: Settings) -> bool:
        return settings.manifest_path.exists()

    @classmethod
    def discard(cls, settings: Settings) -> None:
        for suffix in ("", "-wal", "-shm"):
            path = settings.manifest_path
            path.with_name(path.name + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[sqlite3.Row]:
        """Rows of a query; damage found while reading becomes StoreCorrupt."""
        try:
            yield from self._db.execute(sql, params)
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorname", "") not in _BROKEN:
                raise
            raise corrupt_error(self.path, exc) from exc

    def _one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        return next(self._rows(sql, params), None)

    # ------------------------------------------------------------ reading
    @property
    def generation(self) -> int:
        row = self._one("SELECT value FROM meta WHERE key='generation'")
        return int(row["value"]) if row else 0

    def entries(self) -> dict[str, Entry]:
        return {r["article_id"]: _entry(r)
                for r in self._rows(f"SELECT {_ENTRY_COLUMNS} FROM articles")}

    def article(self, article_id: str) -> Article | None:
        row = self._one(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE article_id=?",
                        (article_id,))
        return _article(row) if row else None

    def duplicates_of(self, article_ids: Iterable[str]) -> list[Entry]:
        out: list[Entry] = []
        for part in _parts(article_ids):
            out.extend(_entry(r) for r in self._rows(
                f"SELECT {_ENTRY_COLUMNS} FROM articles WHERE duplicate_of IN ({_marks(part)})",
                part))
        return sorted(out, key=lambda e: e.article.article_id)

    def candidates(self, bands: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for part in _parts(bands):
            out.update(r["article_id"] for r in self._rows(
                f"SELECT DISTINCT article_id FROM bands WHERE band IN ({_marks(part)})", part))
        return out

    def count(self) -> tuple[int, int]:
        articles = self._one("SELECT COUNT(*) AS n FROM articles WHERE duplicate_of IS NULL")
        chunks = self._one("SELECT COUNT(*) AS n FROM chunks")
        return int(articles["n"] if articles else 0), int(chunks["n"] if chunks else 0)

    def newest(self, n: int) -> list[Article]:
        return [_article(r) for r in self._rows(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE duplicate_of IS NULL "
            "ORDER BY date = '', date DESC, title DESC LIMIT ?", (max(0, n),))]

    def chunk_rows(self) -> Iterator[ChunkRow]:
        for r in self._rows(
                "SELECT c.chunk_id, c.article_id, a.date, c.text FROM chunks c JOIN articles a "
                "USING(article_id) ORDER BY c.article_id, c.idx"):
            yield ChunkRow(chunk_id=r["chunk_id"], article_id=r["article_id"], date=r["date"],
                           text=r["text"])

    def all_chunks(self) -> Iterator[Chunk]:
        for r in self._rows(
                "SELECT c.article_id, c.idx, c.start, c.end, c.n_tokens, c.text FROM chunks c "
                "JOIN articles a USING(article_id) ORDER BY c.article_id, c.idx"):
            yield Chunk(article_id=r["article_id"], index=r["idx"], text=r["text"],
                        start=r["start"], end=r["end"], n_tokens=r["n_tokens"])

    def stored_chunks(self, chunk_ids: Sequence[str]) -> dict[str, StoredChunk]:
        out: dict[str, StoredChunk] = {}
        for part in _parts(chunk_ids):
            rows = self._rows(
                "SELECT c.chunk_id, c.article_id, c.idx, c.start, c.end, c.text, a.title, "
                "a.date, a.reporter, a.source FROM chunks c JOIN articles a USING(article_id) "
                f"WHERE c.chunk_id IN ({_marks(part)})", part)
            for r in rows:
                out[r["chunk_id"]] = StoredChunk(
                    chunk_id=r["chunk_id"], article_id=r["article_id"], index=r["idx"],
                    start=r["start"], end=r["end"], text=r["text"], title=r["title"],
                    date=r["date"], reporter=r["reporter"], source=r["source"])
        return out

    def pending(self) -> list[str]:
        return [r["article_id"] for r in self._rows("SELECT article_id FROM pending")]

    def refresh(self) -> None:
        """Nothing to catch up with: this file is the store itself."""

    # ------------------------------------------------------------ as another store's mirror
    @property
    def incarnation(self) -> str:
        """Which life of the mirrored store this copy follows ('' when not a mirror)."""
        row = self._one("SELECT value FROM meta WHERE key='incarnation'")
        return str(row["value"]) if row else ""

    def entries_of(self, article_ids: Sequence[str]) -> dict[str, Entry]:
        out: dict[str, Entry] = {}
        for part in _parts(article_ids):
            out.update((r["article_id"], _entry(r)) for r in self._rows(
                f"SELECT {_ENTRY_COLUMNS} FROM articles WHERE article_id IN ({_marks(part)})",
                part))
        return out

    def chunks_of(self, article_id: str) -> list[Chunk]:
        return [Chunk(article_id=article_id, index=r["idx"], text=r["text"], start=r["start"],
                      end=r["end"], n_tokens=r["n_tokens"]) for r in self._rows(
            "SELECT idx, start, end, n_tokens, text FROM chunks WHERE article_id=? ORDER BY idx",
            (article_id,))]

    def bands_of(self, article_id: str) -> list[str]:
        return [r["band"] for r in self._rows(
            "SELECT band FROM bands WHERE article_id=? ORDER BY rowid", (article_id,))]

    @contextmanager
    def mirror_batch(self, generation: int, incarnation: str, *,
                     clear: bool) -> Iterator[SqliteBatch]:
        """One transaction that makes this file a copy of another store at `generation`:
        emptied first when `clear`, then the block's writes, then the stamp set (not bumped)."""
        with self._db:
            if clear:
                for table in DATA_TABLES:
                    self._db.execute(f"DELETE FROM {table}")
            yield SqliteBatch(self._db)
            self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                 [("generation", str(generation)),
                                  ("incarnation", incarnation)])

    # ------------------------------------------------------------ writing
    @_guarded
    def mark_pending(self, article_ids: Iterable[str]) -> None:
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO pending VALUES (?)",
                                 [(a,) for a in article_ids])

    @contextmanager
    def batch(self) -> Iterator[SqliteBatch]:
        try:
            with self._db:  # commits on a clean exit, rolls back when the block raises
                batch = SqliteBatch(self._db)
                yield batch
                if batch.wrote:
                    self._bump()
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorname", "") not in _BROKEN:
                raise
            raise corrupt_error(self.path, exc) from exc

    def _bump(self, floor: int = 0) -> None:
        """generation = max(generation, floor) + 1, inside the caller's transaction."""
        self._db.execute(
            "INSERT INTO meta VALUES ('generation', ?) ON CONFLICT(key) DO UPDATE "
            "SET value = MAX(CAST(value AS INTEGER), ?) + 1", (str(floor + 1), floor))

    # ------------------------------------------------------------ a rebuild's swap
    def swap_journal(self) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key='swap'")
        return str(row["value"]) if row else None

    @_guarded
    def begin_swap(self, staging: str) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('swap', ?)", (staging,))

    @_guarded
    def adopt(self, staging: Manifest) -> None:
        floor = max(self.generation, staging.generation)
        self._db.execute("ATTACH DATABASE ? AS staging", (str(staging.path),))
        try:
            with self._db:  # one transaction: readers see the old articles or the new ones
                for table in DATA_TABLES:
                    self._db.execute(f"DELETE FROM main.{table}")
                    self._db.execute(f"INSERT INTO main.{table} SELECT * FROM staging.{table}")
                self._db.execute("DELETE FROM meta WHERE key='swap'")
                self._bump(floor)
        finally:
            self._db.execute("DETACH DATABASE staging")

    # ------------------------------------------------------------ the writer lease
    def _side(self) -> sqlite3.Connection:
        """A connection of its own: the renewal thread must not join (or commit) a batch's
        transaction on the main connection."""
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        return db

    @_guarded
    def lease(self) -> Lease | None:
        db = self._side()
        try:
            row = db.execute(f"SELECT {_LEASE_COLUMNS} FROM lease").fetchone()
        finally:
            db.close()
        return Lease(**dict(row)) if row else None

    @_guarded
    def take_lease(self, lease: Lease) -> bool:
        return self._swap_lease(lease, lambda row: (row["epoch"] if row else 0) == lease.epoch - 1)

    @_guarded
    def renew_lease(self, lease: Lease) -> bool:
        return self._swap_lease(lease, lambda row: row is not None and (
            row["epoch"], row["holder"]) == (lease.epoch, lease.holder))

    def _swap_lease(self, lease: Lease, expected: Callable[[sqlite3.Row | None], bool]) -> bool:
        db = self._side()
        try:
            db.execute("BEGIN IMMEDIATE")  # the write lock first: two takers are serialised
            row = db.execute(f"SELECT {_LEASE_COLUMNS} FROM lease").fetchone()
            if not expected(row):
                db.execute("ROLLBACK")
                return False
            db.execute(f"INSERT OR REPLACE INTO lease (one, {_LEASE_COLUMNS}) "
                       "VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
                       (lease.epoch, lease.holder, lease.pid, lease.host, lease.proc_start,
                        lease.started, lease.expires))
            db.execute("COMMIT")
            return True
        finally:
            db.close()
