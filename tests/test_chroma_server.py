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


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMA.exists():
        pytest.fail(f"the chroma executable is missing: {CHROMA}")
    folder = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(
        [str(CHROMA), "run", "--host", "127.0.0.1", "--port", str(port),
         "--path", str(folder / "data")],
        stdout=log, stderr=subprocess.STDOUT, cwd=folder,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _alive(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                output = (folder / "server.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"chroma run did not come up at {url} (exit {proc.poll()}):\n{output}")
            time.sleep(0.2)
        yield url
    finally:
        stop(proc)
        log.close()


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
    from rag.manifest import Manifest

    assert not server_settings.chroma_dir.exists()  # no embedded Chroma beside the manifest
    host, port = chroma_url.removeprefix("http://").split(":")
    remote = chromadb.HttpClient(host=host, port=int(port)).get_collection("server-news")
    manifest = Manifest(server_settings.manifest_path)
    try:
        ids = sorted(row[0] for row in manifest.chunk_rows())
    finally:
        manifest.close()
    assert sorted(remote.get(include=[])["ids"]) == ids and len(ids) >= 2 * 4
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
