"""On a small invented benchmark in the DRCD/CMRC layout: the drcd-test, cmrc-test and
negatives-test eval datasets (only test-split articles are asked; every negative is
unanswerable by construction) and `rag train`, one command from benchmark to models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.datasets.base import RunOptions
from eval.datasets.cmrc_test import CMRC_TEST
from eval.datasets.drcd_test import DRCD_TEST
from eval.datasets.negatives import NEGATIVES
from rag.answerers import model as models
from rag.app.cli import main
from rag.config import Settings
from train.data import SEED, split_of
from train.validate import VARIANTS, keywords, measure

PLACES = "北港 南灣 東嶺 西河 中洲 青山 白沙 紅橋 金田 石門 玉泉 雲林".split()


def article(i: int) -> dict:
    """An invented article: a bridge finished in one year, a museum opened in another."""
    place = PLACES[i]
    built, opened = 1980 + i, 2000 + i
    text = (f"{place}大橋橫跨{place}河口，全長{300 + i}公尺。{place}大橋於{built}年完工通車。"
            f"{place}博物館於{opened}年開館，館長是{place}人張{place}。")
    qas = [{"id": f"A{i}-q1", "question": f"{place}大橋是哪一年完工的？",
            "answers": [{"text": f"{built}年", "answer_start": text.index(f"{built}年")}]},
           {"id": f"A{i}-q2", "question": f"{place}博物館是哪一年開館的？",
            "answers": [{"text": f"{opened}年", "answer_start": text.index(f"{opened}年")}]}]
    return {"id": f"A{i}", "title": f"{place}的建設",
            "paragraphs": [{"id": f"A{i}-p1", "context": text, "qas": qas}]}


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    root = tmp_path_factory.mktemp("bench")
    data = {"data": [article(i) for i in range(12)]}
    for rel in ("drcd/DRCD_dev.json", "cmrc2018/cmrc2018_dev.json",
                "cmrc2018/cmrc2018_trial.json"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(json.dumps(data if "trial" not in rel else {"data": []},
                                           ensure_ascii=False), encoding="utf-8")
    settings = Settings.from_env({}).with_(data_dir=root / "rag", benchmarks_dir=root,
                                           answerer="extractive")
    return settings, root


def test_the_test_splits_ask_only_articles_never_trained_on(bench: tuple[Settings, Path]) -> None:
    settings, _ = bench
    for dataset, name in ((DRCD_TEST, "drcd"), (CMRC_TEST, "cmrc")):
        outcome = dataset.run(settings, RunOptions())
        asked = {r.item.id.split("-")[0] for r in outcome.results}
        expected = {f"A{i}" for i in range(12) if split_of(f"{name}:A{i}", 13) == "test"}
        assert asked == expected and expected  # e.g. drcd: A1, A6, A8, A9
        assert all(r.answer is not None and r.ranked_articles for r in outcome.results)
        found = [r for r in outcome.results if r.ranked_articles[0] == r.item.article_ids[0]]
        assert len(found) >= len(outcome.results) - 1  # each names its own bridge or museum


def test_negatives_are_unanswerable_and_removed_ones_never_see_their_paragraph(
        bench: tuple[Settings, Path]) -> None:
    settings, _ = bench
    outcome = NEGATIVES.run(settings, RunOptions())
    kinds = {r.item.id.split(":")[0] for r in outcome.results}
    assert kinds == {"removed", "swapped"}
    assert all(not r.item.answerable for r in outcome.results)
    for r in outcome.results:
        qid = r.item.id.split(":")[1]
        if r.item.id.startswith("removed:"):
            assert f"{qid.split('-')[0]}-p1" not in r.ranked_articles
        else:  # the year was swapped for the article's other year
            assert r.item.question != article(int(qid[1:].split("-")[0]))["paragraphs"][0][
                "qas"][0 if qid.endswith("q1") else 1]["question"]


def test_rag_train_fits_the_models_from_the_benchmark_in_one_command(
        bench: tuple[Settings, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    settings, root = bench
    monkeypatch.setenv("RAG_BENCHMARKS_DIR", str(root))
    monkeypatch.setenv("RAG_DATA_DIR", str(root / "train-rag"))  # pools ingested by the run
    out = root / "models"
    assert main(["train", "--kinds", "logistic", "--seed", "13", "--out", str(out)]) == 0
    record = json.loads((out / "record.json").read_text(encoding="utf-8"))
    assert record["options"]["seed"] == 13 and record["data"]["test"]["articles"] >= 1
    for name in ("selector", "answerability", "short"):
        assert models.load(name, out).kind == "logistic"
    assert 0.0 <= models.load("answerability", out).threshold <= 1.0
    assert json.loads((out / "categories.json").read_text(encoding="utf-8"))["words"]
    assert 0.0 < json.loads((out / "word_weights.json").read_text(encoding="utf-8"))["prior"] <= 1


def test_the_validation_check_asks_each_validation_question_three_ways(
        bench: tuple[Settings, Path]) -> None:
    """`python -m train.validate`: as asked, gold paragraph removed, constraint swapped."""
    settings, _ = bench
    counts = measure(settings, "drcd", VARIANTS["shipped"], limit=50)
    validation = [i for i in range(12) if split_of(f"drcd:A{i}", SEED) == "validation"]
    assert counts["asked"] == 2 * len(validation) > 0
    assert counts["holds"] == counts["answered"] == counts["asked"]  # each names its year
    assert 0 < counts["removed"] <= counts["asked"]
    assert counts["removed_refused"] == counts["removed"]  # the other articles lack the answer
    assert counts["swapped_refused"] <= counts["swapped"] <= counts["asked"]


def test_keyword_queries_keep_the_content_words_in_their_own_script() -> None:
    assert keywords("林欽榮在檳城和哪位行政議員交流？") == "林欽榮 檳城 行政 議員 交流"
    assert keywords("苏格兰的首都是哪里？") == "苏格兰 首都"
    assert keywords("哪裡？") == "哪裡？"  # nothing left: asked as it is


def test_the_category_nouns_are_learned_from_training_questions_only(
        bench: tuple[Settings, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m train.categories` reads the training split of both benchmarks."""
    from train.categories import main as categories_main

    _, root = bench
    monkeypatch.setenv("RAG_BENCHMARKS_DIR", str(root))
    out = tmp_path / "categories.json"
    assert categories_main(["--out", str(out), "--min-articles", "1"]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    train = [(d, i) for d in ("drcd", "cmrc") for i in range(12)
             if split_of(f"{d}:A{i}", SEED) == "train"]
    assert data["record"]["questions"] == 2 * len(train) > 0  # two questions per article
    # 博物館是哪一年開館的: jieba tags 開館 a noun right after the question word; 完工 a verb
    assert data["words"] == ["开馆"]
    assert data["record"]["articles_per_word"]["开馆"] == len(train)
