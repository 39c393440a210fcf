"""`corpus`: the gold questions (eval/data/gold.jsonl) on the shipped corpus, in its own collection.

`--limit N` keeps the first N questions; `--source FILE` reads another gold
JSONL file.
"""

from __future__ import annotations

from eval.dataset import GOLD_PATH, GoldItem, load_gold
from eval.datasets.base import Outcome, RunOptions, ingest_collection
from eval.errors import GoldDataError
from eval.runner import progress_bar, run_items
from rag.config import Settings, shipped_corpus_dir


class CorpusDataset:
    name = "corpus"
    description = "gold Q&A on the shipped corpus (CI gate)"
    has_splits = True
    collection = "eval-corpus"

    def run(self, settings: Settings, options: RunOptions) -> Outcome:
        from rag.assistant import Assistant

        path = options.source or GOLD_PATH
        if not path.is_file():
            raise GoldDataError(f"找不到題庫檔：{path}。 Gold file not found: {path}; pass an "
                                "existing JSONL file or leave the option out.")
        items = self.questions(load_gold(path))
        items = items[: options.limit] if options.limit else items
        settings = settings.with_(collection=self.collection)
        ingest_collection([shipped_corpus_dir()], settings, progress=False)
        assistant = Assistant(settings, answerer=options.answerer)
        with progress_bar(len(items)) as bar:
            results = run_items(items, assistant.retriever, assistant, k=options.k,
                                progress=bar.update)
        return Outcome(results, assistant.label)

    def questions(self, items: list[GoldItem]) -> list[GoldItem]:
        """The gold items as this dataset asks them (here: as written)."""
        return items


CORPUS = CorpusDataset()
