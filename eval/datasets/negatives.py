"""`negatives-test`: questions the articles cannot answer, made from the DRCD and CMRC test
splits as in training (train/build.py): each question asked with its gold paragraph left out
of the search ("removed"), and each question whose year, number, place or person was swapped
for another one from the same article ("swapped"). All must be refused.

`--limit N` keeps the first N questions of each kind per benchmark. A "removed" question whose
shown passages still hold a gold answer in a sentence that covers much of the question is
left out of the figures (the answer may be there after all), as in training.
"""

from __future__ import annotations

from eval.dataset import GoldItem
from eval.datasets.base import Outcome, RunOptions, ingest_collection
from eval.drcd import write_records
from eval.item import ItemResult
from eval.runner import progress_bar
from rag.config import Settings

BENCHMARKS = (("drcd", "train-drcd", "drcd_paragraphs.jsonl"),
              ("cmrc", "train-cmrc", "cmrc_paragraphs.jsonl"))


class NegativesDataset:
    name = "negatives-test"
    description = "unanswerable: test questions with the gold paragraph removed or swapped"
    has_splits = False

    def run(self, settings: Settings, options: RunOptions) -> Outcome:
        results: list[ItemResult] = []
        label = ""
        for dataset, collection, records_file in BENCHMARKS:
            found, label = self._run_one(settings.with_(collection=collection), options,
                                         dataset, records_file)
            results.extend(found)
        return Outcome(results, label)

    def _run_one(self, settings: Settings, options: RunOptions, dataset: str,
                 records_file: str) -> tuple[list[ItemResult], str]:
        import time

        from rag.assistant import Assistant
        from train.build import ambiguous
        from train.data import SEED, load, records, split_of
        from train.negatives import negative_asks, swaps_for

        paragraphs, items = load(dataset, settings.benchmarks_dir)
        test = [i for i in items if split_of(i.article, SEED) == "test"]
        asks = negative_asks(test, paragraphs, swaps_for(items, paragraphs, SEED),
                             options.limit or None)
        ingest_collection([write_records(records(paragraphs), settings.data_dir / records_file)],
                          settings, progress=True)
        assistant = Assistant(settings, answerer=options.answerer)
        out = []
        with progress_bar(len(asks), desc=f"{self.name}:{dataset}") as bar:
            for ask in asks:
                item, question, kind = ask.item, ask.question, ask.kind
                started = time.perf_counter()
                answer = assistant.ask(question, filters=ask.filters)
                bar.update(1)
                if kind == "removed" and ambiguous(item, answer.passages):
                    continue
                gold = GoldItem(id=f"{kind}:{item.qid}", question=question, answerable=False,
                                category=f"{dataset}-{kind}", lang="zh-Hans"
                                if dataset == "cmrc" else "zh-Hant")
                out.append(ItemResult(item=gold, ranked_articles=tuple(dict.fromkeys(
                    p.article_id for p in answer.passages)), ranked_texts=tuple(
                    p.text for p in answer.passages), answer=answer,
                    seconds={"answer": time.perf_counter() - started}))
        return out, assistant.label


NEGATIVES = NegativesDataset()
