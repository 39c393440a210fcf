"""Ingest into, and retrieve from, a real `chroma run` server (RAG_CHROMA_URL)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CORPUS, make_settings, stop

from rag.config import Settings

CHROMA = Path(sys.executable).parent / "chroma"
FILES = ["001_29e2c6b1fde0e3f0", "004_450bdcc5c9fbd5dc"]  # the two with fewest chunks

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


class ChromaServer:
    """A `chroma run` on 127.0.0.1 that a test may kill (-9) and start again on the same port
    and data folder."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> ChromaServer:
        if not CHROMA.exists():
            pytest.fail(f"the chroma executable is missing: {CHROMA}")
        log_path = self.folder / "server.log"
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(CHROMA), "run", "--host", "127.0.0.1", "--port", str(self.port),
                 "--path", str(self.folder / "data")],
                stdout=log, stderr=subprocess.STDOUT, cwd=self.folder,
                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
        deadline = time.monotonic() + timeout
        while not _alive(self.url):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                output = log_path.read_text(errors="replace")[-2000:]
                self.stop()
                pytest.fail(f"chroma run did not come up at {self.url}:\n{output}")
            time.sleep(0.2)
        return self

    def kill(self) -> None:
        """SIGKILL: the server vanishes mid-work, as in a crash or an OOM kill."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            stop(self.proc)


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server")).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def server_settings(chroma_url: str, tmp_path_factory: pytest.TempPathFactory,
                    embedder: object) -> Settings:
    from ingest.index import Ingestor

    settings = make_settings(tmp_path_factory.mktemp("server-client") / "rag",
                             chroma_url=chroma_url, collection="server-news")
    summary = Ingestor(settings, embedder=embedder, progress=False).run(  # type: ignore[arg-type]
        [CORPUS / f"{name}.txt" for name in FILES])
    assert summary.ok and sorted(summary.added) == FILES
    return settings


def test_ingest_goes_to_the_server(server_settings: Settings, chroma_url: str,
                                   embedder: object) -> None:
    import chromadb

    from ingest.index import Ingestor
    from rag.manifest import open_manifest

    assert not server_settings.chroma_dir.exists()  # no embedded Chroma beside the manifest
    assert not server_settings.manifest_path.exists()  # the manifest is on the server too
    host, port = chroma_url.removeprefix("http://").split(":")
    client = chromadb.HttpClient(host=host, port=int(port))
    remote = client.get_collection("server-news")
    with open_manifest(server_settings) as manifest:
        ids = sorted(row.chunk_id for row in manifest.chunk_rows())
        assert manifest.generation > 0 and sorted(manifest.entries()) == FILES
    assert sorted(remote.get(include=[])["ids"]) == ids and len(ids) >= 2 * 4
    names = {c.name for c in client.list_collections()}
    assert {"server-news__articles", "server-news__meta"} <= names
    assert remote.metadata["embed_model"] == "e5-small-q4"
    again = Ingestor(server_settings, embedder=embedder,  # type: ignore[arg-type]
                     progress=False).run([CORPUS / f"{name}.txt" for name in FILES])
    assert sorted(again.unchanged) == FILES and again.chunks_written == 0


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
@pytest.mark.parametrize(("query", "article_id"), [
    ("高雄的主權AI燈塔計畫得到什麼獎？", "001_29e2c6b1fde0e3f0"),
    ("林欽榮副市長去馬來西亞檳城談了什麼？", "004_450bdcc5c9fbd5dc"),
], ids=["lighthouse", "penang"])
def test_retriever_finds_them_through_the_server(server_settings: Settings, embedder: object,
                                                 mode: str, query: str, article_id: str) -> None:
    from rag.retrieve import Retriever

    retriever = Retriever(server_settings, embedder=embedder, mode=mode)  # type: ignore[arg-type]
    passages = retriever.retrieve(query, k=3)
    assert passages and passages[0].article_id == article_id
    assert {p.article_id for p in passages} <= set(FILES)
    top = passages[0]
    assert top.text and top.chunk_id.startswith(article_id + "#")


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    from rag import store
    from rag.errors import RagError

    settings = make_settings(tmp_path / "rag", chroma_url=f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(RagError) as info:
        store.open_collection(settings, "e5-small-q4", lambda: 384)
    assert "chroma" in str(info.value).lower()


def test_a_lost_server_is_store_unavailable_and_the_next_call_works(
        tmp_path: Path, embedder: object) -> None:
    """Through the Python API a server going down raises StoreUnavailable (never a raw
    httpx.ConnectError), and the same Retriever and Assistant work once it is back."""
    from ingest.index import Ingestor
    from rag.assistant import Assistant
    from rag.errors import StoreUnavailable
    from rag.retrieve import Retriever

    server = ChromaServer(tmp_path).start()
    try:
        settings = make_settings(tmp_path / "rag", chroma_url=server.url, collection="blip")
        Ingestor(settings, embedder=embedder, progress=False).run(  # type: ignore[arg-type]
            [CORPUS / f"{FILES[1]}.txt"])
        retriever = Retriever(settings, embedder=embedder)  # type: ignore[arg-type]
        assistant = Assistant(settings, retriever=retriever, answerer="extractive")
        question = "林欽榮副市長去馬來西亞檳城談了什麼？"
        assert retriever.retrieve(question, k=3)[0].article_id == FILES[1]
        server.kill()
        for call in (lambda: retriever.retrieve(question, k=3), lambda: assistant.ask(question)):
            with pytest.raises(StoreUnavailable) as info:
                call()
            assert server.url in str(info.value) and "chroma run" in str(info.value)
        server.start()
        assert retriever.retrieve(question, k=3)[0].article_id == FILES[1]
        answer = assistant.ask(question)
        assert not answer.refused and answer.citations
    finally:
        server.stop()


def _collections(url: str) -> set[str]:
    import chromadb

    host, port = url.removeprefix("http://").split(":")
    return {c.name for c in chromadb.HttpClient(host=host, port=int(port)).list_collections()}


def _state(settings: Settings) -> tuple[object, ...]:
    from rag import store
    from rag.manifest import open_manifest

    with open_manifest(settings) as manifest:
        entries, rows = manifest.entries(), list(manifest.chunk_rows())
    ids = sorted(store.read_collection(settings).get(include=[])["ids"])
    return entries, rows, ids


def test_a_manifest_kept_beside_the_client_is_uploaded_once(chroma_url: str, tmp_path: Path,
                                                            embedder: object) -> None:
    """Collections ingested before the manifest moved to the server kept it locally."""
    import shutil

    from ingest.index import Ingestor
    from rag import store
    from rag.store_chroma import mirror_path

    settings = make_settings(tmp_path / "rag", chroma_url=chroma_url, collection="legacy-news")
    paths = [CORPUS / f"{name}.txt" for name in FILES]
    Ingestor(settings, embedder=embedder, progress=False).run(paths)  # type: ignore[arg-type]
    before = _state(settings)
    shutil.copy(mirror_path(settings), settings.manifest_path)  # what an older version kept
    mirror_path(settings).unlink()
    for suffix in ("__articles", "__meta"):
        store.drop_collection(settings, "legacy-news" + suffix)
    said: list[str] = []
    again = Ingestor(settings, embedder=embedder, progress=False,  # type: ignore[arg-type]
                     notify=said.append).run(paths)
    assert sorted(again.unchanged) == FILES and again.chunks_written == 0
    assert any("Uploaded the local manifest (2 articles)" in line for line in said)
    assert not settings.manifest_path.exists()
    assert settings.manifest_path.with_name("manifest.sqlite.uploaded").exists()
    assert _state(settings) == before


def test_a_rebuild_on_the_server_swaps_only_when_complete(
        chroma_url: str, tmp_path: Path, embedder: object,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from test_ingest import Crash, FailingEmbedder

    import ingest.index as ix
    from ingest.index import Ingestor
    from rag.manifest import open_manifest
    from rag.retrieve import Retriever

    settings = make_settings(tmp_path / "rag", chroma_url=chroma_url, collection="rb-news")
    paths = [CORPUS / f"{name}.txt" for name in FILES]
    Ingestor(settings, embedder=embedder, progress=False).run(paths)  # type: ignore[arg-type]
    before = _state(settings)
    monkeypatch.setattr(ix, "FLUSH_CHUNKS", 4)
    with pytest.raises(Crash):
        Ingestor(settings, embedder=FailingEmbedder(embedder, fail_at=3),  # type: ignore[arg-type]
                 progress=False).run(paths, rebuild=True)
    assert _state(settings) == before
    assert not {n for n in _collections(chroma_url) if n.startswith("rb-news__rebuild")}
    with open_manifest(settings) as manifest:
        generation = manifest.generation
    summary = Ingestor(settings, embedder=embedder, progress=False).run(  # type: ignore[arg-type]
        paths, rebuild=True)
    assert summary.ok and sorted(summary.added) == FILES
    entries, rows, ids = _state(settings)
    assert sorted(entries) == FILES and sorted(r.chunk_id for r in rows) == ids
    assert {n for n in _collections(chroma_url) if n.startswith("rb-news")} == {
        "rb-news", "rb-news__articles", "rb-news__meta"}
    with open_manifest(settings) as manifest:
        assert manifest.generation > generation and manifest.swap_journal() is None
    passages = Retriever(settings, embedder=embedder).retrieve(  # type: ignore[arg-type]
        "林欽榮副市長去馬來西亞檳城談了什麼？", k=3)
    assert passages[0].article_id == FILES[1]
