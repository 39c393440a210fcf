"""The test split of a training benchmark (train/data.py: by article, fixed seed): the models
never saw these articles. Retrieval runs over the whole benchmark in the collection training
used (train/pools.py: train-drcd, train-cmrc), so `RAG_DATA_DIR` pointing at the training
folder reuses its ingest."""

from __future__ import annotations

from dataclasses import dataclass

from eval.dataset import GoldItem
from eval.datasets.base import Outcome, RunOptions, ingest_collection
from eval.drcd import write_records
from eval.runner import progress_bar, run_items
from rag.config import Settings


@dataclass(frozen=True, kw_only=True)
class TestSplit:
    """`--limit N` answers the first N test questions only (all are retrieved)."""

    name: str
    description: str
    dataset: str  # train.data.SOURCES key: drcd | cmrc
    collection: str
    records_file: str
    split: str = "test"
    has_splits: bool = False

    def run(self, settings: Settings, options: RunOptions) -> Outcome:
        from rag.assistant import Assistant
        from train.data import SEED, load, records, split_of

        paragraphs, items = load(self.dataset, settings.benchmarks_dir)
        chosen = [i for i in items if split_of(i.article, SEED) == self.split]
        settings = settings.with_(collection=self.collection)
        ingest_collection([write_records(records(paragraphs),
                                         settings.data_dir / self.records_file)],
                          settings, progress=True)
        assistant = Assistant(settings, answerer=options.answerer)
        gold = [GoldItem(id=i.qid, question=i.question, answerable=True, article_ids=(i.pid,),
                         answers=i.answers, category=self.name) for i in chosen]
        with progress_bar(len(gold), desc=self.name) as bar:
            results = run_items(gold, assistant.retriever, assistant, k=options.k,
                                progress=bar.update, answer_limit=options.limit or None)
        return Outcome(results, assistant.label)
