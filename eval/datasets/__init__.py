"""Eval datasets by name (`rag eval --dataset NAME`): one module each plus one line in DATASETS.

Every dataset returns `Outcome(results=[ItemResult, ...], answerer=label)`; `rag eval` then runs
the same path for all of them: eval.report.summarize (metrics from eval/metric_table.py, each
applied where a question has its inputs), report.json/.md, the summary line, the
eval/thresholds.toml gate under `[NAME]`, and `--compare`.

To add a dataset:

- SQuAD-format file (e.g. `drcd-test`, `cmrc-test`): a module like drcd_dev.py holding one
  `SquadBenchmark(name=..., description=..., file="<dir>/<file>.json" (under
  Settings.benchmarks_dir), collection=..., records_file=...)`. A subset of a file (a test split
  by article) is a SquadBenchmark subclass whose run() filters the questions and records.
- Anything else (`dialogues`, `crud-rag`): a module with a class that satisfies
  `eval.datasets.base.Dataset` (name, description, has_splits, run). Its run() builds a
  collection with `ingest_collection`, turns each question into an `eval.dataset.GoldItem` with
  the fields it has (key_facts/evidence for key-fact scoring, answers for short-answer scoring,
  article_ids for retrieval, answerable=False for questions that must be refused) and calls
  `eval.runner.run_items`, or builds ItemResults itself (e.g. multi-turn: ask with history).
  Benchmark files are read from `settings.benchmarks_dir` (or `options.source`) in place; a
  missing one raises `eval.errors.BenchmarkMissingError`.
- Then one line below. A metric the new data needs is one entry in eval/metric_table.py.
"""

from __future__ import annotations

from eval.datasets.base import Dataset, Outcome, RunOptions
from eval.datasets.cmrc_test import CMRC_TEST
from eval.datasets.corpus import CORPUS
from eval.datasets.corpus_keywords import CORPUS_KEYWORDS
from eval.datasets.crud_rag import CRUD_RAG, CRUD_RAG_ALL
from eval.datasets.crud_rag_absent import CRUD_RAG_ABSENT
from eval.datasets.dialogues import DIALOGUES
from eval.datasets.drcd_dev import DRCD_DEV
from eval.datasets.drcd_test import DRCD_TEST
from eval.datasets.negatives import NEGATIVES

DATASETS: dict[str, Dataset] = {
    d.name: d for d in (CORPUS, CORPUS_KEYWORDS, DRCD_DEV, DIALOGUES, CRUD_RAG, CRUD_RAG_ALL,
                        CRUD_RAG_ABSENT, DRCD_TEST, CMRC_TEST, NEGATIVES)}

__all__ = ["DATASETS", "Dataset", "Outcome", "RunOptions"]
