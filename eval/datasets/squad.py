"""SQuAD-format benchmarks (DRCD, CMRC 2018) as open-domain QA: every paragraph is an article.

Every question is retrieved (its gold article is the paragraph it was asked on); the first
`--limit N` questions are also answered (all when no limit) and scored on their reference
answers: contains-gold, and character EM/F1 of the short span cut from the quotes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eval.dataset import GoldItem
from eval.datasets.base import Outcome, RunOptions, ingest_collection
from eval.drcd import Question, load_drcd, write_records
from eval.runner import progress_bar, run_items
from rag.config import Settings


@dataclass(frozen=True, kw_only=True)
class SquadBenchmark:
    name: str
    description: str
    file: str  # under Settings.benchmarks_dir (RAG_BENCHMARKS_DIR), read in place
    collection: str
    records_file: str  # the paragraphs as JSONL records, under Settings.data_dir
    has_splits: bool = False

    def path(self, settings: Settings, options: RunOptions) -> Path:
        return options.source or settings.benchmarks_dir / self.file

    def run(self, settings: Settings, options: RunOptions) -> Outcome:
        from rag.assistant import Assistant

        records, questions = load_drcd(self.path(settings, options))
        settings = settings.with_(collection=self.collection)
        ingest_collection([write_records(records, settings.data_dir / self.records_file)],
                          settings, progress=True)
        assistant = Assistant(settings, answerer=options.answerer)
        items = [self._item(q) for q in questions]
        with progress_bar(len(items), desc=self.name) as bar:
            results = run_items(items, assistant.retriever, assistant, k=options.k,
                                progress=bar.update, answer_limit=options.limit or None)
        return Outcome(results, assistant.label)

    def _item(self, q: Question) -> GoldItem:
        return GoldItem(id=q.qid, question=q.text, answerable=True, article_ids=(q.article_id,),
                        answers=q.answers, category=self.name)
