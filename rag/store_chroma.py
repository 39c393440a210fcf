"""The manifest kept in a Chroma server (RAG_CHROMA_URL): article records, pending marks, the
writer lease, the swap journal and the generation stamp live on the server, in
`<collection>__articles` and `<collection>__meta`; a local SQLite mirror answers the reads and is
a cache any process rebuilds from the server."""

from __future__ import annotations

import json
import logging
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from rag import store
from rag.config import Settings
from rag.errors import StoreCorrupt
from rag.lease import Lease
from rag.manifest import ChunkRow, Entry, Manifest, StoredChunk
from rag.schema import Article, Chunk

log = logging.getLogger(__name__)
ARTICLES, META = "__articles", "__meta"
REFRESH_SECONDS = 2.0  # how stale a reader's mirror may be: one stamp read per this interval
STAMP = "generation"  # the meta record whose upsert commits a batch
SWAP = "swap"
NO_VECTOR = [0.0]  # Chroma stores a vector with every record; these are never searched
MAX_REQUEST_BYTES = 4 << 20  # documents per upsert (article bodies may reach 2 MB each)
MAX_IDS = 500  # ids per `$in` filter or `ids=` lookup


def mirror_path(settings: Settings) -> Path:
    return settings.collection_dir / "mirror.sqlite"


def _unlink_mirror(settings: Settings) -> None:
    path = mirror_path(settings)
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


# ---------------------------------------------------------------- records on the server


def _payload(article: Article, content_hash: str, chunks: Sequence[Chunk], bands: Sequence[str],
             duplicate_of: str | None) -> str:
    """An article version as stored: everything the mirror needs, chunk texts only where they
    are not the body's slice (they always are today: Chunk says body[start:end] == text)."""
    return json.dumps({
        "article": asdict(article), "content_hash": content_hash, "duplicate_of": duplicate_of,
        "chunks": [[c.index, c.start, c.end, c.n_tokens]
                   + ([] if article.body[c.start:c.end] == c.text else [c.text]) for c in chunks],
        "bands": list(bands), "ingested_at": time.time()}, ensure_ascii=False)


def _unpack(document: str) -> tuple[Article, str, list[Chunk], list[str], str | None, float]:
    data = json.loads(document)
    article = Article(**data["article"])
    chunks = [Chunk(article_id=article.article_id, index=c[0], start=c[1], end=c[2],
                    n_tokens=c[3], text=c[4] if len(c) > 4 else article.body[c[1]:c[2]])
              for c in data["chunks"]]
    return (article, data["content_hash"], chunks, data["bands"], data["duplicate_of"],
            float(data["ingested_at"]))


def _version_id(generation: int, article_id: str) -> str:
    return f"{generation:012d}/{article_id}"


def latest_versions(version_ids: Iterable[str]) -> list[str]:
    """The highest version id of each article among these (sorted): the zero-padded generation
    makes string order generation order for the same article id."""
    best: dict[str, str] = {}
    for version_id in version_ids:
        article_id = version_id.split("/", 1)[1]
        if version_id > best.get(article_id, ""):
            best[article_id] = version_id
    return sorted(best.values())


def _parts(items: Sequence[Any], size: int = MAX_IDS) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class ChromaBatch:
    """`ManifestBatch` buffered in memory; `ChromaManifest.batch` commits it at the end."""

    def __init__(self, mirror: Manifest) -> None:
        self._mirror = mirror
        self.ops: dict[str, str | None] = {}  # article id -> payload, None to delete

    @property
    def wrote(self) -> bool:
        return bool(self.ops)

    def put(self, *, article: Article, content_hash: str, chunks: Sequence[Chunk],
            bands: Sequence[str], duplicate_of: str | None = None) -> None:
        self.ops[article.article_id] = _payload(article, content_hash, chunks, bands,
                                                duplicate_of)

    def delete(self, article_id: str) -> None:
        self.ops[article_id] = None

    def relocate(self, article_id: str, source: str) -> None:
        current = self.ops.get(article_id)
        if current is not None:
            data = json.loads(current)
            data["article"]["source"] = source
            self.ops[article_id] = json.dumps(data, ensure_ascii=False)
        elif article_id not in self.ops:
            self._relocate_stored(article_id, source)

    def _relocate_stored(self, article_id: str, source: str) -> None:
        entry = self._mirror.entries_of([article_id]).get(article_id)
        if entry is None:
            return
        moved = Article(**{**asdict(entry.article), "source": source})
        chunks = [c for c in self._mirror.chunks_of(article_id)]
        self.ops[article_id] = _payload(moved, entry.content_hash, chunks,
                                        self._mirror.bands_of(article_id), entry.duplicate_of)


# ---------------------------------------------------------------- the store


class ChromaManifest:
    """`ManifestStore` on a Chroma server. A batch commits by writing its article versions
    with the next generation, then the stamp (one record: the commit point); readers take each
    article's highest version at or below the stamp, a writer first deletes versions above it
    (left by a writer killed mid-commit), and older versions are deleted after the commit."""

    def __init__(self, settings: Settings, *, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.settings = settings
        self.refresh_seconds = refresh_seconds
        self._client = store.client(settings)
        self._names = (settings.collection + ARTICLES, settings.collection + META)
        self._handles: dict[str, Any] = {}
        self.mirror = self._open_mirror()
        self._checked = float("-inf")
        self.refresh()

    @classmethod
    def from_settings(cls, settings: Settings) -> ChromaManifest:
        return cls(settings)

    @classmethod
    def exists(cls, settings: Settings) -> bool:
        return store.exists(settings, settings.collection + META)

    @classmethod
    def discard(cls, settings: Settings) -> None:
        """Drop the manifest on the server and the local mirror (a staging build's)."""
        for suffix in (ARTICLES, META):
            store.drop_collection(settings, settings.collection + suffix)
        _unlink_mirror(settings)

    # ------------------------------------------------------------ plumbing
    def _open_mirror(self) -> Manifest:
        try:
            return Manifest(mirror_path(self.settings))
        except StoreCorrupt:  # a cache: rebuilt from the server
            log.warning("rebuilding the damaged manifest mirror %s", mirror_path(self.settings))
            _unlink_mirror(self.settings)
            return Manifest(mirror_path(self.settings))

    def _collection(self, name: str, create: bool = False) -> Any:
        if name not in self._handles:
            found = store.get(self.settings, name, self._client)
            if found is None:
                if not create:
                    return None
                found = store.guard(self.settings, lambda: self._client.get_or_create_collection(
                    name, embedding_function=None))
            self._handles[name] = store.GuardedCollection(self.settings, name, found)
        return self._handles[name]

    @property
    def _articles(self) -> Any:
        return self._collection(self._names[0], create=True)

    @property
    def _meta(self) -> Any:
        return self._collection(self._names[1], create=True)

    def _peek_meta(self) -> Any:
        return self._collection(self._names[1])

    def _stamp(self) -> tuple[int, str]:
        """(generation, incarnation) on the server; (0, "") for a collection never written."""
        meta = self._peek_meta()
        if meta is None:
            return 0, ""
        got = meta.get(ids=[STAMP], include=["metadatas"])
        if not got["ids"]:
            return 0, ""
        stamp = got["metadatas"][0]
        return int(stamp["value"]), str(stamp["incarnation"])

    def close(self) -> None:
        self.mirror.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------ the mirror
    def refresh(self) -> None:
        """Bring the mirror up to the server's stamp now."""
        self._checked = time.monotonic()
        for _ in range(5):  # a writer committing meanwhile: catch up again
            generation, incarnation = self._stamp()
            mine = self.mirror.generation, self.mirror.incarnation
            if (generation, incarnation) == mine:
                return
            if incarnation != mine[1] or generation < mine[0]:
                self._reload(generation, incarnation)
            else:
                self._catch_up(mine[0], generation, incarnation)

    def _fresh(self) -> Manifest:
        """The mirror, after a stamp check if the last one is older than refresh_seconds."""
        if time.monotonic() - self._checked >= self.refresh_seconds:
            self.refresh()
        return self.mirror

    def _reload(self, generation: int, incarnation: str) -> None:
        """Rebuild the mirror from every article's latest committed version."""
        latest = self._latest(where={"gen": {"$lte": generation}})
        with self.mirror.mirror_batch(generation, incarnation, clear=True) as batch:
            for _, document in self._documents(latest):
                if document:  # "": the article was deleted
                    batch.put_stored(*_unpack(document))
        shutil.rmtree(self.settings.lexical_dir, ignore_errors=True)  # built from another life

    def _catch_up(self, since: int, generation: int, incarnation: str) -> None:
        latest = self._latest(where={"$and": [{"gen": {"$gt": since}},
                                              {"gen": {"$lte": generation}}]})
        with self.mirror.mirror_batch(generation, incarnation, clear=False) as batch:
            for article_id, document in self._documents(latest):
                if document:
                    batch.put_stored(*_unpack(document))
                else:
                    batch.delete(article_id)

    def _latest(self, where: dict[str, Any]) -> list[str]:
        """The id of each article's highest version matching `where`. Ids only, in one read (a
        consistent snapshot; 200,000 versions in 2.4 s): Chroma fetches a `where`'s metadata
        with one SQL variable per record and fails past SQLite's 32,766 ("too many SQL
        variables", met at 200,000 articles). A version id holds its zero-padded generation
        and the article id (_version_id), so string order is generation order."""
        articles = self._collection(self._names[0])
        if articles is None:
            return []
        return latest_versions(articles.get(where=where, include=[])["ids"])

    def _documents(self, version_ids: list[str]) -> Iterator[tuple[str, str]]:
        """(article id, document; "" for a deletion) of these versions; one superseded (and
        deleted) meanwhile is skipped: its newer version comes with the next catch-up."""
        for part in _parts(version_ids):
            got = self._articles.get(ids=list(part), include=["documents"])
            for record_id, document in zip(got["ids"], got["documents"], strict=True):
                yield record_id.split("/", 1)[1], document or ""

    # ------------------------------------------------------------ reading (the mirror)
    @property
    def generation(self) -> int:
        return self._fresh().generation

    def entries(self) -> dict[str, Entry]:
        return self._fresh().entries()

    def article(self, article_id: str) -> Article | None:
        return self._fresh().article(article_id)

    def duplicates_of(self, article_ids: Iterable[str]) -> list[Entry]:
        return self._fresh().duplicates_of(article_ids)

    def candidates(self, bands: Iterable[str]) -> set[str]:
        return self._fresh().candidates(bands)

    def count(self) -> tuple[int, int]:
        return self._fresh().count()

    def newest(self, n: int) -> list[Article]:
        return self._fresh().newest(n)

    def chunk_rows(self) -> Iterator[ChunkRow]:
        return self._fresh().chunk_rows()

    def all_chunks(self) -> Iterator[Chunk]:
        return self._fresh().all_chunks()

    def stored_chunks(self, chunk_ids: Sequence[str]) -> dict[str, StoredChunk]:
        return self._fresh().stored_chunks(chunk_ids)

    # ------------------------------------------------------------ pending marks (the server)
    def pending(self) -> list[str]:
        meta = self._peek_meta()
        if meta is None:
            return []
        got = meta.get(where={"kind": "pending"}, include=["metadatas"])
        return sorted(str(m["article_id"]) for m in got["metadatas"])

    def mark_pending(self, article_ids: Iterable[str]) -> None:
        ids = sorted(set(article_ids))
        for part in _parts(ids):
            self._meta.upsert(ids=[f"pending/{a}" for a in part],
                              embeddings=[NO_VECTOR] * len(part),
                              metadatas=[{"kind": "pending", "article_id": a} for a in part])

    # ------------------------------------------------------------ writing
    @contextmanager
    def batch(self) -> Iterator[ChromaBatch]:
        batch = ChromaBatch(self.mirror)
        yield batch  # an exception here leaves nothing: the writes were only buffered
        if batch.ops:
            self._commit(batch.ops)

    def _commit(self, ops: dict[str, str | None]) -> None:
        generation, incarnation = self._stamp()
        new = generation + 1
        self._articles.delete(where={"gen": {"$gt": generation}})  # a killed writer's leftovers
        self._upsert_versions(new, ops)
        self._meta.upsert(ids=[STAMP], embeddings=[NO_VECTOR], metadatas=[{  # the commit
            "kind": "stamp", "value": new, "incarnation": incarnation or uuid.uuid4().hex}])
        ids = sorted(ops)
        for part in _parts(ids):
            self._articles.delete(where={"$and": [{"article_id": {"$in": list(part)}},
                                                  {"gen": {"$lt": new}}]})
            self._meta.delete(ids=[f"pending/{a}" for a in part])
        self.refresh()

    def _upsert_versions(self, generation: int, ops: dict[str, str | None]) -> None:
        part: list[tuple[str, str | None]] = []
        size = 0
        for article_id, document in sorted(ops.items()):
            if part and size + len(document or "") * 3 > MAX_REQUEST_BYTES:
                self._write_versions(generation, part)
                part, size = [], 0
            part.append((article_id, document))
            size += len(document or "") * 3  # UTF-8 bytes, at most
        if part:
            self._write_versions(generation, part)

    def _write_versions(self, generation: int, part: list[tuple[str, str | None]]) -> None:
        self._articles.upsert(
            ids=[_version_id(generation, a) for a, _ in part],
            embeddings=[NO_VECTOR] * len(part),
            documents=[d or "" for _, d in part],
            metadatas=[{"article_id": a, "gen": generation, "deleted": d is None}
                       for a, d in part])

    # ------------------------------------------------------------ a rebuild's swap
    def swap_journal(self) -> str | None:
        meta = self._peek_meta()
        if meta is None:
            return None
        got = meta.get(ids=[SWAP], include=["metadatas"])
        return str(got["metadatas"][0]["staging"]) if got["ids"] else None

    def begin_swap(self, staging: str) -> None:
        self._meta.upsert(ids=[SWAP], embeddings=[NO_VECTOR],
                          metadatas=[{"kind": "swap", "staging": staging}])

    def adopt(self, staging: ChromaManifest) -> None:
        """Rename the staging's article collection into place (redone or skipped when a killed
        swap left it half done), then a new incarnation and a higher stamp tell every mirror to
        reload; the journal and the old pending marks go with it."""
        mine, theirs = self._names[0], staging._names[0]
        old = mine + "__old"
        if store.exists(self.settings, theirs):
            if store.exists(self.settings, mine):
                store.drop_collection(self.settings, old)
                store.rename_collection(self.settings, mine, old)
            store.rename_collection(self.settings, theirs, mine)
        self._handles.pop(mine, None)
        staging._handles.pop(theirs, None)
        generation = max(self._stamp()[0], staging._stamp()[0]) + 1
        self._meta.upsert(ids=[STAMP], embeddings=[NO_VECTOR], metadatas=[{
            "kind": "stamp", "value": generation, "incarnation": uuid.uuid4().hex}])
        stale = self._meta.get(where={"kind": {"$in": ["pending", "swap"]}}, include=[])["ids"]
        for part in _parts(stale):
            self._meta.delete(ids=list(part))
        store.drop_collection(self.settings, old)
        self.refresh()

    # ------------------------------------------------------------ the writer lease
    def lease(self) -> Lease | None:
        meta = self._peek_meta()
        if meta is None:
            return None
        got = meta.get(where={"kind": "lease"}, include=["metadatas"])
        leases = [_lease(m) for m in got["metadatas"]]
        return max(leases, key=lambda item: item.epoch) if leases else None

    def take_lease(self, lease: Lease) -> bool:
        current = self.lease()
        if (current.epoch if current else 0) != lease.epoch - 1:
            return False
        record = f"lease/{lease.epoch:012d}"
        # `add` never overwrites: of two takers of one epoch the first write wins, and both
        # read back who did (measured: 3 processes x 30 rounds, one winner each time)
        self._meta.add(ids=[record], embeddings=[NO_VECTOR], metadatas=[_lease_meta(lease)])
        got = self._meta.get(ids=[record], include=["metadatas"])
        won = bool(got["ids"]) and _lease(got["metadatas"][0]).holder == lease.holder
        if won and lease.epoch > 2:
            self._meta.delete(where={"$and": [{"kind": "lease"},
                                              {"epoch": {"$lt": lease.epoch - 1}}]})
        return won

    def renew_lease(self, lease: Lease) -> bool:
        current = self.lease()
        if current is None or (current.epoch, current.holder) != (lease.epoch, lease.holder):
            return False
        self._meta.upsert(ids=[f"lease/{lease.epoch:012d}"], embeddings=[NO_VECTOR],
                          metadatas=[_lease_meta(lease)])
        after = self.lease()  # a taker that got in between holds a higher epoch: lost
        return after is not None and after.epoch == lease.epoch


def _lease_meta(lease: Lease) -> dict[str, Any]:
    return {"kind": "lease", **asdict(lease)}


def _lease(meta: dict[str, Any]) -> Lease:
    return Lease(epoch=int(meta["epoch"]), holder=str(meta["holder"]), pid=int(meta["pid"]),
                 host=str(meta["host"]), proc_start=str(meta["proc_start"]),
                 started=float(meta["started"]), expires=float(meta["expires"]))
