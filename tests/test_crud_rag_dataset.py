"""The crud-rag eval dataset's pure parts: which archive lines it ingests, subset files that keep
the archive's article ids, the located questions, and a clear error when the data is missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.datasets.crud_rag import (
    FILES,
    QUESTIONS,
    Located,
    choose_lines,
    load_located,
    prepare,
    write_subset,
)
from eval.errors import BenchmarkMissingError, GoldDataError
from ingest.load import load_file
from ingest.readers.base import RawDoc
from rag.config import Settings


def news_line(n: int) -> str:
    return f"[ 2023-07-{n % 28 + 1:02d} 10:00 ] ，正文：第{n}篇新闻的正文内容，记录了当天的事件。"


def test_located_lines_first_then_the_first_lines_of_every_file() -> None:
    counts = {"a": 10, "b": 10, "c": 10}
    located = [Located("问题一？", "答案", "b", 7), Located("问题二？", "无法推断", "c", 9)]
    chosen = choose_lines(counts, located, 8)
    assert chosen == {"a": [0, 1], "b": [0, 1, 7], "c": [0, 1, 9]}  # 8 articles, each file alike
    assert choose_lines(counts, located, None) == {f: list(range(10)) for f in counts}
    assert sum(map(len, choose_lines(counts, located, 100).values())) == 30  # all there is


def test_subset_files_keep_the_archive_ids(tmp_path: Path) -> None:
    source = tmp_path / "crud-rag"
    source.mkdir()
    (source / "documents_x").write_text("\n".join(news_line(i) for i in range(6)) + "\n",
                                        encoding="utf-8")
    paths = write_subset(source, {"documents_x": [0, 1, 4]}, tmp_path / "subset")
    docs = [d for d in load_file(paths[0]) if isinstance(d, RawDoc)]
    assert [d.doc_id for d in docs] == ["documents_x-0", "documents_x-1", "documents_x-4"]
    assert docs[2].text.startswith("第4篇新闻")
    stamp = paths[0].stat().st_mtime_ns
    write_subset(source, {"documents_x": [0, 1, 4]}, tmp_path / "subset")
    assert paths[0].stat().st_mtime_ns == stamp  # unchanged text is not rewritten


def test_uninferable_answers_are_unanswerable(tmp_path: Path) -> None:
    path = tmp_path / QUESTIONS
    rows = [{"question": "哪天实施？", "answer": "2023年12月1日", "file": "f", "line": 3},
            {"question": "将进行什么操作？", "answer": "无法推断", "file": "f", "line": 3}]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    first, second = load_located(path)
    assert (first.article_id, first.answerable, second.answerable) == ("f-3", True, False)
    path.write_text('{"question": "缺少行号"}\n', encoding="utf-8")
    with pytest.raises(GoldDataError, match=r"questions_located.jsonl:1"):
        load_located(path)


def test_missing_benchmark_folder_says_where_to_point(tmp_path: Path) -> None:
    settings = Settings.from_env({}).with_(data_dir=tmp_path / "rag")
    with pytest.raises(BenchmarkMissingError, match="RAG_BENCHMARKS_DIR"):
        prepare(settings, tmp_path / "nowhere", 1000, "crud-rag")
    (tmp_path / "partial").mkdir()
    (tmp_path / "partial" / QUESTIONS).write_text("", encoding="utf-8")
    with pytest.raises(BenchmarkMissingError, match=FILES[0]):
        prepare(settings, tmp_path / "partial", 1000, "crud-rag")
