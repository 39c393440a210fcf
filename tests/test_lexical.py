"""Unit tests for rag.lexical: tokenize folding, BM25 search, filters, persistence, staleness."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.dates import date_int
from rag.lexical import LexicalIndex, load_fresh, tokenize
from rag.manifest import Manifest
from rag.schema import Article, Chunk

ROWS = [
    ("a#0", "a", "2025-04-16", "高雄與橘郡締結姊妹市"),
    ("a#1", "a", "2025-04-16", "橘郡郡長史蒂文·紐豪斯 Steven Neuhaus 出席"),
    ("b#0", "b", "2024-10-19", "高雄與檳城攜手共創智慧綠色未來"),
    ("c#0", "c", "", "主權AI燈塔計畫榮獲智慧城市創新應用獎"),
]

# --------------------------------------------------------------------------- tokenize


def test_bigrams_and_lone_character() -> None:
    assert tokenize("高雄市") == ["高雄", "雄市"]
    assert tokenize("我") == ["我"]


def test_traditional_and_simplified_fold_to_the_same_tokens() -> None:
    assert tokenize("高雄與橘郡締結姊妹市") == tokenize("高雄与橘郡缔结姊妹市")
    assert tokenize("國際城市夥伴計畫", "jieba") == tokenize("国际城市伙伴计划", "jieba")


def test_width_and_case_fold() -> None:
    assert tokenize("ＩＵＲＣ") == tokenize("iurc") == tokenize("IURC") == ["iurc"]
    assert tokenize("２０２５年") == tokenize("2025年") == ["2025", "年"]
    assert tokenize("Orange County") == ["orange", "county"]


def test_latin_words_and_cjk_runs_mix() -> None:
    assert tokenize("主權AI燈塔") == ["ai", "主权", "灯塔"]
    assert tokenize("GTC 2025大會") == ["gtc", "2025", "大会"]


def test_punctuation_and_emoji_give_no_tokens() -> None:
    assert tokenize("，。！？…——「」") == []
    assert tokenize("😀🎉") == []


def test_jieba_and_both_modes() -> None:
    words = tokenize("高雄市政府推動智慧城市", "jieba")
    assert "推动" in words and "智慧" in words
    both = tokenize("高雄市政府推動智慧城市", "both")
    assert set(tokenize("高雄市政府推動智慧城市")) <= set(both)
    assert "高雄市" in both or "市政府" in both  # jieba adds words longer than a bigram


# --------------------------------------------------------------------------- LexicalIndex


@pytest.fixture(scope="module")
def index() -> LexicalIndex:
    return LexicalIndex.build(ROWS)


def test_search_ranks_the_matching_chunk_first(index: LexicalIndex) -> None:
    hits = index.search("橘郡姊妹市", 3)
    assert index.chunk_ids[hits[0][0]] == "a#0"
    assert all(score > 0 for _, score in hits)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)


def test_search_folds_the_query_too(index: LexicalIndex) -> None:
    assert index.chunk_ids[index.search("橘郡缔结", 1)[0][0]] == "a#0"
    assert index.chunk_ids[index.search("STEVEN", 1)[0][0]] == "a#1"


def test_search_without_known_terms_is_empty(index: LexicalIndex) -> None:
    assert index.search("量子電腦", 5) == []
    assert index.search("！？", 5) == []


def test_mask_filters_dates_and_articles(index: LexicalIndex) -> None:
    assert index.mask() is None
    after = index.mask(after="2025-01-01")
    assert after is not None and after.tolist() == [True, True, False, False]
    before = index.mask(before="2025-01-01")  # undated chunks never match a date bound
    assert before is not None and before.tolist() == [False, False, True, False]
    only_b = index.mask(article_ids=["b", "nope"])
    assert only_b is not None and only_b.tolist() == [False, False, True, False]
    hits = index.search("高雄", 5, index.mask(article_ids=["b"]))
    assert [index.chunk_ids[r] for r, _ in hits] == ["b#0"]
    assert index.search("高雄", 5, index.mask(article_ids=[])) == []


def test_date_int() -> None:
    assert date_int("2025-04-16") == 20250416
    assert date_int("2025-04") == 20250400
    assert date_int("") == 0


def test_save_load_round_trip(tmp_path: Path, index: LexicalIndex) -> None:
    index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert loaded is not None
    assert loaded.chunk_ids == index.chunk_ids and loaded.mode == index.mode
    assert loaded.search("橘郡姊妹市", 3) == index.search("橘郡姊妹市", 3)
    assert np.array_equal(loaded.dates, index.dates)


def test_load_missing_or_corrupt_is_none(tmp_path: Path) -> None:
    assert LexicalIndex.load(tmp_path / "nothing") is None
    (tmp_path / "meta.json").write_text("{not json", "utf-8")
    (tmp_path / "index.npz").write_bytes(b"garbage")
    assert LexicalIndex.load(tmp_path) is None


def chunk(article_id: str, index: int, text: str) -> Chunk:
    return Chunk(article_id=article_id, index=index, text=text, start=0, end=len(text),
                 n_tokens=10)


def _manifest_with(tmp_path: Path, body: str) -> Manifest:
    manifest = Manifest(tmp_path / "manifest.sqlite")
    article = Article(article_id="x", title="標題", body=body, date="2025-01-02")
    with manifest.batch() as batch:
        batch.put(article=article, content_hash="hash-" + body, chunks=[chunk("x", 0, body)],
                  bands=[])
    return manifest


def test_load_fresh_rebuilds_only_when_stale(tmp_path: Path) -> None:
    with _manifest_with(tmp_path, "第一版的內容") as manifest:
        folder = tmp_path / "lexical"
        first = load_fresh(folder, manifest, "bigram")
        stamp = (folder / "meta.json").stat().st_mtime_ns
        again = load_fresh(folder, manifest, "bigram")
        assert (folder / "meta.json").stat().st_mtime_ns == stamp  # loaded, not rebuilt
        assert again.generation == first.generation == manifest.generation
        with manifest.batch() as batch:  # any committed change bumps the generation
            batch.put(article=Article(article_id="x", title="標題", body="第二版的內容"),
                      content_hash="h2", chunks=[chunk("x", 0, "第二版的內容")], bands=[])
        fresh = load_fresh(folder, manifest, "bigram")
        assert fresh.generation == manifest.generation != first.generation
        assert fresh.search("第二版", 1) and not fresh.search("第一版", 1)
        assert load_fresh(folder, manifest, "jieba").mode == "jieba"  # another tokenizer: rebuilt


def _manifest_of_rows(tmp_path: Path) -> Manifest:
    """A manifest holding ROWS: articles a, b, c with their chunks and dates."""
    manifest = Manifest(tmp_path / "manifest.sqlite")
    with manifest.batch() as batch:
        for article_id in ("a", "b", "c"):
            rows = [r for r in ROWS if r[1] == article_id]
            chunks = [chunk(article_id, i, text) for i, (_, _, _, text) in enumerate(rows)]
            batch.put(article=Article(article_id=article_id, title="t", body="", date=rows[0][2]),
                      content_hash=f"h-{article_id}", chunks=chunks, bands=[])
    return manifest


def _scores(index: LexicalIndex, queries: list[str]) -> list[dict[str, float]]:
    return [{index.chunk_ids[r]: s for r, s in index.search(q, 10)} for q in queries]


def test_refresh_retokenizes_only_changed_chunks(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.lexical

    manifest = _manifest_of_rows(tmp_path)
    folder = tmp_path / "lexical"
    load_fresh(folder, manifest, "bigram")
    calls: list[str] = []
    real = rag.lexical.tokenize
    monkeypatch.setattr(rag.lexical, "tokenize",
                        lambda text, mode="bigram": calls.append(text) or real(text, mode))
    with manifest.batch() as batch:  # c changes, b goes away
        batch.put(article=Article(article_id="c", title="t", body="量子電腦研究中心落成"),
                  content_hash="h-new", chunks=[chunk("c", 0, "量子電腦研究中心落成")], bands=[])
        batch.delete("b")
    refreshed = load_fresh(folder, manifest, "bigram")
    assert calls == ["量子電腦研究中心落成"]
    monkeypatch.undo()
    full = LexicalIndex.build(manifest.chunk_rows(), "bigram", manifest.generation)
    queries = ["橘郡姊妹市", "量子電腦", "智慧城市", "檳城", "Steven"]
    assert refreshed.chunk_ids == full.chunk_ids == ["a#0", "a#1", "c#0"]
    assert set(refreshed.vocab) == set(full.vocab)  # terms of the old texts are gone
    for got, want in zip(_scores(refreshed, queries), _scores(full, queries), strict=True):
        assert got == pytest.approx(want)
    assert not refreshed.search("檳城", 5) and not refreshed.search("燈塔", 5)
    manifest.close()


def _flat(index: LexicalIndex, queries: list[str]) -> dict[str, float]:
    """query|chunk id -> score, flat so that pytest.approx can compare it."""
    return {f"{q}|{chunk_id}": score for q, scores in zip(queries, _scores(index, queries),
                                                         strict=True)
            for chunk_id, score in scores.items()}


def test_k1_b_are_saved_and_a_change_reweights_from_the_saved_counts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """BM25 parameters live with the index: asking for another k1 (or b) rebuilds the weights
    from the saved term counts (nothing re-tokenized), and the scores change."""
    import rag.lexical

    folder = tmp_path / "lexical"
    queries = ["高雄", "橘郡姊妹市", "Steven"]
    with _manifest_of_rows(tmp_path) as manifest:
        default = load_fresh(folder, manifest, "bigram")
        assert (default.k1, default.b) == (rag.lexical.K1, rag.lexical.B)
        saved = LexicalIndex.load(folder)
        assert saved is not None and (saved.k1, saved.b) == (default.k1, default.b)
        calls: list[str] = []
        real = rag.lexical.tokenize
        monkeypatch.setattr(rag.lexical, "tokenize",
                            lambda text, mode="bigram": calls.append(text) or real(text, mode))
        steep = load_fresh(folder, manifest, "bigram", k1=2.0)
        assert calls == []  # reweighted from counts.npz
        assert steep.k1 == 2.0 and steep.generation == default.generation
        assert _flat(steep, queries).keys() == _flat(default, queries).keys()
        assert _flat(steep, queries) != pytest.approx(_flat(default, queries))
        reloaded = LexicalIndex.load(folder)
        assert reloaded is not None and reloaded.k1 == 2.0  # saved with the new weights
        assert load_fresh(folder, manifest, "bigram", k1=2.0).k1 == 2.0
        flat = load_fresh(folder, manifest, "bigram", k1=2.0, b=0.0)
        assert _flat(flat, queries) != pytest.approx(_flat(steep, queries))
        monkeypatch.undo()
        want = LexicalIndex.build(manifest.chunk_rows(), "bigram", manifest.generation,
                                  k1=2.0, b=0.0)
        assert _flat(flat, queries) == pytest.approx(_flat(want, queries))


def test_an_index_saved_without_k1_b_reads_as_the_old_constants(tmp_path: Path,
                                                                index: LexicalIndex) -> None:
    """Indexes saved before k1/b were recorded were weighted with 1.2 / 0.75."""
    import json

    index.save(tmp_path)
    meta = json.loads((tmp_path / "meta.json").read_text("utf-8"))
    del meta["k1"], meta["b"]
    (tmp_path / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
    loaded = LexicalIndex.load(tmp_path)
    assert loaded is not None and (loaded.k1, loaded.b) == (1.2, 0.75)
