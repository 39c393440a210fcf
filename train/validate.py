"""How the extractive answerer's checks were chosen: on the DRCD + CMRC *validation* split.

    python -m train.validate [--limit 250] [--kind person] [--keywords] VARIANT...
    (RAG_DATA_DIR: the training cache folder; needs the pools `rag train` builds)

For the first `--limit` validation questions of each benchmark (only those of `--kind` when
given) it asks each question as is, with its gold paragraph left out ("removed") and with a
swapped year, number, place or person ("swapped"), once per variant of the answerer:

- `shipped`: the extractive answerer as it ships;
- `plain-who`: the 誰 check as it was (3+ character names, no roles). Measured 2026-11-28,
  `--kind person --limit 120` (147 questions): answered 0.660 -> 0.721, holds gold 0.517 ->
  0.646, removed refused 0.898 -> 0.905, swapped refused 0.661 -> 0.644;
- `learned`: the learned answerer, for comparison (`--limit 250`, 2026-11-29: holds gold
  0.778, removed refused 0.882, swapped refused 0.893; the extractive number checks as a
  veto after its models refused one more swapped negative of 244 and were not kept);
- `no-numbers`: without the number checks (the question's years and amounts next to the
  answer, an amount for 多少). Measured 2026-11-28, `--limit 250` (500 questions): holds gold
  0.654 -> 0.650, removed refused 0.867 -> 0.871, swapped refused 0.512 -> 0.549.
- `no-categories`: without a keyword query's category nouns (rag/answerers/categories.py).
  Measured 2026-11-29, `--keywords --limit 250`: answered 0.724 -> 0.754, holds gold 0.642 ->
  0.666, removed refused 0.859 -> 0.849, swapped refused 0.590 -> 0.578 (keyword queries now
  fare as their question forms do); whole questions: see docs/answerer.md.
- `no-whole-parts`: a missing word counted through any shown part of it, as before stop 25.
  Measured 2026-11-29, `--limit 250`: answered 0.718 -> 0.714, holds gold 0.650 -> 0.648,
  removed refused 0.869 -> 0.873, swapped refused 0.549 -> 0.561 (as keywords: 0.754 / 0.666
  / 0.849 / 0.578 -> 0.750 / 0.664 / 0.853 / 0.586).

- `no-word-weights`: every question word weighed by its IDF alone, as before stop 26.
  Measured 2026-11-29, `--limit 250`: answered 0.694 -> 0.722, holds gold 0.638 -> 0.662,
  removed refused 0.890 -> 0.892, swapped refused 0.594 -> 0.578 (as keywords: 0.734 / 0.654
  / 0.880 / 0.623 -> 0.758 / 0.678 / 0.873 / 0.615).

- `no-second-opinion`: without the learned selector's best sentence quoted beside an answer.
  Measured 2026-11-29, `--limit 250`: holds gold 0.662 -> 0.688; answered, removed and
  swapped refused unchanged (refusals are the extractive answerer's alone).

- `no-country-instances`: an asked 國家 counted as a word only, as before stop 27. Measured
  2026-11-29, `--limit 250`: answered and holds gold 0.722 / 0.688 and removed refused 0.892
  either way, swapped refused 0.578 -> 0.574 (as keywords: holds 0.692 -> 0.694, swapped
  0.615 -> 0.611); what it is for is news (docs/answerer.md, stop 27).
- `no-lacking`: without the best sentence's neighbour that holds the question words it lacks.
  Measured 2026-11-29, `--limit 250`: holds gold 344 -> 345 of 500; refusals unchanged.
- `no-missing-weights`: the missing-words share weighed as coverage is, as before stop 28.
  Measured 2026-11-29, `--limit 250`: holds gold 345 -> 358 of 500, removed refused 437 ->
  436 of 490, swapped refused 140 -> 136 of 244 (0.892 / 0.574 -> 0.890 / 0.557).

- `no-framed-swaps`: quoting a sentence that says the question's frame around another name.
  Measured 2026-11-29, `--limit 250`: holds gold 358 of 500 either way, removed refused 436
  -> 437 of 490, swapped refused 136 -> 148 of 244 (0.557 -> 0.607); as keywords: holds
  359 -> 357, removed 427 either way, swapped 145 -> 158.

`--keywords` asks every question (and its negatives) as its keywords, the way users type a
search (林欽榮 檳城 行政 議員 交流). Measured 2026-11-29, `shipped --limit 250`: answered 0.718 ->
0.724, holds gold 0.650 -> 0.642, removed refused 0.871 -> 0.859, swapped refused 0.549 ->
0.590: keyword queries fare as whole questions do on these benchmarks."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from rag.answerers import Answerer
from rag.answerers.evidence import Candidate
from rag.answerers.extractive import ExtractiveAnswerer
from rag.answerers.learned import LearnedAnswerer
from rag.answerers.question import Query, analyse, keywords
from rag.assistant import Assistant
from rag.config import Settings
from rag.lang import Lang
from rag.schema import Passage
from rag.text import Span, fold
from train.build import ambiguous
from train.data import SEED, load, split_of
from train.negatives import negative_asks, swaps_for
from train.pools import build

if TYPE_CHECKING:
    from rag.embed import Embedder

COUNTS = ("asked", "answered", "holds", "removed", "removed_refused", "swapped",
          "swapped_refused")


class PlainWho(ExtractiveAnswerer):
    """The shipped answerer with the 誰 check as it was: 3+ character names, no roles."""

    @staticmethod
    def query(question: str, lang: Lang | None = None) -> Query:
        return replace(ExtractiveAnswerer.query(question, lang), name_chars=3,
                       person_words=frozenset(), common_words=frozenset())


class NoNumbers(ExtractiveAnswerer):
    """The shipped answerer without the number checks."""

    @staticmethod
    def query(question: str, lang: Lang | None = None) -> Query:
        return replace(ExtractiveAnswerer.query(question, lang), numbers_nearby=False)


class NoCategories(ExtractiveAnswerer):
    """The shipped answerer without a keyword query's category nouns (rag/answerers/categories)."""

    @staticmethod
    def query(question: str, lang: Lang | None = None) -> Query:
        return replace(ExtractiveAnswerer.query(question, lang),
                       categories=analyse(question, lang).categories)


class NoWholeParts(ExtractiveAnswerer):
    """The shipped answerer letting any shown part of a missing word stand for it."""

    @staticmethod
    def query(question: str, lang: Lang | None = None) -> Query:
        return replace(ExtractiveAnswerer.query(question, lang), whole_parts=False)


class NoWordWeights(ExtractiveAnswerer):
    """The shipped answerer weighing every question word by its IDF alone."""

    @staticmethod
    def query(question: str, lang: Lang | None = None) -> Query:
        return replace(ExtractiveAnswerer.query(question, lang), weights=())


class NoSecondOpinion(ExtractiveAnswerer):
    """The shipped answerer quoting only its own choice, not the learned selector's too."""

    def second_opinion(self, question: str, passages: Sequence[Passage], lang: Lang | None,
                       chosen: Sequence[Candidate]) -> tuple[int, Span] | None:
        return None


class NoCountryInstances(ExtractiveAnswerer):
    """The shipped answerer with an asked 國家 counted as a word, never through a country."""

    @staticmethod
    def query(question: str, lang: Lang | None = None) -> Query:
        return replace(ExtractiveAnswerer.query(question, lang), country_instances=False)


class NoMissingWeights(ExtractiveAnswerer):
    """The shipped answerer with the missing share weighed as coverage is (word_weights)."""

    @staticmethod
    def query(question: str, lang: Lang | None = None) -> Query:
        return replace(ExtractiveAnswerer.query(question, lang), missing_weights=())


class NoFramedSwaps(ExtractiveAnswerer):
    """The shipped answerer quoting a sentence with another name in the question's frame."""

    framed_swaps = False


class NoLacking(ExtractiveAnswerer):
    """The shipped answerer without the neighbour that holds the question words it lacks."""

    lacking = None


Variant = Callable[[Settings, "Embedder"], Answerer]
VARIANTS: dict[str, Variant] = {
    "shipped": ExtractiveAnswerer.from_settings,
    "plain-who": PlainWho.from_settings,
    "no-numbers": NoNumbers.from_settings,
    "no-categories": NoCategories.from_settings,
    "no-whole-parts": NoWholeParts.from_settings,
    "no-word-weights": NoWordWeights.from_settings,
    "no-second-opinion": NoSecondOpinion.from_settings,
    "no-country-instances": NoCountryInstances.from_settings,
    "no-lacking": NoLacking.from_settings,
    "no-missing-weights": NoMissingWeights.from_settings,
    "no-framed-swaps": NoFramedSwaps.from_settings,
    "learned": LearnedAnswerer.from_settings,
}


def measure(settings: Settings, dataset: str, variant: Variant, limit: int,
            kind: str | None = None, as_keywords: bool = False) -> dict[str, int]:
    pool = build(settings, dataset)
    assistant = Assistant(pool, answerer="extractive")
    assistant.answerer = assistant.fallback = variant(pool, assistant.retriever.embedder)
    paragraphs, items = load(dataset, pool.benchmarks_dir)
    asked = [i for i in items if split_of(i.article, SEED) == "validation"
             and (kind is None or kind in analyse(i.question).kinds)][:limit]
    c = dict.fromkeys(COUNTS, 0)
    form = keywords if as_keywords else str
    for item in asked:
        answer = assistant.ask(form(item.question))
        c["asked"] += 1
        if not answer.refused:
            c["answered"] += 1
            c["holds"] += any(fold(g) in fold(answer.text) for g in item.answers)
    for ask in negative_asks(asked, paragraphs, swaps_for(items, paragraphs, SEED)):
        negative = assistant.ask(form(ask.question), filters=ask.filters)
        if ask.kind == "removed" and ambiguous(ask.item, negative.passages):
            continue
        c[ask.kind] += 1
        c[f"{ask.kind}_refused"] += negative.refused
    return c


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("variants", nargs="+", choices=sorted(VARIANTS))
    parser.add_argument("--limit", type=int, default=250, help="questions per benchmark")
    parser.add_argument("--kind", help="only questions of this kind (person, date, number…)")
    parser.add_argument("--keywords", action="store_true",
                        help="ask each question as its keywords (no question words)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    for name in args.variants:
        c = dict.fromkeys(COUNTS, 0)
        for dataset in ("drcd", "cmrc"):
            found = measure(settings, dataset, VARIANTS[name], args.limit, args.kind,
                            args.keywords)
            for key, value in found.items():
                c[key] += value
        print(f"{name:10}", c,
              f"answered {c['answered'] / max(c['asked'], 1):.3f}",
              f"holds {c['holds'] / max(c['asked'], 1):.3f}",
              f"removed refused {c['removed_refused'] / max(c['removed'], 1):.3f}",
              f"swapped refused {c['swapped_refused'] / max(c['swapped'], 1):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
