"""Reading DRCD and CMRC 2018 (SQuAD format) and splitting them by article, before any fitting."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ConfigError

SPLITS = ("train", "validation", "test")
# Share of articles per split; the article, not the question, is the unit, so no test
# paragraph (nor a sibling paragraph of the same article) is ever seen in training.
SHARES = (0.6, 0.2, 0.2)
# The split (and swap) seed the shipped models were trained with
# (rag/answerers/models/record.json); the test datasets and the checks read the same one.
SEED = 13
# dataset name -> files under the benchmarks folder
SOURCES: dict[str, tuple[str, ...]] = {
    "drcd": ("drcd/DRCD_dev.json",),
    "cmrc": ("cmrc2018/cmrc2018_dev.json", "cmrc2018/cmrc2018_trial.json"),
}


@dataclass(frozen=True, kw_only=True)
class Paragraph:
    """One benchmark paragraph, ingested as one record (its id is the article id in the pool)."""

    pid: str
    article: str  # the benchmark's article id: the unit of the split
    title: str
    text: str


@dataclass(frozen=True, kw_only=True)
class Item:
    """One question with its gold paragraph and answers (first = the reference span)."""

    qid: str
    question: str
    pid: str
    article: str
    answers: tuple[str, ...]
    answer_start: int  # offset of answers[0] in the paragraph text, -1 when unknown
    dataset: str


def load(dataset: str, benchmarks_dir: Path) -> tuple[list[Paragraph], list[Item]]:
    if dataset not in SOURCES:
        raise ConfigError(f"未知的訓練資料集：{dataset}。 Unknown dataset {dataset!r}; use one of "
                          f"{', '.join(SOURCES)}.")
    paragraphs: list[Paragraph] = []
    items: list[Item] = []
    for rel in SOURCES[dataset]:
        path = benchmarks_dir / rel
        if not path.is_file():
            raise ConfigError(f"找不到基準資料：{path}。 Benchmark file not found: {path}; set "
                              "RAG_BENCHMARKS_DIR to the folder holding drcd/ and cmrc2018/.")
        data = json.loads(path.read_text("utf-8"))
        for art in data["data"]:
            article = f"{dataset}:{art.get('id') or art['title']}"
            for para in art["paragraphs"]:
                pid = str(para["id"])
                paragraphs.append(Paragraph(pid=pid, article=article, title=art["title"],
                                            text=para["context"]))
                items.extend(_items(para, pid, article, dataset))
    return paragraphs, items


def _items(para: dict, pid: str, article: str, dataset: str) -> list[Item]:
    out = []
    for qa in para["qas"]:
        answers = tuple(dict.fromkeys(a["text"].strip() for a in qa.get("answers", [])
                                      if a["text"].strip()))
        if not answers or not qa["question"].strip():  # CMRC has one empty question
            continue
        first = next(a for a in qa["answers"] if a["text"].strip() == answers[0])
        start = int(first.get("answer_start", -1))
        if para["context"][start:start + len(first["text"])] != first["text"]:
            start = para["context"].find(answers[0])
        out.append(Item(qid=str(qa["id"]), question=qa["question"].strip(), pid=pid,
                        article=article, answers=answers, answer_start=start, dataset=dataset))
    return out


def split_of(article: str, seed: int) -> str:
    """train / validation / test for an article: a hash of seed and id, so the split does not
    depend on file order and a new article never moves an old one."""
    h = int(hashlib.sha256(f"{seed}:{article}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    edge = 0.0
    for name, share in zip(SPLITS, SHARES, strict=True):
        edge += share
        if h < edge:
            return name
    return SPLITS[-1]


def by_split(items: Sequence[Item], seed: int) -> dict[str, list[Item]]:
    out: dict[str, list[Item]] = {name: [] for name in SPLITS}
    for item in items:
        out[split_of(item.article, seed)].append(item)
    return out


def records(paragraphs: Sequence[Paragraph]) -> list[dict[str, str]]:
    """What `rag ingest` reads: one JSON record per paragraph."""
    return [{"id": p.pid, "title": p.title, "text": p.text} for p in paragraphs]
