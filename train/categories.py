"""The category nouns a keyword query may hold (国家, 公司, 职务), learned from the training split.

    python -m train.categories [--min-articles 5] [--out rag/answerers/models/categories.json]

A question names the kind of thing it asks for right after its question word (哪個國家, 什麼
職務): `analyse` keeps those nouns as the query's categories, which the answer need not repeat.
Typed as keywords (巴赫 出生 國家), the same nouns stand alone and were counted as words
the passages must hold. This lists the nouns that follow a question word in training questions
of at least `--min-articles` different articles (5: 75 nouns, from 地方 and 國家 to 企業), so a
keyword query's category is recognised by data, not by a hand list (docs/answerer.md)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rag.answerers.categories import CATEGORIES_PATH
from rag.answerers.question import analyse
from train.data import SEED, by_split, load
from train.tables import table_main

# 5 and 10 gave the same figures on the gold tune half asked as keywords (docs/answerer.md);
# 5 keeps more nouns (75 against 27) for questions the tune half does not ask.
MIN_ARTICLES = 5
DATASETS = ("drcd", "cmrc")


def category_counts(questions: Iterable[tuple[str, str]]) -> dict[str, int]:
    """For (article id, question) pairs: each category noun and how many articles ask it."""
    articles: dict[str, set[str]] = {}
    for article, question in questions:
        for word in analyse(question).categories:
            articles.setdefault(word, set()).add(article)
    return {w: len(a) for w, a in sorted(articles.items())}


def frequent(counts: dict[str, int], min_articles: int) -> list[str]:
    return sorted(w for w, n in counts.items() if n >= min_articles)


def build(benchmarks_dir: Path, datasets: Sequence[str] = DATASETS, seed: int = SEED,
          min_articles: int = MIN_ARTICLES) -> dict[str, Any]:
    """The file's content: the nouns and how they were chosen (training split only)."""
    pairs: list[tuple[str, str]] = []
    for dataset in datasets:
        _, items = load(dataset, benchmarks_dir)
        pairs += [(i.article, i.question) for i in by_split(items, seed)["train"]]
    counts = category_counts(pairs)
    return {"words": frequent(counts, min_articles),
            "record": {"datasets": list(datasets), "split": "train", "seed": seed,
                       "questions": len(pairs), "min_articles": min_articles,
                       "articles_per_word": {w: counts[w] for w in frequent(counts, 2)}}}


def write(content: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(content, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    return table_main(argv, __doc__, MIN_ARTICLES, CATEGORIES_PATH, build, write,
                      lambda c: f"{len(c['words'])} category nouns")


if __name__ == "__main__":
    raise SystemExit(main())
