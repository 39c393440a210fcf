"""Chroma's HNSW search breadth: new collections get `hnsw_ef_search`, and a collection made
before the setting existed (Chroma's default, 100) gets it when read, without a rebuild."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
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
    assert old.configuration["hnsw"]["ef_search"] == 100  # Chroma's default
    read = store.read_collection(settings)
    assert _ef(settings) == 400
    hits = read.query(query_embeddings=[[1.0, 0.1, 0.0, 0.0]], n_results=1)
    assert hits["ids"][0] == ["a"]  # nothing was rebuilt or lost


def test_the_breadth_comes_from_the_environment_and_is_checked() -> None:
    assert Settings.from_env({"RAG_HNSW_EF_SEARCH": "800"}).hnsw_ef_search == 800
    with pytest.raises(ConfigError, match="RAG_HNSW_EF_SEARCH"):
        Settings.from_env({"RAG_HNSW_EF_SEARCH": "0"})


READER = """
import json, sys
import numpy as np
from rag import store
from rag.config import Settings
settings = Settings.from_env()
found = store.read_collection(settings)  # counts it first: the index loads here
queries = np.asarray(json.loads(sys.stdin.read()), dtype=np.float32)
hits = found.query(query_embeddings=queries.tolist(), n_results=5)
print(sum(f"v{i}" in ids for i, ids in enumerate(hits["ids"])) / len(queries))
"""


def test_a_process_searches_an_older_collection_with_the_breadth_from_its_first_search(
        tmp_path: Path) -> None:
    # Chroma fixes the breadth when a process first loads the index (a count does): set later,
    # it was stored but searched with only from the next start. The older collection here
    # searches with 1, so its recall shows which breadth a new process really uses.
    settings = make_settings(tmp_path / "rag")
    old = store.client(settings).create_collection(
        settings.collection, embedding_function=None,
        configuration={"hnsw": {"space": "cosine", "ef_search": 1, "max_neighbors": 4}},
        metadata={"embed_model": "test-model", "embed_dim": 16})
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(3000, 16)).astype(np.float32)
    for start in range(0, len(vectors), 1000):
        old.add(ids=[f"v{i}" for i in range(start, start + 1000)],
                embeddings=vectors[start:start + 1000].tolist())
    queries = vectors[:200] + 0.1 * rng.normal(size=(200, 16)).astype(np.float32)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_DATA_DIR=str(settings.data_dir), HF_HUB_OFFLINE="1")
    run = subprocess.run([sys.executable, "-c", READER], input=json.dumps(queries.tolist()),
                         capture_output=True, text=True, env=env, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    recall = float(run.stdout.strip().splitlines()[-1])
    assert recall >= 0.95, recall  # 400 wide: near exact (0.865 when searched with 1)
    assert _ef(settings) == 400
