"""Ingest with the embedding spread over Ray workers (`rag ingest --ray`), on a local Ray instance:
the same chunks as a plain ingest; a killed worker and a killed driver lose, duplicate and orphan
nothing (chunk ids compared between Chroma and the manifest, and with a plain ingest's); the same
against a `chroma run` server, read by two replicas with their own cache folders."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import CORPUS, ROOT, make_settings
from test_chroma_server import ChromaServer

import ingest.index as index
from ingest.index import Ingestor
from ingest.ray_embed import RayEmbedder
from rag import store
from rag.config import Settings
from rag.manifest import open_manifest
from rag.retrieve import Retriever

pytestmark = pytest.mark.slow
SMALL_BATCH = 8  # chunks per ingest batch here: the 41 corpus chunks make several batches


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    """A 2-CPU Ray instance owned by this test process; drivers connect to its address."""
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=100 * 1024 * 1024, logging_level=logging.WARNING)
    try:
        yield str(ray.get_runtime_context().gcs_address)
    finally:
        ray.shutdown()


def stored(settings: Settings) -> tuple[list[str], list[str], dict[str, np.ndarray]]:
    """(manifest chunk ids, Chroma chunk ids, Chroma vectors by id), lists unsorted."""
    with open_manifest(settings) as manifest:
        rows = [row.chunk_id for row in manifest.chunk_rows()]
    got = store.client(settings).get_collection(settings.collection).get(include=["embeddings"])
    vectors = dict(zip(got["ids"], np.asarray(got["embeddings"]), strict=True))
    return rows, list(got["ids"]), vectors


def assert_complete(settings: Settings, reference: list[str]) -> None:
    """Chroma and the manifest hold exactly the reference chunk ids, each once."""
    rows, chroma, _ = stored(settings)
    assert len(rows) == len(set(rows)), "a chunk twice in the manifest"
    assert len(chroma) == len(set(chroma)), "a chunk twice in Chroma"
    assert sorted(set(chroma) - set(rows)) == [], "orphan chunks in Chroma"
    assert sorted(set(rows) - set(chroma)) == [], "manifest chunks missing from Chroma"
    assert sorted(rows) == sorted(reference), "not the chunks a plain ingest makes"
    per_article = Counter(c.split("#")[0] for c in rows)
    for article_id, n in per_article.items():
        assert sorted(int(c.split("#")[1]) for c in rows
                      if c.split("#")[0] == article_id) == list(range(n))


@pytest.fixture(scope="module")
def reference(indexed: Settings) -> tuple[list[str], dict[str, np.ndarray]]:
    """The plain ingest's chunk ids and vectors (the shared indexed corpus)."""
    rows, _, vectors = stored(indexed)
    return rows, vectors


def test_ray_ingest_matches_plain_ingest(tmp_path: Path, ray_address: str,
                                         reference: Any) -> None:
    settings = make_settings(tmp_path / "rag")
    with RayEmbedder.start(settings, address=ray_address, workers=2) as embedder:
        assert len({pid for _, pid in embedder.worker_pids()}) == 2
        summary = Ingestor(settings, embedder=embedder, progress=False).run([CORPUS])
    assert summary.ok and len(summary.added) == 5
    assert_complete(settings, reference[0])
    _, _, vectors = stored(settings)
    for chunk_id, vector in reference[1].items():  # 1 thread per worker vs 2 threads: same
        assert np.abs(vectors[chunk_id] - vector).max() < 1e-5, chunk_id


class KillingEmbedder(RayEmbedder):
    """Kills one worker (SIGKILL) just before the second batch is sent to the workers."""

    calls = 0
    killed: tuple[str, int] | None = None

    def embed(self, texts: Any, is_query: bool = False) -> np.ndarray:
        self.calls += 1
        if self.calls == 2:
            self.killed = self.worker_pids()[0]
            os.kill(self.killed[1], signal.SIGKILL)
        return super().embed(texts, is_query)


def test_killed_worker_is_replaced_and_nothing_is_lost(
        tmp_path: Path, ray_address: str, reference: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index, "FLUSH_CHUNKS", SMALL_BATCH)
    settings = make_settings(tmp_path / "rag")
    embedder = KillingEmbedder.start(settings, address=ray_address, workers=2)
    try:
        summary = Ingestor(settings, embedder=embedder, progress=False).run([CORPUS])
        assert isinstance(embedder, KillingEmbedder) and embedder.killed is not None
        assert embedder.calls >= 3
        assert embedder.killed not in embedder.worker_pids()  # Ray started a new worker
    finally:
        embedder.close()
    assert summary.ok and len(summary.added) == 5
    assert_complete(settings, reference[0])
    again = Ingestor(settings, progress=False).run([CORPUS])  # plain re-run: nothing to redo
    assert again.chunks_written == 0 and len(again.unchanged) == 5


DRIVER = textwrap.dedent("""
    import json, sys

    import ingest.index as ix
    import ingest.ray_embed as ray_embed
    from rag.app.cli import main

    corpus, address, batch = sys.argv[1:4]
    ix.FLUSH_CHUNKS = int(batch)
    start = ray_embed.RayEmbedder.start

    def start_and_tell(cls, *args, **kwargs):  # the test watches these pids die with us
        embedder = start(*args, **kwargs)
        print(json.dumps([pid for _, pid in embedder.worker_pids()]), flush=True)
        return embedder

    ray_embed.RayEmbedder.start = classmethod(start_and_tell)
    sys.exit(main(["ingest", "--quiet", "--ray", address, "--ray-workers", "2", corpus]))
""")


def committed_articles(manifest_path: Path) -> int:
    """Articles the other process has committed, read read-only while it writes."""
    try:
        db = sqlite3.connect(f"file:{manifest_path}?mode=ro", uri=True, timeout=1)
        try:
            return int(db.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
        return f.read().rpartition(")")[2].split()[0] not in ("Z", "X")


def kill_driver_midway(tmp_path: Path, ray_address: str, settings: Settings,
                       committed: Callable[[], int]) -> None:
    """`rag ingest --ray ADDRESS` in a subprocess, SIGKILLed once `committed()` (the articles
    its manifest has committed) is at least 1; its Ray workers must die with it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False", PYTHONPATH=str(ROOT),
               RAG_DATA_DIR=str(settings.data_dir), RAG_COLLECTION=settings.collection,
               **({"RAG_CHROMA_URL": settings.chroma_url} if settings.chroma_url else {}))
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(CORPUS), ray_address, str(SMALL_BATCH)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        workers = json.loads(proc.stdout.readline() or "[]")
        assert len(workers) == 2, "the driver did not start its workers"
        done, deadline = 0, time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            done = committed()
            if done >= 1:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the driver finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL and 1 <= done < 5
    deadline = time.monotonic() + 30  # Ray ends the actors of a dead driver
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(pid) for pid in workers), "workers outlived their driver"


def test_sigkill_of_the_driver_midway_then_rerun_is_complete(
        tmp_path: Path, ray_address: str, reference: Any) -> None:
    settings = make_settings(tmp_path / "rag")
    kill_driver_midway(tmp_path, ray_address, settings,
                       lambda: committed_articles(settings.manifest_path))
    with RayEmbedder.start(settings, address=ray_address, workers=2) as embedder:
        summary = Ingestor(settings, embedder=embedder, progress=False).run([CORPUS])
    assert summary.ok and len(summary.added) + len(summary.unchanged) == 5
    assert len(summary.unchanged) >= 1  # the committed articles were not embedded again
    assert_complete(settings, reference[0])


NO_RAY = textwrap.dedent("""
    import sys

    import ingest.index, ingest.ray_embed, rag.app.cli  # noqa: F401
    assert "ray" not in sys.modules, "importing the ingest path loaded Ray"
    sys.modules["ray"] = None  # as if the [distributed] extra were not installed
    sys.exit(rag.app.cli.main(["ingest", "--ray", "--quiet"]))
""")


def test_ingest_does_not_need_ray_and_says_how_to_get_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(PYTHONPATH=str(ROOT), RAG_DATA_DIR=str(tmp_path / "rag"))
    out = subprocess.run([sys.executable, "-c", NO_RAY], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert 'pip install -e ".[distributed]"' in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "rag").exists()  # refused before anything was touched


def server_articles(settings: Settings) -> int:
    """Articles committed on the server, read through a manifest of the test's own."""
    probe = settings.with_(data_dir=settings.data_dir.parent / "probe")
    with open_manifest(probe) as manifest:
        return manifest.count()[0]


def test_server_mode_killed_driver_and_worker_then_two_replicas(
        tmp_path: Path, ray_address: str, reference: Any, embedder: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Against `chroma run`: the driver SIGKILLed midway, then a run whose worker is SIGKILLed;
    Chroma and the server-side manifest hold every chunk once, and two replicas with their own
    cache folders return the same passages."""
    (tmp_path / "chroma").mkdir()
    server = ChromaServer(tmp_path / "chroma").start()
    try:
        writer = make_settings(tmp_path / "writer", chroma_url=server.url, collection="ray")
        kill_driver_midway(tmp_path, ray_address, writer, lambda: server_articles(writer))
        monkeypatch.setattr(index, "FLUSH_CHUNKS", SMALL_BATCH)
        with KillingEmbedder.start(writer, address=ray_address, workers=2) as remote:
            summary = Ingestor(writer, embedder=remote, progress=False).run([CORPUS])
            assert isinstance(remote, KillingEmbedder) and remote.killed is not None
        assert summary.ok and len(summary.unchanged) >= 1
        assert len(summary.added) + len(summary.unchanged) == 5
        assert_complete(writer, reference[0])
        results = []
        for name in ("replica-1", "replica-2"):
            replica = writer.with_(data_dir=tmp_path / name)
            retriever = Retriever(replica, embedder=embedder)
            results.append([[(p.chunk_id, round(p.score, 6)) for p in retriever.retrieve(q, k=5)]
                            for q in ("檳城吸引了多少家跨國公司進駐？", "高雄何時加入 IURC？")])
        assert results[0] == results[1] and all(results[0])
    finally:
        server.stop()


def test_more_workers_than_the_cluster_has_cpus_is_a_clear_error(
        tmp_path: Path, ray_address: str) -> None:
    from rag.errors import ConfigError

    with pytest.raises(ConfigError, match="too few for 3 workers"):  # instead of waiting forever
        RayEmbedder.start(make_settings(tmp_path / "rag"), address=ray_address, workers=3)
