"""`rag eval` end to end: dataset registry, benchmark location errors, gold splits, real runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eval_fixtures import answer

from eval.dataset import GOLD_PATH, GoldItem, load_gold
from eval.datasets import DATASETS
from eval.errors import GoldDataError
from eval.gate import check
from eval.runner import run_items

try:
    from rag.app.cli import main
except ModuleNotFoundError:  # before the faces moved to rag/app/ (issue 10)
    from rag.cli import main  # type: ignore[no-redef]


def test_dataset_choices_come_from_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    out = capsys.readouterr().out
    assert "{" + ",".join(DATASETS) + "}" in out
    assert {"corpus", "drcd-dev"} <= set(DATASETS)
    for d in DATASETS.values():
        assert d.name and d.description and isinstance(d.has_splits, bool)


def test_missing_benchmarks_dir_is_a_clear_error(cli_env: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    nowhere = tmp_path / "no-benchmarks"
    monkeypatch.setenv("RAG_BENCHMARKS_DIR", str(nowhere))
    assert main(["eval", "--dataset", "drcd-dev", "--no-gate"]) == 2
    err = capsys.readouterr().err
    assert "找不到基準資料檔" in err and "Benchmark file not found" in err
    assert str(nowhere / "drcd" / "DRCD_dev.json") in err
    assert "RAG_BENCHMARKS_DIR" in err and "--benchmarks-dir" in err
    assert "Traceback" not in err
    elsewhere = tmp_path / "elsewhere"
    assert main(["eval", "--dataset", "drcd-dev", "--benchmarks-dir", str(elsewhere)]) == 2
    assert str(elsewhere / "drcd" / "DRCD_dev.json") in capsys.readouterr().err
    assert main(["eval", "--dataset", "drcd-dev", "--drcd-path", str(tmp_path / "x.json")]) == 2
    assert str(tmp_path / "x.json") in capsys.readouterr().err
    assert not (cli_env / "collections").exists()  # nothing was ingested


def test_unreadable_compare_report_fails_before_the_run(
        cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--compare", str(tmp_path / "old.json")]) == 2
    assert "Cannot read the report to compare with" in capsys.readouterr().err
    assert not (cli_env / "collections").exists()


# --------------------------------------------------------------------------- gold splits


def test_gold_items_default_to_tune_and_validate_the_split(tmp_path: Path) -> None:
    assert GoldItem(id="x", question="q", answerable=True).split == "tune"
    assert GoldItem(id="x", question="q", answerable=True, split="heldout").split == "heldout"
    with pytest.raises(GoldDataError, match="split must be one of"):
        GoldItem(id="x", question="q", answerable=True, split="test")
    base = {"question": "q", "answerable": False, "key_facts": [], "article_ids": [],
            "evidence": [], "category": "unanswerable"}
    path = tmp_path / "gold.jsonl"
    lines = [{"id": "g1", **base}, {"id": "g2", "split": "heldout", **base}]
    path.write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    assert [it.split for it in load_gold(path)] == ["tune", "heldout"]
    lines.append({"id": "g3", "split": "validation", **base})
    path.write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    with pytest.raises(GoldDataError, match=f"{path.name}:3: .*split must be one of"):
        load_gold(path)
    with pytest.raises(ValueError):  # callers that caught ValueError still do
        load_gold(path)


def test_shipped_gold_file_loads() -> None:
    items = load_gold(GOLD_PATH)
    assert items and all(it.split in ("tune", "heldout") for it in items)


# --------------------------------------------------------------------------- the runner


class _Retriever:
    def retrieve(self, question: str, k: int = 10) -> list[Any]:
        from rag.schema import Passage

        return [Passage(chunk_id=f"{a}:0", article_id=a, title="t", date="", index=0, text=a,
                        start=0, end=1) for a in ("p2", "p1", "p2")][:k]


class _Assistant:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def ask(self, question: str) -> Any:
        self.asked.append(question)
        return answer("無法回答。", refused=True)


def test_run_items_retrieves_all_and_answers_the_first_n() -> None:
    items = [GoldItem(id=str(n), question=f"q{n}", answerable=True, article_ids=("p1",),
                      answers=("x",)) for n in range(3)]
    assistant = _Assistant()
    out = run_items(items, _Retriever(), assistant, k=10,  # type: ignore[arg-type]
                    answer_limit=2)
    assert assistant.asked == ["q0", "q1"]
    assert [r.answer is not None for r in out] == [True, True, False]
    assert out[2].ranked_articles == ("p2", "p1")  # distinct, best first
    assert set(out[2].seconds) == {"retrieve"}


# --------------------------------------------------------------------------- real runs


def _tiny_drcd(root: Path) -> Path:
    """Three paragraphs, three questions, in DRCD's layout under a benchmarks folder."""
    paragraphs = [
        ("p1", "高雄市於2010年12月25日與高雄縣合併升格為直轄市，市府設於苓雅區。",
         "高雄市在哪一天升格為直轄市？", "2010年12月25日"),
        ("p2", "臺南市的赤崁樓建於1653年，由荷蘭人興建，當時稱為普羅民遮城。",
         "赤崁樓是由哪一國人興建的？", "荷蘭"),
        ("p3", "花蓮縣的太魯閣國家公園以大理石峽谷聞名，立霧溪切穿山脈形成峽谷。",
         "太魯閣國家公園以什麼地形聞名？", "大理石峽谷"),
    ]
    data = {"version": "test", "data": [
        {"title": f"標題{pid}", "id": pid, "paragraphs": [
            {"id": pid, "context": context, "qas": [
                {"id": f"{pid}-q", "question": q, "answers": [
                    {"text": a, "answer_start": context.index(a)}]}]}]}
        for pid, context, q, a in paragraphs]}
    path = root / "drcd" / "DRCD_dev.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.slow
def test_drcd_reports_through_the_shared_path(cli_env: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    _tiny_drcd(tmp_path / "bench")
    out = tmp_path / "out"
    rc = main(["eval", "--dataset", "drcd-dev", "--benchmarks-dir", str(tmp_path / "bench"),
               "--limit", "2", "--out", str(out), "--answerer", "extractive"])
    printed = capsys.readouterr().out
    assert rc == 0, printed  # no [drcd-dev] bounds in thresholds.toml: nothing to miss
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert (report["dataset"], report["n_items"], report["n_answered"]) == ("drcd-dev", 3, 2)
    assert report["overall"]["article_hit@1"] == 1.0  # each question names its paragraph
    assert {"answer_contains_gold", "span_f1", "span_em", "refused"} <= set(report["overall"])
    assert report["refusal"]["n_unanswerable"] == 0 and "splits" not in report
    assert "評估 eval drcd-dev: 3 items; answer_contains_gold=" in printed
    assert check(report, {"article_hit@5": 1.0, "answer_contains_gold": 1.01}) == [
        f"answer_contains_gold = {report['overall']['answer_contains_gold']:.4f} < 1.01 (floor)"]


@pytest.mark.slow
def test_corpus_run_reports_splits_and_compares(cli_env: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    args = ["eval", "--limit", "4", "--out", str(out), "--no-gate", "--answerer", "extractive"]
    assert main(args) == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["n_items"] == 4 and "key_fact_accuracy" in report["overall"]
    splits = report["splits"]
    assert sum(s["n_items"] for s in splits.values()) == 4
    assert all(set(s["overall"]) <= set(report["overall"]) for s in splits.values())
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "again"), "--compare",
                 str(out / "report.json")]) == 0
    printed = capsys.readouterr().out
    assert "與先前報告比較 compared with" in printed
    assert "tune.key_fact_accuracy" not in printed  # deterministic: only timings move
