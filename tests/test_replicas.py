"""Stateless replicas: one `chroma run` holds everything; two Assistants with their own local
data folders answer alike, see a third process's ingest without a restart, and survive the
server being killed mid-question. Logs the replica cold start (caches rebuilt from the server)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, ROOT, make_settings
from test_chroma_server import ChromaServer

from rag.assistant import Assistant
from rag.config import Settings
from rag.errors import StoreUnavailable
from rag.lexical import load_fresh
from rag.manifest import Manifest, open_manifest
from rag.retrieve import Retriever

pytestmark = pytest.mark.slow
log = logging.getLogger("replicas")
FIRST = ["001_29e2c6b1fde0e3f0", "002_d576b6d6b89d97c5", "003_78186f8d2590a0a8",
         "004_450bdcc5c9fbd5dc"]
LATER = "000_09d82b08e27ce1d6"  # ingested by a third process while the replicas run
QUESTIONS = ["高雄的主權AI燈塔計畫得到什麼獎？", "林欽榮副市長去馬來西亞檳城談了什麼？",
             "檳城吸引了多少家跨國公司進駐？"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    running = ChromaServer(tmp_path_factory.mktemp("replica-chroma")).start()
    try:
        yield running
    finally:
        running.stop()


def _settings(folder: Path, url: str) -> Settings:
    return make_settings(folder, chroma_url=url, collection="replicas")


def _comparable(answer: Any) -> dict[str, Any]:
    out = answer.to_dict()
    out.pop("timings")
    return out


def _poll(check: Callable[[], bool], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return False


def test_two_replicas_one_server(server: ChromaServer, tmp_path: Path, embedder: Any,
                                 record_property: Callable[[str, object], None]) -> None:
    from ingest.index import Ingestor

    writer = _settings(tmp_path / "writer", server.url)
    summary = Ingestor(writer, embedder=embedder, progress=False).run(
        [CORPUS / f"{name}.txt" for name in FIRST])
    assert summary.ok and len(summary.added) == len(FIRST)

    replicas: list[Assistant] = []
    for name in ("replica-1", "replica-2"):
        settings = _settings(tmp_path / name, server.url)
        started = time.perf_counter()
        with open_manifest(settings) as manifest:  # the caches, rebuilt from the server
            lexical = load_fresh(settings.lexical_dir, manifest, settings.lexical_tokenizer)
        cold = time.perf_counter() - started
        with Manifest(writer.collection_dir / "mirror.sqlite") as written:
            assert sorted(lexical.chunk_ids) == sorted(r.chunk_id for r in written.chunk_rows())
        record_property(f"{name}_cold_start_s", round(cold, 3))
        log.warning("replica cold start at %d chunks: %.2f s (manifest mirror + lexical index "
                    "rebuilt from the server)", summary.total_chunks, cold)
        retriever = Retriever(settings, embedder=embedder)
        replicas.append(Assistant(settings, retriever=retriever, answerer="extractive"))

    answers = [[_comparable(r.ask(q)) for q in QUESTIONS] for r in replicas]
    assert answers[0] == answers[1]  # answers, refusals, citations (quote and offsets) alike
    assert any(a["citations"] for a in answers[0])

    # an ingest from a third process, with a third local folder, reaches both without restart
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), RAG_CHROMA_URL=server.url,
               RAG_COLLECTION="replicas", RAG_DATA_DIR=str(tmp_path / "third"))
    third = subprocess.run([sys.executable, "-m", "rag.app.cli", "ingest", "--quiet",
                            str(CORPUS / f"{LATER}.txt")], env=env, capture_output=True,
                           text=True, timeout=300)
    assert third.returncode == 0, third.stderr
    for replica in replicas:
        assert _poll(lambda r=replica: LATER in {  # type: ignore[misc]
            p.article_id for p in r.retriever.retrieve("高雄 IURC 國際城市與區域合作", k=5)})
    question = "高雄何時加入 IURC?"
    assert _comparable(replicas[0].ask(question)) == _comparable(replicas[1].ask(question))

    # the server dies in the middle of a question: a clear error; back up, the next one works
    replica = replicas[0]
    real = replica.retriever.embedder.embed_query

    def killing_embed(text: str) -> Any:
        server.kill()  # after the question started, before its Chroma query
        return real(text)

    replica.retriever.embedder.embed_query = killing_embed  # type: ignore[method-assign]
    try:
        with pytest.raises(StoreUnavailable) as info:
            replica.ask(QUESTIONS[1])
    finally:
        del replica.retriever.embedder.embed_query
    assert server.url in str(info.value) and "chroma run" in str(info.value)
    server.start()
    answer = replica.ask(QUESTIONS[1])
    assert _comparable(answer) == _comparable(replicas[1].ask(QUESTIONS[1]))
