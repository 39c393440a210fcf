"""The one table of eval metrics: each entry's name, function, inputs, direction and meaning.

The report (JSON and Markdown), the summary line, the thresholds gate and `--compare` read this
table and nothing else, so a new metric is one `Metric(...)` entry in `METRICS`:

- `per_item(result)`: one value per question, averaged over the questions that have every input
  in `needs` (report["overall"], per category and per split); return None to skip a question;
- `over_set(results)`: one value over all questions that have its inputs at once (refusal
  precision needs the whole set), reported under `section`;
- `per_stage(seconds)`: one value per timed stage (report["latency"][stage][name]).

Flat names, as thresholds.toml and `--compare` write them: `name` for the whole set,
`<split>.name` for one split (tune | heldout), `latency.<stage>.name` for timings.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum

from eval import metrics
from eval.dataset import SPLITS
from eval.item import ItemResult
from rag.schema import Answer

LATENCY = "latency"


class Input(StrEnum):
    """What a metric reads; a question has an input when its dataset and run provide it."""

    RANKING = "ranking"  # retrieved passages: article ids and texts, best first
    ANSWER = "answer"  # the assistant's answer (absent for retrieval-only questions)
    ANSWERABLE = "answerable"  # the gold says the corpus holds the answer
    ARTICLES = "article_ids"  # gold article ids
    EVIDENCE = "evidence"  # gold evidence sentences
    KEY_FACTS = "key_facts"  # gold key-fact groups
    REFERENCES = "answers"  # gold short answers (SQuAD-style benchmarks)


class Direction(Enum):
    HIGHER = "higher is better"
    LOWER = "lower is better"
    NEITHER = "descriptive, never gated"


ItemFn = Callable[[ItemResult], float | None]
SetFn = Callable[[Sequence[ItemResult]], float | None]
StageFn = Callable[[Sequence[float]], float]


@dataclass(frozen=True, kw_only=True)
class Metric:
    """One metric; exactly one of per_item, over_set, per_stage is given."""

    name: str
    description: str
    needs: frozenset[Input] = frozenset()
    per_item: ItemFn | None = None
    over_set: SetFn | None = None
    per_stage: StageFn | None = None
    better: Direction = Direction.HIGHER
    section: str = "overall"  # report section of an over_set metric
    summary: bool = False  # shown on the one-line summary `rag eval` prints
    verdict: bool = False  # a per-item metric whose 0 lists the question under failures

    def __post_init__(self) -> None:
        given = [f for f in (self.per_item, self.over_set, self.per_stage) if f is not None]
        if len(given) != 1:
            raise ValueError(f"metric {self.name}: give exactly one of per_item, over_set, "
                             "per_stage")
        if not self.name or "." in self.name:
            raise ValueError(f"metric name {self.name!r}: non-empty, no '.' (flat names use it)")
        if self.verdict and self.per_item is None:
            raise ValueError(f"metric {self.name}: only a per_item metric can be a verdict")

    @property
    def lower_is_better(self) -> bool:
        return self.better is Direction.LOWER


def available(result: ItemResult) -> frozenset[Input]:
    """The inputs this question has."""
    it = result.item
    have = {Input.RANKING}
    for inp, present in ((Input.ANSWER, result.answer is not None),
                         (Input.ANSWERABLE, it.answerable), (Input.ARTICLES, it.article_ids),
                         (Input.EVIDENCE, it.evidence), (Input.KEY_FACTS, it.key_facts),
                         (Input.REFERENCES, it.answers)):
        if present:
            have.add(inp)
    return frozenset(have)


class MetricTable:
    """The metrics in order (the summary line's order), looked up by name or flat name."""

    def __init__(self, entries: Sequence[Metric]) -> None:
        names = [m.name for m in entries]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"metric names must be unique; repeated: {repeated}")
        self.entries = tuple(entries)
        self._by_name = {m.name: m for m in entries}

    def __iter__(self) -> Iterator[Metric]:
        return iter(self.entries)

    def with_(self, *extra: Metric) -> MetricTable:
        """This table plus more entries (tests add toy metrics this way)."""
        return MetricTable(self.entries + extra)

    def get(self, name: str) -> Metric | None:
        return self._by_name.get(name)

    def sections(self) -> list[str]:
        """Report sections that hold over_set metrics, in table order."""
        return list(dict.fromkeys(m.section for m in self if m.over_set is not None))

    def resolve(self, flat: str) -> Metric | None:
        """The metric a flat name (`name`, `<split>.name`, `latency.<stage>.name`) refers to."""
        parts = flat.split(".")
        if len(parts) >= 3 and parts[0] == LATENCY:  # stages may hold dots: assistant.answer
            metric = self.get(parts[-1])
            return metric if metric is not None and metric.per_stage is not None else None
        if len(parts) == 2 and parts[0] in SPLITS:
            parts = parts[1:]
        metric = self.get(parts[0]) if len(parts) == 1 else None
        return metric if metric is not None and metric.per_stage is None else None

    def item_scores(self, result: ItemResult) -> dict[str, float]:
        """Every per-item metric this question has the inputs for."""
        have = available(result)
        out = {}
        for m in self:
            if m.per_item is not None and m.needs <= have:
                value = m.per_item(result)
                if value is not None:
                    out[m.name] = float(value)
        return out

    def set_scores(self, results: Sequence[ItemResult]) -> dict[str, dict[str, float | None]]:
        """section -> name -> value of the over_set metrics; a metric no question has the
        inputs for is left out (None: measured, but its denominator was 0)."""
        out: dict[str, dict[str, float | None]] = {}
        for m in self:
            if m.over_set is None:
                continue
            rows = [r for r in results if m.needs <= available(r)]
            if rows:
                out.setdefault(m.section, {})[m.name] = m.over_set(rows)
        return out

    def stage_scores(self, seconds: Sequence[float]) -> dict[str, float]:
        return {m.name: round(m.per_stage(seconds), 4) for m in self if m.per_stage is not None}


# --------------------------------------------------------------------------- the functions


def _ans(r: ItemResult) -> Answer:
    if r.answer is None:  # callers check Input.ANSWER first
        raise ValueError(f"{r.item.id}: no answer to score")
    return r.answer


def _article_hit(k: int) -> ItemFn:
    return lambda r: metrics.hit_at_k(r.ranked_articles, r.item.article_ids, k)


def _cited_passages(r: ItemResult) -> list[str]:
    """The passages the citations point into (each quote lies inside its passage)."""
    answer = _ans(r)
    out = []
    for c in answer.citations:
        text = next((p.text for p in answer.passages
                     if p.article_id == c.article_id and p.start <= c.start < p.end), c.quote)
        out.append(text)
    return out


def _key_facts(r: ItemResult) -> float:
    a = _ans(r)
    return float(not a.refused and metrics.key_fact_accuracy(a.text, r.item.key_facts))


def _contains_gold(r: ItemResult) -> float:
    text = metrics.fold(_ans(r).text)
    return float(any(metrics.fold(ref) in text for ref in r.item.answers))


@functools.lru_cache(maxsize=4096)
def _span(question: str, quotes: tuple[str, ...]) -> str:
    from rag.answerers.span import shortest_span

    return shortest_span(question, list(quotes))


def _short_span(r: ItemResult) -> str:
    """The short answer DRCD/CMRC score: cut from the quoted sentences; "" when refused."""
    a = _ans(r)
    return "" if a.refused else _span(r.item.question, tuple(c.quote for c in a.citations))


def _refusal(key: str) -> SetFn:
    def score(results: Sequence[ItemResult]) -> float | None:
        return metrics.refusal_scores([(r.item.answerable, _ans(r).refused) for r in results])[key]
    return score


# --------------------------------------------------------------------------- the table

_A, _OK = Input.ANSWER, Input.ANSWERABLE
_ANSWERED_GOLD = frozenset({_A, _OK})
_RANKED = frozenset({Input.RANKING, _OK, Input.ARTICLES})
_EVIDENCE = frozenset({Input.RANKING, _OK, Input.EVIDENCE})
_HIGHER, _LOWER, _NEITHER = Direction.HIGHER, Direction.LOWER, Direction.NEITHER

METRICS = MetricTable([
    Metric(name="key_fact_accuracy", needs=_ANSWERED_GOLD | {Input.KEY_FACTS},
           per_item=_key_facts, summary=True, verdict=True,
           description="answer not refused and holds every key-fact group (folded text)"),
    Metric(name="answer_contains_gold", needs=frozenset({_A, Input.REFERENCES}),
           per_item=_contains_gold, summary=True, verdict=True,
           description="answer text holds one of the reference answers (folded)"),
    Metric(name="span_f1", needs=frozenset({_A, Input.REFERENCES}), summary=True,
           per_item=lambda r: metrics.max_over_refs(metrics.char_f1, _short_span(r),
                                                    r.item.answers),
           description="character F1 of the short span cut from the quotes (CMRC/DRCD)"),
    Metric(name="span_em", needs=frozenset({_A, Input.REFERENCES}), summary=True,
           per_item=lambda r: metrics.max_over_refs(metrics.char_em, _short_span(r),
                                                    r.item.answers),
           description="exact match of that short span with a reference answer"),
    Metric(name="char_f1", needs=_ANSWERED_GOLD | {Input.EVIDENCE},
           per_item=lambda r: metrics.max_over_refs(metrics.char_f1, _ans(r).text,
                                                    r.item.evidence),
           description="character F1 of the whole answer against the best evidence sentence"),
    Metric(name="refusal_recall", needs=frozenset({_A}), over_set=_refusal("refusal_recall"),
           section="refusal", summary=True,
           description="unanswerable questions refused / unanswerable questions"),
    Metric(name="refusal_precision", needs=frozenset({_A}), section="refusal", summary=True,
           over_set=_refusal("refusal_precision"),
           description="refusals of unanswerable questions / all refusals"),
    Metric(name="answered_unanswerable", needs=frozenset({_A}), section="refusal",
           over_set=_refusal("answered_unanswerable"), better=_LOWER, summary=True,
           description="unanswerable questions answered anyway (the worst error)"),
    Metric(name="false_refusals", needs=frozenset({_A}), section="refusal",
           over_set=_refusal("false_refusals"), better=_LOWER,
           description="answerable questions refused"),
    Metric(name="n_refused", needs=frozenset({_A}), section="refusal", better=_NEITHER,
           over_set=_refusal("n_refused"), description="questions refused"),
    Metric(name="n_unanswerable", needs=frozenset({_A}), section="refusal", better=_NEITHER,
           over_set=_refusal("n_unanswerable"), description="unanswerable questions asked"),
    Metric(name="evidence_hit@5", needs=_EVIDENCE, summary=True, verdict=True,
           per_item=lambda r: metrics.evidence_hit_at_k(r.ranked_texts, r.item.evidence, 5),
           description="a gold evidence sentence lies in one of the top 5 passages"),
    Metric(name="evidence_mrr@10", needs=_EVIDENCE,
           per_item=lambda r: metrics.evidence_reciprocal_rank(r.ranked_texts, r.item.evidence),
           description="1 / rank of the first passage holding gold evidence (0 beyond 10)"),
    Metric(name="article_hit@1", needs=_RANKED, per_item=_article_hit(1), summary=True,
           description="the first retrieved article is a gold article"),
    Metric(name="article_hit@5", needs=_RANKED, per_item=_article_hit(5), summary=True,
           description="a gold article is among the first 5 retrieved articles"),
    Metric(name="article_hit@10", needs=_RANKED, per_item=_article_hit(10),
           description="a gold article is among the first 10 retrieved articles"),
    Metric(name="article_mrr@10", needs=_RANKED, summary=True,
           per_item=lambda r: metrics.reciprocal_rank(r.ranked_articles, r.item.article_ids),
           description="1 / rank of the first gold article (0 beyond 10)"),
    Metric(name="article_ndcg@10", needs=_RANKED,
           per_item=lambda r: metrics.ndcg_at_k(r.ranked_articles, r.item.article_ids),
           description="nDCG@10 of the retrieved articles, binary relevance"),
    Metric(name="citation_precision", needs=_ANSWERED_GOLD | {Input.EVIDENCE}, summary=True,
           per_item=lambda r: metrics.citation_precision(_cited_passages(r), r.item.evidence),
           description="cited passages holding gold evidence / cited passages (cited answers)"),
    Metric(name="citation_recall", needs=_ANSWERED_GOLD | {Input.EVIDENCE}, summary=True,
           per_item=lambda r: float(metrics.citation_recall_item(_cited_passages(r),
                                                                 r.item.evidence)),
           description="some cited passage holds gold evidence"),
    Metric(name="refused", needs=frozenset({_A}), per_item=lambda r: float(_ans(r).refused),
           better=_NEITHER, description="share of questions refused"),
    Metric(name="answer_chars", needs=frozenset({_A}), better=_NEITHER,
           per_item=lambda r: float(len(_ans(r).text)), description="answer length, characters"),
    Metric(name="p50_s", per_stage=lambda xs: metrics.percentile(xs, 50), better=_LOWER,
           description="median seconds of a timed stage"),
    Metric(name="p95_s", per_stage=lambda xs: metrics.percentile(xs, 95), better=_LOWER,
           description="95th-percentile seconds of a timed stage"),
])
