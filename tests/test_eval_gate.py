"""The thresholds gate: the TOML shape, its bilingual errors, floors and ceilings per split."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from eval_fixtures import results

from eval.datasets import DATASETS
from eval.errors import ThresholdsError
from eval.gate import THRESHOLDS_PATH, check, load_thresholds, parse_thresholds
from eval.report import summarize


def test_the_shipped_thresholds_name_known_datasets_and_metrics() -> None:
    bounds = load_thresholds(datasets=DATASETS)
    assert bounds["corpus"]["tune.key_fact_accuracy"] == 0.85
    assert bounds["corpus"]["heldout.answered_unanswerable"] == 2.0
    assert all(name.split(".")[0] in ("tune", "heldout") for name in bounds["corpus"])


def test_floors_ceilings_and_splits() -> None:
    report = summarize(results(), splits=True)
    raw = {"corpus": {"key_fact_accuracy": 0.5, "answered_unanswerable": 0,
                      "tune": {"key_fact_accuracy": 0.9},
                      "heldout": {"key_fact_accuracy": 0.1, "answered_unanswerable": 0}}}
    bounds = parse_thresholds(raw, datasets=DATASETS)["corpus"]
    assert bounds["heldout.key_fact_accuracy"] == 0.1
    assert check(report, bounds) == [
        "answered_unanswerable = 1.0000 > 0 (ceiling)",
        "heldout.key_fact_accuracy = 0.0000 < 0.1 (floor)"]


def test_unmeasured_metric_and_split_fail_the_gate() -> None:
    report = summarize(results())  # no splits reported
    bounds = parse_thresholds({"drcd-dev": {"span_f1": 0.1,
                                            "heldout": {"key_fact_accuracy": 0.5}}})
    assert check(report, bounds["drcd-dev"]) == [
        "span_f1: 未測得 not measured (bound 0.1)",
        "heldout.key_fact_accuracy: 未測得 not measured (bound 0.5)"]


def test_latency_can_be_bounded_by_stage() -> None:
    report = summarize(results())
    bounds = parse_thresholds({"corpus": {"latency.answer.p95_s": 0.1}})["corpus"]
    problems = check(report, bounds)
    assert len(problems) == 1 and problems[0].startswith("latency.answer.p95_s = 0.39")


@pytest.mark.parametrize(("raw", "words"), [
    ({"corpus": {"key_fact_acuracy": 0.8}}, ["未知的指標", "Unknown metric 'key_fact_acuracy'",
                                             "key_fact_accuracy"]),
    ({"corpus": {"heldout": {"recall@1": 0.8}}}, ["Unknown metric 'heldout.recall@1'"]),
    ({"corpus": {"max": {"answered_unanswerable": 0}}}, ["不是資料分割",
                                                         "[corpus.max] is not a split"]),
    ({"corpus": {"refused": 0.2}}, ["描述性", "refused is descriptive"]),
    ({"corpus": {"key_fact_accuracy": "high"}}, ["必須是數字", "must be a number"]),
    ({"corpus": {"key_fact_accuracy": True}}, ["must be a number"]),
    ({"corpis": {"key_fact_accuracy": 0.8}}, ["未知的資料集", "Unknown dataset [corpis]"]),
    ({"corpus": 0.8}, ["must be a table"]),
])
def test_bad_keys_are_rejected_in_both_languages(raw: dict, words: list[str]) -> None:
    with pytest.raises(ThresholdsError) as info:
        parse_thresholds(raw, datasets=DATASETS)
    for word in words:
        assert word in str(info.value)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "t.toml"
    bad.write_text("[corpus\n", encoding="utf-8")
    with pytest.raises(ThresholdsError, match="Fix the TOML syntax"):
        load_thresholds(bad)
    with pytest.raises(ThresholdsError, match="not found"):
        load_thresholds(tmp_path / "missing.toml")
    unknown = tmp_path / "u.toml"
    unknown.write_text("[corpus]\nnot_a_metric = 1\n", encoding="utf-8")
    with pytest.raises(ThresholdsError, match=re.escape(str(unknown))):
        load_thresholds(unknown)
    assert THRESHOLDS_PATH.is_file()
