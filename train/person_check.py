"""How the extractive answerer's 誰 check was chosen: on the DRCD + CMRC *validation* split.

    python -m train.person_check [--limit 120]   (RAG_DATA_DIR: the training cache folder)

For the validation 誰 questions (at most `--limit` per benchmark) it asks each question as is,
with its gold paragraph left out ("removed") and with a swapped constraint ("swapped"), once
with the plain question and once widened (rag/answerers/thesaurus.py: 2-character names that
are not common words, and role nouns, count as the someone asked for). Measured 2026-11-28, 147
questions: answered 0.660 -> 0.721, answer holds gold 0.517 -> 0.646, removed refused 0.898 ->
0.905, swapped refused 0.661 -> 0.644 (59). Needs the pools `rag train` builds."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace

from rag.answerers.extractive import ExtractiveAnswerer
from rag.answerers.question import Query, analyse
from rag.assistant import Assistant
from rag.config import Settings
from rag.lang import Lang
from rag.text import fold
from train.build import ambiguous
from train.data import SEED, load, split_of
from train.negatives import negative_asks, swaps_for
from train.pools import build

COUNTS = ("asked", "answered", "holds", "removed", "removed_refused", "swapped",
          "swapped_refused")


class PlainWho(ExtractiveAnswerer):
    """The shipped answerer with the 誰 check as it was: 3+ character names, no roles."""

    @staticmethod
    def query(question: str, lang: Lang | None = None) -> Query:
        return replace(ExtractiveAnswerer.query(question, lang), name_chars=3,
                       person_words=frozenset(), common_words=frozenset())


def measure(settings: Settings, dataset: str, widened: bool, limit: int) -> dict[str, int]:
    pool = build(settings, dataset)
    assistant = Assistant(pool, answerer="extractive")
    if not widened:
        assistant.answerer = assistant.fallback = PlainWho(
            embedder=assistant.retriever.embedder, threshold=pool.extractive_threshold)
    paragraphs, items = load(dataset, pool.benchmarks_dir)
    asked = [i for i in items if split_of(i.article, SEED) == "validation"
             and "person" in analyse(i.question).kinds][:limit]
    c = dict.fromkeys(COUNTS, 0)
    for item in asked:
        answer = assistant.ask(item.question)
        c["asked"] += 1
        if not answer.refused:
            c["answered"] += 1
            c["holds"] += any(fold(g) in fold(answer.text) for g in item.answers)
    for ask in negative_asks(asked, paragraphs, swaps_for(items, paragraphs, SEED)):
        negative = assistant.ask(ask.question, filters=ask.filters)
        if ask.kind == "removed" and ambiguous(ask.item, negative.passages):
            continue
        c[ask.kind] += 1
        c[f"{ask.kind}_refused"] += negative.refused
    return c


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--limit", type=int, default=120, help="questions per benchmark")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    for widened in (False, True):
        c = dict.fromkeys(COUNTS, 0)
        for dataset in ("drcd", "cmrc"):
            for key, value in measure(settings, dataset, widened, args.limit).items():
                c[key] += value
        print("widened" if widened else "plain  ", c,
              f"answered {c['answered'] / max(c['asked'], 1):.3f}",
              f"holds {c['holds'] / max(c['asked'], 1):.3f}",
              f"removed refused {c['removed_refused'] / max(c['removed'], 1):.3f}",
              f"swapped refused {c['swapped_refused'] / max(c['swapped'], 1):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
