"""Chroma's HNSW search breadth: new collections get `hnsw_ef_search`, and a collection made
before the setting existed (Chroma's default, 100) gets it when read, without a rebuild."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_settings

from rag import store
from rag.config import Settings
from rag.errors import ConfigError

DIM = 4


def _ef(settings: Settings) -> int:
    found = store.get(settings, settings.collection)
    return int(found.configuration["hnsw"]["ef_search"])


def test_a_new_collection_searches_with_the_configured_breadth(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "rag").with_(hnsw_ef_search=250)
    written = store.open_collection(settings, "test-model", lambda: DIM)
    written.add(ids=["a"], embeddings=[[1.0, 0.0, 0.0, 0.0]])
    assert _ef(settings) == 250


def test_an_older_collection_gets_the_breadth_when_read(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "rag")
    c = store.client(settings)
    old = c.create_collection(settings.collection, configuration={"hnsw": {"space": "cosine"}},
                              metadata={"embed_model": "test-model", "embed_dim": DIM},
                              embedding_function=None)
    old.add(ids=["a", "b"], embeddings=[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    assert _ef(settings) == 100  # Chroma's default
    read = store.read_collection(settings)
    assert _ef(settings) == 400
    hits = read.query(query_embeddings=[[1.0, 0.1, 0.0, 0.0]], n_results=1)
    assert hits["ids"][0] == ["a"]  # nothing was rebuilt or lost


def test_the_breadth_comes_from_the_environment_and_is_checked() -> None:
    assert Settings.from_env({"RAG_HNSW_EF_SEARCH": "800"}).hnsw_ef_search == 800
    with pytest.raises(ConfigError, match="RAG_HNSW_EF_SEARCH"):
        Settings.from_env({"RAG_HNSW_EF_SEARCH": "0"})
