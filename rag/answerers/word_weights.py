"""How much a question word counts as evidence: how often training questions' words were in
the paragraph that answers them (多久, 原因, 這個 seldom; names and topics nearly always)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag.answerers.model import read_shipped
from rag.answerers.question import word_tag
from rag.errors import ConfigError

WEIGHTS_PATH = Path(__file__).parent / "models" / "word_weights.json"
# Pseudo-questions at the prior rate added to each word's counts: a word asked five times and
# never in its paragraph is not thereby worthless. Chosen on DRCD + CMRC validation
# (`train.validate --limit 250`, 500 questions; answers holding gold gained / negatives
# answered more, net, of 490 removed + 244 swapped): 2: +18 / 10, 5: +14 / 9, 15: +12 / 3,
# 30: +7 / 2. 15 is the knee (docs/answerer.md, stop 26).
SMOOTHING = 15.0


@dataclass(frozen=True)
class WordRates:
    """Per folded word: (times in the answering paragraph, times asked); `prior` is the rate
    over all question words of the training split."""

    counts: Mapping[str, tuple[int, int]]
    prior: float
    # Per jieba part-of-speech flag, the same counts over the words too seldom asked to be
    # listed: what an unlisted word's rate falls back to (an unlisted verb, 打算, is found in
    # the answering paragraph 78% of the time, an adverb 66%, a noun 91%).
    tags: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    def weight(self, word: str, smoothing: float = SMOOTHING) -> float:
        """1.0 for a word asked too seldom to judge or found as often as words are; less, in
        proportion, for one the answering text seldom repeats."""
        found, asked = self.counts.get(word, (0, 0))
        if not asked:
            return 1.0
        rate = (found + smoothing * self.prior) / (asked + smoothing)
        return min(1.0, rate / self.prior)

    def weights(self, words: Sequence[str], smoothing: float = SMOOTHING) -> tuple[float, ...]:
        return tuple(self.weight(w, smoothing) for w in words)

    def rate(self, word: str, smoothing: float = SMOOTHING) -> float:
        """How often the answering paragraph holds the word (smoothed toward the prior): its
        own counts when listed, else its part of speech's, else the prior."""
        found, asked = self.counts.get(word) or self.tags.get(word_tag(word), (0, 0))
        return (found + smoothing * self.prior) / (asked + smoothing)

    def missing_weight(self, word: str, smoothing: float = SMOOTHING) -> float:
        """How much the word's absence from every shown passage says the answer is not there:
        1.0 for a word missing from answering paragraphs no more often than words are (1 -
        prior), less in proportion for one that often is (an adverb, a framing verb)."""
        return min(1.0, (1.0 - self.prior) / max(1.0 - self.rate(word, smoothing), 1e-9))

    def missing_weights(self, words: Sequence[str], smoothing: float = SMOOTHING
                        ) -> tuple[float, ...]:
        return tuple(self.missing_weight(w, smoothing) for w in words)


@lru_cache(maxsize=1)
def shipped_rates() -> WordRates:
    """The rates shipped in rag/answerers/models/ (read on first use)."""
    rates = read_shipped(WEIGHTS_PATH, _rates, ("詞權重檔", "Word weight file"),
                         "python -m train.word_weights")
    prior = rates.prior
    if not 0.0 < prior <= 1.0:
        raise ConfigError(f"詞權重檔的 prior 必須在 (0, 1]：{prior}。 The prior in {WEIGHTS_PATH} "
                          "must lie in (0, 1]; rebuild it with `python -m train.word_weights`.")
    return rates


def _rates(data: Any) -> WordRates:
    return WordRates({w: (int(f), int(a)) for w, (f, a) in data["words"].items()},
                     float(data["prior"]),
                     {t: (int(f), int(a)) for t, (f, a) in data.get("tags", {}).items()})
