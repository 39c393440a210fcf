"""A damaged or half-written index says so: a lost, zero-byte or corrupt manifest is a clear
StoreCorrupt with the fix, and the retriever's notices name an interrupted or running ingest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, make_settings
from test_ingest import (
    SENT,
    SMALL,
    Crash,
    _crash_once_in_flush,
    assert_consistent,
    run,
    write_article,
)

from rag.config import Settings
from rag.errors import StoreCorrupt
from rag.lease import WriterLease
from rag.manifest import Manifest
from rag.retrieve import Retriever

QUERY = SENT[4][:20]  # from article b


@pytest.fixture
def small(tmp_path: Path) -> tuple[Settings, Path, dict[str, Path]]:
    """Three short articles of three chunks each, as in test_ingest.py."""
    folder = tmp_path / "in"
    files = {name: write_article(folder, name, title, SENT[3 * i : 3 * i + 3])
             for i, (name, title) in enumerate([("a", "文章甲"), ("b", "文章乙"), ("c", "文章丙")])}
    return make_settings(tmp_path / "rag", chunk_tokens=SMALL), folder, files


def _wipe(manifest_path: Path, content: bytes) -> None:
    """What a full disk or a botched copy leaves: the file alone, its WAL gone."""
    for suffix in ("-wal", "-shm"):
        manifest_path.with_name(manifest_path.name + suffix).unlink(missing_ok=True)
    manifest_path.write_bytes(content)


@pytest.mark.parametrize("content", [b"", b"\x00garbage, not a database\xff" * 400],
                         ids=["zero-byte", "corrupt"])
def test_a_damaged_manifest_is_a_clear_error_then_ingest_repairs_it(
        small: Any, embedder: Any, content: bytes) -> None:
    settings, folder, _ = small
    run(settings, [folder], embedder)
    _wipe(settings.manifest_path, content)
    with pytest.raises(StoreCorrupt) as info:
        Retriever(settings, embedder=embedder).search(QUERY, k=3)
    message = str(info.value)
    assert "rag --collection news ingest" in message or "rag ingest" in message
    assert str(settings.manifest_path) in message
    if content:  # a corrupt file is moved aside first, as the message says
        assert f"mv '{settings.manifest_path}'" in message
        with pytest.raises(StoreCorrupt):
            run(settings, [folder], embedder)
        settings.manifest_path.rename(settings.manifest_path.with_suffix(".bad"))
    summary = run(settings, [folder], embedder)
    assert summary.ok and summary.total_articles == 3
    assert_consistent(settings)
    passages, notices = Retriever(settings, embedder=embedder).search(QUERY, k=3)
    assert passages[0].article_id == "b" and notices == []


def test_cli_reports_a_corrupt_manifest_in_one_line(small: Any, embedder: Any) -> None:
    settings, folder, _ = small
    run(settings, [folder], embedder)
    _wipe(settings.manifest_path, b"not a database" * 300)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_DATA_DIR=str(settings.data_dir), RAG_CHUNK_TOKENS=str(settings.chunk_tokens),
               HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    for command in (["search", QUERY], ["ingest", "--quiet", str(folder)]):
        proc = subprocess.run([sys.executable, "-m", "rag.app.cli", *command], env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("錯誤 Error: 索引清單已損壞")
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_an_interrupted_ingest_is_noticed_until_the_next_one(
        small: Any, embedder: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings, folder, files = small
    run(settings, [files["a"], files["b"]], embedder)
    _crash_once_in_flush(monkeypatch)
    with pytest.raises(Crash):
        run(settings, [folder], embedder)
    monkeypatch.undo()
    passages, notices = Retriever(settings, embedder=embedder).search(QUERY, k=3)
    assert passages  # still answers from what was committed, but says so
    assert len(notices) == 1 and "The last ingest was interrupted" in notices[0]
    assert "1 article(s) half-written" in notices[0] and "rag ingest" in notices[0]
    run(settings, [folder], embedder)
    assert Retriever(settings, embedder=embedder).search(QUERY, k=3)[1] == []


def test_a_running_ingest_is_noticed_as_running(small: Any, embedder: Any) -> None:
    settings, folder, files = small
    run(settings, [files["a"]], embedder)
    with Manifest(settings.manifest_path) as manifest, WriterLease(manifest, wait=0):
        manifest.mark_pending(["b"])  # what a live ingest's batch looks like mid-write
        _, notices = Retriever(settings, embedder=embedder).search(QUERY, k=3)
    assert len(notices) == 1 and "An ingest is running (pid " in notices[0]
