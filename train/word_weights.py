"""How often a question word is in the paragraph that answers it, counted on the training split.

    python -m train.word_weights [--min-articles 5] [--out rag/answerers/models/word_weights.json]

The missing-words bound and the coverage scores weigh each question word by its IDF among the
shown sentences, so a word no passage has weighs most. But many question words frame the
question rather than name its topic: 多久, 原因, 屬於, 這個, 名字 are in the answering
paragraph for under half the training questions that use them (all words: 85%), and such a
word missing made DRCD / CMRC questions refused though their answer was shown. This counts,
for every content word (not a category noun) of a training question, whether the answering
paragraph holds it whole, keeping words asked in at least `--min-articles` articles; the
answerer scales each word's IDF by its smoothed rate (rag/answerers/word_weights.py). The
other words' counts are summed per part of speech (`tags`): an unlisted word's rate in the
missing-words share falls back to its part of speech's."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rag.answerers.evidence import presence
from rag.answerers.question import analyse, word_tag
from rag.answerers.word_weights import WEIGHTS_PATH
from rag.text import fold
from train.data import SEED, by_split, load
from train.tables import table_main

MIN_ARTICLES = 5  # as for the category nouns: a rate from fewer articles is one article's style
DATASETS = ("drcd", "cmrc")


def word_counts(pairs: Iterable[tuple[str, str, str]]) -> tuple[dict[str, list[int]], int, int]:
    """For (article id, question, answering paragraph) triples: per word [times the paragraph
    holds it, times asked, articles asking it], and the totals found and asked."""
    counts: dict[str, list[int]] = {}
    articles: dict[str, set[str]] = {}
    found_all = asked_all = 0
    for article, question, paragraph in pairs:
        query, text = analyse(question), fold(paragraph)
        for word in dict.fromkeys(w for w in query.words if w not in query.categories):
            hit = presence(word, text) >= 1.0
            row = counts.setdefault(word, [0, 0, 0])
            row[0] += hit
            row[1] += 1
            articles.setdefault(word, set()).add(article)
            found_all += hit
            asked_all += 1
    for word, row in counts.items():
        row[2] = len(articles[word])
    return counts, found_all, asked_all


def tag_counts(counts: dict[str, list[int]]) -> dict[str, list[int]]:
    """Per part-of-speech flag (question.word_tag), [found, asked] summed over `counts`' words:
    the rates an unlisted word falls back to."""
    tags: dict[str, list[int]] = {}
    for word, (found, asked, *_) in counts.items():
        row = tags.setdefault(word_tag(word), [0, 0])
        row[0] += found
        row[1] += asked
    return dict(sorted(tags.items()))


def build(benchmarks_dir: Path, datasets: Sequence[str] = DATASETS, seed: int = SEED,
          min_articles: int = MIN_ARTICLES) -> dict[str, Any]:
    """The file's content: the kept words' counts, the prior rate and how they were made."""
    triples: list[tuple[str, str, str]] = []
    for dataset in datasets:
        paragraphs, items = load(dataset, benchmarks_dir)
        text = {p.pid: f"{p.title} {p.text}" for p in paragraphs}
        triples += [(i.article, i.question, text[i.pid]) for i in by_split(items, seed)["train"]]
    counts, found, asked = word_counts(triples)
    kept = {w: row[:2] for w, row in sorted(counts.items()) if row[2] >= min_articles}
    return {"prior": round(found / max(asked, 1), 4), "words": kept,
            "tags": tag_counts({w: row for w, row in counts.items() if w not in kept}),
            "record": {"datasets": list(datasets), "split": "train", "seed": seed,
                       "questions": len(triples), "words_asked": asked,
                       "min_articles": min_articles}}


def write(content: dict[str, Any], out: Path) -> None:
    """One word per line, so a rebuild's diff reads word by word."""
    out.parent.mkdir(parents=True, exist_ok=True)
    words = ",\n".join(f" {json.dumps(w, ensure_ascii=False)}: {json.dumps(c)}"
                       for w, c in content["words"].items())
    head = {k: v for k, v in content.items() if k != "words"}
    text = json.dumps(head, ensure_ascii=False)[:-1] + f', "words": {{\n{words}\n}}}}\n'
    out.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    return table_main(argv, __doc__, MIN_ARTICLES, WEIGHTS_PATH, build, write,
                      lambda c: f"{len(c['words'])} words, prior {c['prior']}")


if __name__ == "__main__":
    raise SystemExit(main())
