"""The storage contract: every ManifestStore implementation passes these (articles, chunks,
batches, pending marks, the writer lease, a rebuild's swap)."""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import make_settings
from test_chroma_server import ChromaServer

from rag.lease import Lease
from rag.manifest import ChunkRow, Entry, Manifest, ManifestStore, StoredChunk
from rag.schema import Article, Chunk
from rag.store_chroma import ChromaManifest


def _on_server(url: str) -> Callable[[Path], ManifestStore]:
    """The server store of a collection named after `where`, its mirror under `where`."""
    def open_at(where: Path) -> ManifestStore:
        name = "t" + hashlib.sha1(str(where).encode()).hexdigest()[:16]
        return ChromaManifest(make_settings(where / "cache", chroma_url=url, collection=name))
    return open_at


# name -> opener of the store kept at a location; opening the same location again must see
# everything committed before. A backend adds one line (given the test's Chroma server URL).
STORES: dict[str, Callable[[str], Callable[[Path], ManifestStore]]] = {
    "sqlite": lambda url: lambda where: Manifest(where / "manifest.sqlite"),
    "chroma": _on_server,  # a `chroma run` on 127.0.0.1, started once for this module
}


class Boom(RuntimeError):
    pass


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = ChromaServer(tmp_path_factory.mktemp("contract-chroma")).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(params=sorted(STORES))
def open_at(request: pytest.FixtureRequest) -> Callable[[Path], ManifestStore]:
    url = request.getfixturevalue("chroma_server") if request.param == "chroma" else ""
    return STORES[request.param](url)


@pytest.fixture
def opener(open_at: Callable[[Path], ManifestStore],
           tmp_path: Path) -> Callable[[], ManifestStore]:
    return lambda: open_at(tmp_path / "main")


@pytest.fixture
def staging_opener(open_at: Callable[[Path], ManifestStore],
                   tmp_path: Path) -> Callable[[], ManifestStore]:
    """A second store of the same kind (a rebuild's staging collection)."""
    return lambda: open_at(tmp_path / "staging")


@pytest.fixture
def store(opener: Callable[[], ManifestStore]) -> Iterator[ManifestStore]:
    with opener() as opened:
        yield opened


def article(article_id: str, body: str = "高雄與橘郡締結姊妹市。雙方將推動交流。", *,
            date: str = "2025-04-16") -> Article:
    return Article(article_id=article_id, title=f"標題 {article_id}", body=body, date=date,
                   reporter="記者甲", outlet="高雄市政府", source=f"in/{article_id}.txt",
                   url=f"https://example.org/{article_id}")


def chunks_of(item: Article, *cuts: int) -> list[Chunk]:
    """Chunks of `item.body` split at `cuts` (offsets), indexed 0..n-1."""
    bounds = [0, *cuts, len(item.body)]
    return [Chunk(article_id=item.article_id, index=i, text=item.body[lo:hi], start=lo, end=hi,
                  n_tokens=hi - lo) for i, (lo, hi) in enumerate(itertools.pairwise(bounds))]


def put(store: ManifestStore, item: Article, cuts: tuple[int, ...] = (), *,
        bands: tuple[str, ...] = (), duplicate_of: str | None = None,
        content_hash: str | None = None) -> list[Chunk]:
    chunks = [] if duplicate_of else chunks_of(item, *cuts)
    with store.batch() as batch:
        batch.put(article=item, content_hash=content_hash or f"hash-{item.article_id}",
                  chunks=chunks, bands=list(bands), duplicate_of=duplicate_of)
    return chunks


# ---------------------------------------------------------------- an empty store


def test_a_new_store_is_empty(store: ManifestStore) -> None:
    assert store.generation == 0
    assert store.entries() == {}
    assert store.count() == (0, 0)
    assert list(store.chunk_rows()) == [] and list(store.all_chunks()) == []
    assert store.article("a") is None
    assert store.stored_chunks(["a#0"]) == {} and store.stored_chunks([]) == {}
    assert store.candidates(["band"]) == set() and store.candidates([]) == set()
    assert store.duplicates_of(["a"]) == [] and store.pending() == []


# ---------------------------------------------------------------- writing and reading back


def test_put_is_read_back_by_every_reader(store: ManifestStore) -> None:
    a = article("a")
    chunks = put(store, a, (10,), bands=("b1", "b2"))
    assert store.entries() == {"a": Entry(a, "hash-a", None)}
    assert store.article("a") == a
    assert store.count() == (1, 2)
    assert list(store.all_chunks()) == chunks
    assert list(store.chunk_rows()) == [
        ChunkRow(chunk_id=c.chunk_id, article_id="a", date="2025-04-16", text=c.text)
        for c in chunks]
    assert store.stored_chunks(["a#1", "nope#0"]) == {"a#1": StoredChunk(
        chunk_id="a#1", article_id="a", index=1, start=10, end=len(a.body), text=a.body[10:],
        title=a.title, date=a.date, reporter=a.reporter, source=a.source)}
    assert store.candidates(["b2", "other"]) == {"a"}


def test_chunk_listings_are_ordered_by_article_then_index(store: ManifestStore) -> None:
    put(store, article("b"), (4, 9, 12))  # written first, listed second
    put(store, article("a"), (3,))
    ids = ["a#0", "a#1", "b#0", "b#1", "b#2", "b#3"]
    assert [r.chunk_id for r in store.chunk_rows()] == ids
    assert [c.chunk_id for c in store.all_chunks()] == ids


def test_put_replaces_everything_held_for_the_article(store: ManifestStore) -> None:
    old = article("a")
    put(store, old, (4, 9), bands=("old",))
    new = article("a", "改寫後的內文。", date="2025-05-01")
    chunks = put(store, new, bands=("new",), content_hash="hash-2")
    assert store.entries() == {"a": Entry(new, "hash-2", None)}
    assert list(store.all_chunks()) == chunks and store.count() == (1, 1)
    assert store.stored_chunks(["a#1", "a#2"]) == {}  # the old chunks are gone, not left over
    assert store.candidates(["old"]) == set() and store.candidates(["new"]) == {"a"}
    assert [r.date for r in store.chunk_rows()] == ["2025-05-01"]


def test_delete_forgets_article_chunks_bands_and_pending_mark(store: ManifestStore) -> None:
    put(store, article("a"), (5,), bands=("x",))
    put(store, article("b"), bands=("x",))
    store.mark_pending(["a"])
    with store.batch() as batch:
        batch.delete("a")
        batch.delete("never-stored")  # unknown ids are ignored
    assert list(store.entries()) == ["b"] and store.article("a") is None
    assert [c.article_id for c in store.all_chunks()] == ["b"]
    assert store.candidates(["x"]) == {"b"} and store.pending() == []
    assert store.count() == (1, 1)


def test_stored_chunks_dedupes_and_takes_many_ids(store: ManifestStore) -> None:
    a = article("a", "一二三四五六七八九十" * 30)
    put(store, a, tuple(range(1, 300)))
    ids = [f"a#{i}" for i in range(300)] + [f"ghost#{i}" for i in range(900)] + ["a#7"]
    got = store.stored_chunks(ids)
    assert sorted(got) == sorted(f"a#{i}" for i in range(300))
    assert got["a#7"].text == a.body[7:8] and got["a#7"].index == 7


def test_ids_and_text_round_trip_exactly(store: ManifestStore) -> None:
    odd = article("新聞 #1:草稿", "第一行\n\t第二行 ✓ 😀\u3000full-width　space\r\n結尾")
    chunks = put(store, odd, (4,), bands=("帶狀:1",))
    assert store.article(odd.article_id) == odd
    assert list(store.all_chunks()) == chunks
    assert store.candidates(["帶狀:1"]) == {odd.article_id}


# ---------------------------------------------------------------- near-duplicates


def test_duplicates_hold_no_chunks_and_are_not_counted(store: ManifestStore) -> None:
    orig, copy, other = article("orig"), article("copy"), article("other")
    put(store, orig, (6,), bands=("k",))
    put(store, copy, bands=("k",), duplicate_of="orig")
    put(store, other, duplicate_of="elsewhere")
    assert store.entries()["copy"] == Entry(copy, "hash-copy", "orig")
    assert store.count() == (1, 2)
    assert [c.article_id for c in store.all_chunks()] == ["orig", "orig"]
    assert store.candidates(["k"]) == {"orig", "copy"}
    assert store.duplicates_of(["orig"]) == [Entry(copy, "hash-copy", "orig")]
    assert [e.article.article_id for e in store.duplicates_of(["elsewhere", "orig"])] == [
        "copy", "other"]
    assert store.duplicates_of(["copy"]) == [] and store.duplicates_of([]) == []


def test_newest_lists_indexed_articles_by_date_undated_last(store: ManifestStore) -> None:
    for item in (article("old", date="2024-01-02"), article("new", date="2025-05-01"),
                 article("none", date=""), article("b-same", date="2025-05-01")):
        put(store, item)
    put(store, article("copy", date="2026-01-01"), duplicate_of="new")
    assert [a.article_id for a in store.newest(10)] == ["new", "b-same", "old", "none"]
    assert store.newest(1) == [article("new", date="2025-05-01")]
    assert store.newest(0) == []


# ---------------------------------------------------------------- batches and the generation


def test_every_writing_batch_bumps_the_generation_once(store: ManifestStore) -> None:
    put(store, article("a"))
    first = store.generation
    assert first > 0
    with store.batch() as batch:  # several writes: one bump
        batch.put(article=article("b"), content_hash="h", chunks=[], bands=[])
        batch.put(article=article("c"), content_hash="h", chunks=[], bands=[])
        batch.delete("a")
    assert store.generation == first + 1
    with store.batch():  # nothing written: nothing for a derived index to rebuild
        pass
    assert store.generation == first + 1
    store.mark_pending(["b"])  # bookkeeping, not content
    assert store.generation == first + 1


def test_a_batch_that_raises_leaves_no_trace(store: ManifestStore) -> None:
    kept = put(store, article("a"), (5,))
    generation = store.generation
    with pytest.raises(Boom), store.batch() as batch:
        batch.put(article=article("b"), content_hash="h", chunks=chunks_of(article("b")),
                  bands=["z"])
        batch.delete("a")
        raise Boom
    assert list(store.entries()) == ["a"] and list(store.all_chunks()) == kept
    assert store.candidates(["z"]) == set() and store.generation == generation


def test_writes_are_visible_only_after_the_batch(store: ManifestStore,
                                                 opener: Callable[[], ManifestStore]) -> None:
    with opener() as reader, store.batch() as batch:
        batch.put(article=article("a"), content_hash="h", chunks=chunks_of(article("a")),
                  bands=[])
        assert reader.count() == (0, 0) and reader.generation == 0
    with opener() as reader:
        assert reader.count() == (1, 1) and reader.generation == store.generation


# ---------------------------------------------------------------- crash bookkeeping


def test_pending_marks_until_the_article_is_put_or_deleted(store: ManifestStore) -> None:
    store.mark_pending(["a", "b", "c"])
    store.mark_pending(["a"])  # marking twice is harmless
    assert sorted(store.pending()) == ["a", "b", "c"]
    put(store, article("a"))
    with store.batch() as batch:
        batch.delete("b")
    assert store.pending() == ["c"]


def test_a_failed_batch_keeps_its_pending_marks(store: ManifestStore) -> None:
    store.mark_pending(["a"])
    with pytest.raises(Boom), store.batch() as batch:
        batch.put(article=article("a"), content_hash="h", chunks=[], bands=[])
        raise Boom
    assert store.pending() == ["a"]


# ---------------------------------------------------------------- durability and lifetime


def test_committed_state_survives_reopening(opener: Callable[[], ManifestStore]) -> None:
    opened = opener()
    with opened as store:
        assert store is opened  # `with` gives the store itself and closes it at the end
        chunks = put(store, article("a"), (7,), bands=("k",))
        put(store, article("d"), bands=("k",), duplicate_of="a")
        store.mark_pending(["p"])  # marked, then the process "dies" before its batch
        generation = store.generation
        entries = store.entries()
    with opener() as again:
        assert again.generation == generation and again.entries() == entries
        assert list(again.all_chunks()) == chunks and again.pending() == ["p"]
        assert again.candidates(["k"]) == {"a", "d"}
        assert again.duplicates_of(["a"]) == [entries["d"]]


# ---------------------------------------------------------------- sources


def test_relocate_changes_only_the_source(store: ManifestStore) -> None:
    a = article("a")
    chunks = put(store, a, (5,), bands=("k",))
    generation = store.generation
    with store.batch() as batch:
        batch.relocate("a", "/new/place/a.txt")
        batch.relocate("never-stored", "/x")  # unknown ids are ignored
    moved = replace(a, source="/new/place/a.txt")
    assert store.entries() == {"a": Entry(moved, "hash-a", None)}
    assert list(store.all_chunks()) == chunks and store.candidates(["k"]) == {"a"}
    assert store.stored_chunks(["a#0"])["a#0"].source == "/new/place/a.txt"
    assert store.generation == generation + 1  # readers' caches hold sources too


# ---------------------------------------------------------------- the writer lease


def lease(epoch: int, holder: str = "h", *, expires: float = 2e9) -> Lease:
    return Lease(epoch=epoch, holder=holder, pid=4242, host="host-a", proc_start="77",
                 started=1.7e9, expires=expires)


def test_a_lease_is_installed_only_over_the_epoch_its_taker_saw(store: ManifestStore) -> None:
    assert store.lease() is None
    assert not store.take_lease(lease(2))  # epoch 1 comes first
    assert store.take_lease(lease(1, "first"))
    assert not store.take_lease(lease(1, "second"))  # someone else already took epoch 1
    assert store.lease() == lease(1, "first")
    assert store.take_lease(lease(2, "taker"))  # a take-over over epoch 1
    assert store.lease() == lease(2, "taker")


def test_only_the_holder_renews_and_releases(store: ManifestStore) -> None:
    assert store.take_lease(lease(1, "mine"))
    assert store.renew_lease(lease(1, "mine", expires=3e9))
    assert store.lease() == lease(1, "mine", expires=3e9)
    assert not store.renew_lease(lease(1, "impostor", expires=4e9))
    assert store.take_lease(lease(2, "taker"))
    assert not store.renew_lease(lease(1, "mine", expires=5e9))  # taken over: lost
    assert store.renew_lease(lease(2, "taker", expires=0.0))  # released
    current = store.lease()
    assert current is not None and current.released and current.epoch == 2


def test_two_takers_cannot_both_win(opener: Callable[[], ManifestStore]) -> None:
    """Eight takers (each with its own store handle) race for the same epoch, five times."""
    for epoch in range(1, 6):
        stores = [opener() for _ in range(8)]
        start = threading.Barrier(len(stores))

        def take(s: ManifestStore, who: int, epoch: int = epoch,
                 start: threading.Barrier = start) -> bool:
            start.wait()
            return s.take_lease(lease(epoch, f"taker-{who}"))

        with ThreadPoolExecutor(len(stores)) as pool:
            won = list(pool.map(take, stores, range(len(stores))))
        assert won.count(True) == 1, won
        winner = stores[0].lease()
        assert winner is not None and winner.holder == f"taker-{won.index(True)}"
        for s in stores:
            s.close()


def test_the_lease_survives_reopening(opener: Callable[[], ManifestStore]) -> None:
    with opener() as store:
        assert store.take_lease(lease(1, "kept"))
    with opener() as again:
        assert again.lease() == lease(1, "kept")


# ---------------------------------------------------------------- a rebuild's swap


def test_adopt_replaces_the_articles_and_keeps_the_lease(
        store: ManifestStore, staging_opener: Callable[[], ManifestStore]) -> None:
    put(store, article("old"), (4,), bands=("o",))
    store.mark_pending(["stuck"])
    assert store.take_lease(lease(1, "rebuilder"))
    with staging_opener() as staging:
        new = put(staging, article("new"), (3, 8), bands=("n",))
        put(staging, article("copy"), bands=("n",), duplicate_of="new")
        floor = max(store.generation, staging.generation)
        assert store.swap_journal() is None
        store.begin_swap("news__rebuild")
        assert store.swap_journal() == "news__rebuild"
        store.adopt(staging)
    assert sorted(store.entries()) == ["copy", "new"] and list(store.all_chunks()) == new
    assert store.candidates(["o"]) == set() and store.candidates(["n"]) == {"copy", "new"}
    assert store.pending() == [] and store.swap_journal() is None
    assert store.generation > floor  # every cache sees a change, whatever the staging's count
    assert store.lease() == lease(1, "rebuilder")


def test_the_swap_journal_survives_reopening(opener: Callable[[], ManifestStore]) -> None:
    with opener() as store:
        store.begin_swap("news__rebuild")
    with opener() as again:
        assert again.swap_journal() == "news__rebuild"
