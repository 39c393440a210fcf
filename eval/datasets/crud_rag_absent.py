"""`crud-rag-absent`: real news questions the archive cannot answer, which must be refused.

CRUD-RAG's one-document QA file (`QuestAnswer1Doc_quest_gt_save.json`: questions and short
answers per source article, 800 articles) was written from a far larger archive than the three
files shipped here. Asked against the `crud-rag` collection (the 1,000+ articles of that
dataset), a question is kept when its source article is not a located one and its short answer
(2-12 characters: a name, number, date or place; longer answers are sentences that a parallel
report may say in other words) occurs nowhere in the ingested articles, folded as the answerer
folds text. Such a question asks about news the archive does not hold, often about an entity it
does hold (中國駐某國大使館, a company's quarterly revenue): the near miss that users meet.

The label is fixed by the data, not by what the retriever shows. Halves by article: a question
is `heldout` when the first hex digit of the md5 of its source article's key is odd, else
`tune` (a new article never moves an old one). `--limit N` keeps the first N questions of each
half, in file order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from eval.dataset import GoldItem
from eval.datasets.base import Outcome, RunOptions, ingest_collection
from eval.datasets.crud_rag import CRUD_RAG, UNINFERABLE, prepare
from eval.errors import BenchmarkMissingError, GoldDataError
from eval.runner import progress_bar, run_items
from rag.config import Settings
from rag.text import fold

QA_FILE = "QuestAnswer1Doc_quest_gt_save.json"
# A short answer is a fact (陳某, 1.52億美元, 8月1日); 2 characters or more so that a bare digit
# or 是 is not "absent" by accident, 12 at most (1,104 of the 1,575 absent answers; the longer
# ones are clauses a parallel report can say in other words).
MIN_CHARS, MAX_CHARS = 2, 12


@dataclass(frozen=True)
class Absent:
    """One question whose short answer the archive does not hold."""

    source: str  # the QA file's key for its source article
    question: str
    answer: str

    @property
    def split(self) -> str:
        return "heldout" if int(hashlib.md5(self.source.encode()).hexdigest()[0], 16) % 2 \
            else "tune"


def absent_questions(qa: Mapping[str, Mapping[str, list[str]]], located: Iterable[str],
                     archive: str) -> list[Absent]:
    """Questions of articles none of whose questions is located, with a 2-12 character answer
    (not 「无法推断」) that the folded `archive` text does not contain; in file order."""
    known = set(located)
    out = []
    for source, record in qa.items():
        questions, answers = record.get("question", []), record.get("answers", [])
        if any(q in known for q in questions):
            continue
        for question, answer in zip(questions, answers, strict=False):
            answer = answer.strip()
            if (answer == UNINFERABLE or not MIN_CHARS <= len(answer) <= MAX_CHARS
                    or fold(answer) in archive):
                continue
            out.append(Absent(source=source, question=question.strip(), answer=answer))
    return out


def load_qa(path: Path) -> dict[str, dict[str, list[str]]]:
    if not path.is_file():
        raise BenchmarkMissingError(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise GoldDataError(f"{path}: 不是 JSON（{exc.msg}），請換回 CRUD-RAG 原本的檔案。 "
                            f"Not JSON ({exc.msg}); restore CRUD-RAG's original file.") from exc
    if not isinstance(raw, dict) or not all(
            isinstance(r, dict) and isinstance(r.get("question"), list)
            and isinstance(r.get("answers"), list) for r in raw.values()):
        raise GoldDataError(
            f"{path}: 格式不正確，每篇需要 question 與 answers 清單；請換回 CRUD-RAG 原本的檔案。 "
            "Malformed: each article needs `question` and `answers` lists; restore CRUD-RAG's "
            "original file.")
    return raw


class CrudRagAbsentDataset:
    name = "crud-rag-absent"
    description = ("CRUD-RAG news questions whose short answer is in no ingested article: "
                   "must be refused (crud-rag's collection)")
    has_splits = True

    def run(self, settings: Settings, options: RunOptions) -> Outcome:
        from rag.assistant import Assistant

        settings = settings.with_(collection=CRUD_RAG.collection)
        source = CRUD_RAG.source(settings, options)  # the folder `crud-rag` reads
        located, paths = prepare(settings, source, CRUD_RAG.articles, CRUD_RAG.collection)
        ingest_collection(paths, settings, progress=True)
        archive = fold("\n".join(p.read_text(encoding="utf-8") for p in paths))
        asked = absent_questions(load_qa(source / QA_FILE), (q.question for q in located),
                                 archive)
        items = [GoldItem(id=f"a{n:04d}", question=a.question, answerable=False,
                          category="absent", lang="zh-Hans", split=a.split)
                 for n, a in enumerate(asked, start=1)]
        if options.limit:
            items = [i for split in ("tune", "heldout")
                     for i in [i for i in items if i.split == split][: options.limit]]
        assistant = Assistant(settings, answerer=options.answerer)
        with progress_bar(len(items), desc=self.name) as bar:
            results = run_items(items, assistant.retriever, assistant, k=options.k,
                                progress=bar.update)
        return Outcome(results, assistant.label)


CRUD_RAG_ABSENT = CrudRagAbsentDataset()
