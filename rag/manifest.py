"""The per-collection manifest: its storage contract (`ManifestStore`) and the SQLite one."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import NamedTuple, Protocol, Self

from rag.config import Settings
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


class ManifestStore(Protocol):
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

    def chunk_rows(self) -> Iterator[ChunkRow]:
        """Every chunk with its article's date, ordered by article id then chunk index."""

    def all_chunks(self) -> Iterator[Chunk]:
        """Every chunk as stored, in the order of `chunk_rows`."""

    def stored_chunks(self, chunk_ids: Sequence[str]) -> dict[str, StoredChunk]:
        """The committed chunks among `chunk_ids`, with their article's metadata, by chunk id
        (a chunk in the vector store but not here belongs to an interrupted ingest: left out)."""

    def pending(self) -> list[str]:
        """Articles whose batch was interrupted between the vector write and the commit."""

    # -- writing
    def mark_pending(self, article_ids: Iterable[str]) -> None:
        """Record, durably and before the vector store is written, which articles a batch is
        about to touch; `put` or `delete` of an article clears its mark. Not a generation bump:
        the content did not change."""

    def batch(self) -> AbstractContextManager[ManifestBatch]:
        """One atomic write: committed with a generation bump on a clean exit (no bump when
        nothing was written), rolled back when the block raises."""

    # -- lifetime
    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None: ...


def open_manifest(settings: Settings) -> ManifestStore:
    """The configured collection's manifest (the one place that picks the implementation)."""
    return Manifest(settings.manifest_path)


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
"""

_ARTICLE_COLUMNS = "article_id, title, body, date, reporter, outlet, source, url"
_ENTRY_COLUMNS = f"{_ARTICLE_COLUMNS}, content_hash, duplicate_of"
_MAX_PARAMS = 500  # ids per statement: SQLite caps bound parameters (999 in older builds)


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
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------ reading
    @property
    def generation(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row["value"]) if row else 0

    def entries(self) -> dict[str, Entry]:
        rows = self._db.execute(f"SELECT {_ENTRY_COLUMNS} FROM articles")
        return {r["article_id"]: _entry(r) for r in rows}

    def article(self, article_id: str) -> Article | None:
        row = self._db.execute(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE article_id=?",
                               (article_id,)).fetchone()
        return _article(row) if row else None

    def duplicates_of(self, article_ids: Iterable[str]) -> list[Entry]:
        out: list[Entry] = []
        for part in _parts(article_ids):
            out.extend(_entry(r) for r in self._db.execute(
                f"SELECT {_ENTRY_COLUMNS} FROM articles WHERE duplicate_of IN ({_marks(part)})",
                part))
        return sorted(out, key=lambda e: e.article.article_id)

    def candidates(self, bands: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for part in _parts(bands):
            out.update(r["article_id"] for r in self._db.execute(
                f"SELECT DISTINCT article_id FROM bands WHERE band IN ({_marks(part)})", part))
        return out

    def count(self) -> tuple[int, int]:
        n_articles = self._db.execute(
            "SELECT COUNT(*) AS n FROM articles WHERE duplicate_of IS NULL").fetchone()["n"]
        n_chunks = self._db.execute("SELECT COUNT(*) AS n FROM chunks").fetchone()["n"]
        return int(n_articles), int(n_chunks)

    def chunk_rows(self) -> Iterator[ChunkRow]:
        for r in self._db.execute(
                "SELECT c.chunk_id, c.article_id, a.date, c.text FROM chunks c JOIN articles a "
                "USING(article_id) ORDER BY c.article_id, c.idx"):
            yield ChunkRow(chunk_id=r["chunk_id"], article_id=r["article_id"], date=r["date"],
                           text=r["text"])

    def all_chunks(self) -> Iterator[Chunk]:
        for r in self._db.execute(
                "SELECT c.article_id, c.idx, c.start, c.end, c.n_tokens, c.text FROM chunks c "
                "JOIN articles a USING(article_id) ORDER BY c.article_id, c.idx"):
            yield Chunk(article_id=r["article_id"], index=r["idx"], text=r["text"],
                        start=r["start"], end=r["end"], n_tokens=r["n_tokens"])

    def stored_chunks(self, chunk_ids: Sequence[str]) -> dict[str, StoredChunk]:
        out: dict[str, StoredChunk] = {}
        for part in _parts(chunk_ids):
            rows = self._db.execute(
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
        return [r["article_id"] for r in self._db.execute("SELECT article_id FROM pending")]

    # ------------------------------------------------------------ writing
    def mark_pending(self, article_ids: Iterable[str]) -> None:
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO pending VALUES (?)",
                                 [(a,) for a in article_ids])

    @contextmanager
    def batch(self) -> Iterator[SqliteBatch]:
        with self._db:  # commits on a clean exit, rolls back when the block raises
            batch = SqliteBatch(self._db)
            yield batch
            if batch.wrote:
                self._db.execute(
                    "INSERT INTO meta VALUES ('generation', '1') ON CONFLICT(key) DO UPDATE "
                    "SET value = CAST(value AS INTEGER) + 1")
