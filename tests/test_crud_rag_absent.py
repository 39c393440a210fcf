"""The crud-rag-absent eval dataset's pure parts: which news questions count as not answerable
from the archive, its fixed halves by article, and a clear error on a damaged QA file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.datasets import DATASETS
from eval.datasets.crud_rag_absent import Absent, absent_questions, load_qa
from eval.errors import BenchmarkMissingError, GoldDataError
from rag.text import fold

QA = {
    "k1": {"question": ["哪个城市发放了消费券？", "消费券总额是多少？", "这是真的吗？"],
           "answers": ["西安市", "500万元", "是"]},
    "k2": {"question": ["谁主持了会议？", "会议在哪天举行？"], "answers": ["无法推断", "8月1日"]},
    "k3": {"question": ["located 问题？", "另一个问题？"], "answers": ["甲乙", "丙丁"]},
    "k4": {"question": ["有哪些措施？"], "answers": ["停工、停产、停课、休市、停运、停业"]},
}


def test_a_question_counts_when_its_short_answer_is_nowhere_in_the_archive() -> None:
    archive = fold("8月1日，西安市发放体育消费券。")  # holds two of the answers
    found = absent_questions(QA, ["located 问题？"], archive)
    # 西安市 and 8月1日 are in the archive; 是 is too short, 无法推断 is no answer, the long
    # list is a clause; k3 is a located article, so none of its questions counts
    assert [(a.source, a.answer) for a in found] == [("k1", "500万元")]


def test_the_answer_is_looked_for_folded_as_the_answerer_reads_text() -> None:
    archive = fold("消費券總額為500萬元。")  # Traditional archive, Simplified answer
    answers = {a.answer for a in absent_questions(QA, [], archive)}
    assert "500万元" not in answers
    assert answers == {"西安市", "8月1日", "甲乙", "丙丁"}


def test_halves_are_by_article_and_fixed() -> None:
    splits = {Absent(f"src{n}", "问题？", "答案").split for n in range(40)}
    assert splits == {"tune", "heldout"}
    same = [Absent("src7", q, "答案").split for q in ("甲？", "乙？", "丙？")]
    assert len(set(same)) == 1  # every question of an article falls in its article's half
    assert Absent("src7", "甲？", "答案").split == Absent("src7", "甲？", "答案").split


def test_a_damaged_qa_file_says_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(BenchmarkMissingError):
        load_qa(tmp_path / "missing.json")
    bad = tmp_path / "qa.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(GoldDataError, match="Not JSON"):
        load_qa(bad)
    bad.write_text(json.dumps({"k": {"question": "一个字符串"}}), encoding="utf-8")
    with pytest.raises(GoldDataError, match="question"):
        load_qa(bad)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(QA, ensure_ascii=False), encoding="utf-8")
    assert load_qa(good) == QA


def test_registered_with_halves() -> None:
    assert DATASETS["crud-rag-absent"].has_splits
