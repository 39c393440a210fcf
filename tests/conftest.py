"""Shared fixtures: offline environment, settings in temp folders, one indexed corpus."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

from rag.config import Settings, shipped_corpus_dir  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CORPUS = shipped_corpus_dir() / "kaohsiung-smart-city"
SHARED = ROOT.parent / "shared"


def stop(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """End a server the test started: terminate, then kill if it lingers."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def make_settings(data_dir: Path, **changes: object) -> Settings:
    """Settings that ignore the caller's environment except for the data folder."""
    return Settings.from_env({}).with_(data_dir=data_dir, **changes)


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """RAG_DATA_DIR in tmp, no other RAG_* variable, no rag.toml in the working folder."""
    for key in list(os.environ):
        if key.startswith("RAG_"):
            monkeypatch.delenv(key)
    data_dir = tmp_path / "rag"
    monkeypatch.setenv("RAG_DATA_DIR", str(data_dir))
    monkeypatch.chdir(tmp_path)
    return data_dir


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "rag")


@pytest.fixture(scope="session")
def embedder() -> object:
    from rag.embed import get_embedder

    return get_embedder(Settings())


@pytest.fixture(scope="session")
def indexed(tmp_path_factory: pytest.TempPathFactory, embedder: object) -> Iterator[Settings]:
    """The shipped corpus ingested once, read-only for the tests that use it."""
    from ingest.index import Ingestor

    s = make_settings(tmp_path_factory.mktemp("indexed") / "rag")
    summary = Ingestor(s, embedder=embedder, progress=False).run([CORPUS])  # type: ignore[arg-type]
    assert summary.ok and len(summary.added) == 5
    yield s
