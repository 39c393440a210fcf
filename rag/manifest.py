"""The per-collection manifest (SQLite): articles, their hashes, chunks and near-dup signatures."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rag.schema import Article, Chunk

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


def _article(row: sqlite3.Row) -> Article:
    return Article(**{name: row[name] for name in _ARTICLE_COLUMNS.split(", ")})


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


@dataclass(frozen=True)
class Entry:
    """What the manifest knows of one article."""

    article: Article
    content_hash: str
    duplicate_of: str | None


class Manifest:
    """article_id -> content hash, source, chunks, duplicate_of; one transaction per batch.

    An article's row is written only after its chunks are in Chroma, so a crash leaves the
    article to be redone on the next run, never half-indexed."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.db:  # commits on success, rolls back on error
            yield self.db
            self.db.execute(
                "INSERT INTO meta VALUES ('generation', '1') ON CONFLICT(key) DO UPDATE "
                "SET value = CAST(value AS INTEGER) + 1")

    @property
    def generation(self) -> int:
        """Bumped by every committed change; derived indexes compare it to know they are stale."""
        row = self.db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    def entries(self) -> dict[str, Entry]:
        rows = self.db.execute(
            f"SELECT {_ARTICLE_COLUMNS}, content_hash, duplicate_of FROM articles")
        return {r["article_id"]: Entry(_article(r), r["content_hash"], r["duplicate_of"])
                for r in rows}

    def article(self, article_id: str) -> Article | None:
        row = self.db.execute(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE article_id=?",
                              (article_id,)).fetchone()
        return _article(row) if row else None

    def stored_chunks(self, chunk_ids: Sequence[str]) -> dict[str, StoredChunk]:
        """The committed chunks among `chunk_ids`, with their article's metadata, by chunk id
        (a chunk in Chroma but not here belongs to an interrupted ingest and is left out)."""
        out: dict[str, StoredChunk] = {}
        ids = list(dict.fromkeys(chunk_ids))
        for i in range(0, len(ids), 500):  # SQLite caps bound parameters per statement
            part = ids[i : i + 500]
            rows = self.db.execute(
                "SELECT c.chunk_id, c.article_id, c.idx, c.start, c.end, c.text, a.title, a.date, "
                "a.reporter, a.source FROM chunks c JOIN articles a USING(article_id) "
                f"WHERE c.chunk_id IN ({','.join('?' * len(part))})", part)
            for r in rows:
                out[r["chunk_id"]] = StoredChunk(
                    chunk_id=r["chunk_id"], article_id=r["article_id"], index=r["idx"],
                    start=r["start"], end=r["end"], text=r["text"], title=r["title"],
                    date=r["date"], reporter=r["reporter"], source=r["source"])
        return out

    def count(self) -> tuple[int, int]:
        """(indexed articles, chunks); duplicates are not counted as articles."""
        n_articles = self.db.execute(
            "SELECT COUNT(*) FROM articles WHERE duplicate_of IS NULL").fetchone()[0]
        n_chunks = self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return int(n_articles), int(n_chunks)

    def chunk_rows(self) -> Iterator[tuple[str, str, str, str]]:
        """(chunk_id, article_id, date, text) of every chunk, in a stable order."""
        yield from self.db.execute(
            "SELECT c.chunk_id, c.article_id, a.date, c.text FROM chunks c JOIN articles a "
            "USING(article_id) ORDER BY c.article_id, c.idx")

    def mark_pending(self, article_ids: Iterable[str]) -> None:
        """Record, before Chroma is written, which articles a batch is about to touch."""
        with self.db:
            self.db.executemany("INSERT OR IGNORE INTO pending VALUES (?)",
                                [(a,) for a in article_ids])

    def pending(self) -> list[str]:
        """Articles whose batch was interrupted between the Chroma write and the commit."""
        return [r[0] for r in self.db.execute("SELECT article_id FROM pending")]

    def candidates(self, bands: Iterable[str]) -> set[str]:
        bands = list(bands)
        marks = ",".join("?" * len(bands))
        rows = self.db.execute(
            f"SELECT DISTINCT article_id FROM bands WHERE band IN ({marks})", bands)
        return {r[0] for r in rows}


def put_article(db: sqlite3.Connection, article: Article, content_hash: str,
                chunks: list[Chunk], bands: list[str], duplicate_of: str | None = None) -> None:
    """Replace everything the manifest holds for one article (inside a transaction)."""
    delete_article(db, article.article_id)
    db.execute(
        "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (article.article_id, content_hash, article.source, article.title, article.date,
         article.reporter, article.outlet, article.url, article.body, duplicate_of, time.time()))
    db.executemany(
        "INSERT INTO chunks VALUES (?,?,?,?,?,?,?)",
        [(c.chunk_id, c.article_id, c.index, c.start, c.end, c.n_tokens, c.text) for c in chunks])
    db.executemany("INSERT INTO bands VALUES (?,?)", [(b, article.article_id) for b in bands])


def delete_article(db: sqlite3.Connection, article_id: str) -> None:
    for table in ("articles", "chunks", "bands", "pending"):
        db.execute(f"DELETE FROM {table} WHERE article_id=?", (article_id,))
