"""`crud-rag`: CRUD-RAG's Chinese news (../shared/benchmarks/crud-rag) and its 127 questions.

The archive is three files of one article per line (the `news-lines` reader: article id
`<file stem>-<0-based line>`, the `file`/`line` of questions_located.jsonl). `crud-rag` ingests
1,000+ of its 5,790 articles: every line a question was written from, then the first lines of each
file, as many from each, until 1,000 or more are chosen; `crud-rag-all` ingests all of them. The
chosen lines are written to `<RAG_DATA_DIR>/<collection>-input/<file stem>` with every other line
left blank, so the ids stay those of the original files (the reader skips blank lines but counts
them).

Every question is retrieved and answered. Its gold articles are its source article plus the
near-duplicates the ingest folded into it (or it into): the archive repeats stories
(`documents_dup_*`), and a duplicate is not indexed twice. Questions whose answer is 「无法推断」
(not inferable from the article) must be refused (answerable=False). `--limit N` keeps the first
N questions; `--source DIR` reads another copy of the crud-rag folder. Categories: `located`
(answerable) and `uninferable`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from eval.dataset import GoldItem
from eval.datasets.base import Outcome, RunOptions, ingest_collection
from eval.errors import BenchmarkMissingError, GoldDataError
from eval.runner import progress_bar, run_items
from rag.config import Settings

FOLDER = "crud-rag"  # under Settings.benchmarks_dir
QUESTIONS = "questions_located.jsonl"
FILES = ("documents_dup_part_1_part_1", "documents_dup_part_10_part_1",
         "documents_dup_part_10_part_2")
UNINFERABLE = "无法推断"  # the data's answer for "the article does not say"


@dataclass(frozen=True)
class Located:
    """One line of questions_located.jsonl: a question, its short answer and source article."""

    question: str
    answer: str
    file: str
    line: int  # 0-based line of `file`

    @property
    def article_id(self) -> str:
        return f"{self.file}-{self.line}"

    @property
    def answerable(self) -> bool:
        return self.answer.strip() != UNINFERABLE


def load_located(path: Path) -> list[Located]:
    """The located questions, in file order; a malformed line raises GoldDataError."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            out.append(Located(str(raw["question"]), str(raw["answer"]), str(raw["file"]),
                               int(raw["line"])))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise GoldDataError(
                f"{path}:{n}: 題目格式不正確（{exc}）。 Malformed located question ({exc}); each "
                "line needs question, answer, file and a 0-based line.") from exc
    return out


def choose_lines(counts: dict[str, int], located: Sequence[Located],
                 articles: int | None) -> dict[str, list[int]]:
    """file -> chosen 0-based lines: every located line, plus the first n lines of every file
    with the smallest n that makes `articles` or more in all (None: every line)."""
    wanted: dict[str, set[int]] = {f: set() for f in counts}
    for q in located:
        if q.file in wanted and q.line < counts[q.file]:
            wanted[q.file].add(q.line)
    if articles is None:
        return {f: list(range(n)) for f, n in counts.items()}
    for first in range(max(counts.values(), default=0) + 1):
        chosen = {f: wanted[f] | set(range(min(first, n))) for f, n in counts.items()}
        if sum(len(lines) for lines in chosen.values()) >= articles:
            break
    return {f: sorted(lines) for f, lines in chosen.items()}


def write_subset(source: Path, chosen: dict[str, list[int]], out_dir: Path) -> list[Path]:
    """Copies of the archive files holding only the chosen lines (the others blank), same
    names; a copy already holding exactly that text is left alone."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, lines in chosen.items():
        keep = set(lines)
        rows = (source / name).read_text(encoding="utf-8").split("\n")
        text = "\n".join(row if i in keep else "" for i, row in enumerate(rows))
        target = out_dir / name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        paths.append(target)
    return paths


def line_counts(source: Path) -> dict[str, int]:
    out = {}
    for name in FILES:
        path = source / name
        if not path.is_file():
            raise BenchmarkMissingError(path)
        with path.open(encoding="utf-8") as f:
            out[name] = sum(1 for _ in f)
    return out


def prepare(settings: Settings, source: Path, articles: int | None,
            collection: str) -> tuple[list[Located], list[Path]]:
    """The questions and the input files of the chosen articles (the ingest's paths)."""
    questions = source / QUESTIONS
    if not questions.is_file():
        raise BenchmarkMissingError(questions)
    located = load_located(questions)
    counts = line_counts(source)
    if articles is None:
        return located, [source / name for name in counts]
    chosen = choose_lines(counts, located, articles)
    return located, write_subset(source, chosen, settings.data_dir / f"{collection}-input")


def gold_articles(settings: Settings, located: Sequence[Located]) -> dict[str, tuple[str, ...]]:
    """Source article id -> it and its near-duplicates as the ingest recorded them."""
    from rag.manifest import open_manifest

    with open_manifest(settings) as manifest:
        entries = manifest.entries()
        out = {}
        for q in located:
            ids = {q.article_id}
            entry = entries.get(q.article_id)
            if entry is not None and entry.duplicate_of:
                ids.add(entry.duplicate_of)
            ids |= {e.article.article_id for e in manifest.duplicates_of(sorted(ids))}
            out[q.article_id] = tuple(sorted(ids))
    return out


@dataclass(frozen=True, kw_only=True)
class CrudRagDataset:
    name: str
    description: str
    collection: str
    articles: int | None  # None: the whole archive
    has_splits: bool = False

    def source(self, settings: Settings, options: RunOptions) -> Path:
        return options.source or settings.benchmarks_dir / FOLDER

    def run(self, settings: Settings, options: RunOptions) -> Outcome:
        from rag.assistant import Assistant

        settings = settings.with_(collection=self.collection)
        located, paths = prepare(settings, self.source(settings, options), self.articles,
                                 self.collection)
        ingest_collection(paths, settings, progress=True)
        gold = gold_articles(settings, located)
        items = [GoldItem(id=f"q{n:03d}", question=q.question, answerable=q.answerable,
                          article_ids=gold[q.article_id], lang="zh-Hans",
                          answers=(q.answer,) if q.answerable else (),
                          category="located" if q.answerable else "uninferable")
                 for n, q in enumerate(located, start=1)]
        items = items[: options.limit] if options.limit else items
        assistant = Assistant(settings, answerer=options.answerer)
        with progress_bar(len(items), desc=self.name) as bar:
            results = run_items(items, assistant.retriever, assistant, k=options.k,
                                progress=bar.update)
        return Outcome(results, assistant.label)


CRUD_RAG = CrudRagDataset(
    name="crud-rag", collection="crud-rag", articles=1000,
    description="CRUD-RAG news: 1,000+ articles (every question's source), 127 questions")
CRUD_RAG_ALL = CrudRagDataset(
    name="crud-rag-all", collection="crud-rag-all", articles=None,
    description="CRUD-RAG news: all 5,790 articles, 127 questions (hours of embedding)")
