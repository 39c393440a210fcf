"""Pure evaluation metrics for retrieval, answers, citations and refusals (no I/O)."""

from __future__ import annotations

import math
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Sequence

from rag.text import fold as text_fold

__all__ = [
    "fold",
    "hit_at_k",
    "reciprocal_rank",
    "ndcg_at_k",
    "evidence_hit_at_k",
    "evidence_reciprocal_rank",
    "key_fact_accuracy",
    "char_f1",
    "char_em",
    "max_over_refs",
    "citation_precision",
    "citation_recall_item",
    "refusal_scores",
    "percentile",
    "mean",
]

_ASCII_PUNCT = frozenset(string.punctuation)


def fold(text: str) -> str:
    """Canonical form used for every text comparison in this module.

    Steps, in order: Unicode NFKC (full-width letters/digits/punctuation become their
    ASCII forms), ``str.lower()``, Traditional->Simplified Chinese via OpenCC ``t2s``,
    then removal of every whitespace character (``str.isspace``).
    """
    if not isinstance(text, str):
        raise ValueError(f"fold() needs a str, got {type(text).__name__}; convert it first")
    return "".join(ch for ch in text_fold(text) if not ch.isspace())


# --------------------------------------------------------------------------- helpers


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int):
        raise ValueError(f"k must be an int >= 1, got {k!r}; pass e.g. k=5")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}; pass the cut-off rank, e.g. k=5")


def _check_seq(value: object, name: str) -> None:
    if isinstance(value, str | bytes):
        raise ValueError(
            f"{name} must be a sequence of strings, not a single string; wrap it in a list"
        )


def _folded_evidence(evidence: Sequence[str]) -> list[str]:
    _check_seq(evidence, "evidence")
    folded = (fold(e) for e in evidence)
    return [e for e in folded if e]


def _contains_any(passage: str, folded_evidence: Sequence[str]) -> bool:
    p = fold(passage)
    return any(e in p for e in folded_evidence)


# --------------------------------------------------------------------------- retrieval


def hit_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float:
    """Hit@k: 1.0 if at least one of the first ``k`` ids in ``ranked`` is in ``gold``, else 0.0.

    Returns 0.0 when ``gold`` is empty. Raises ValueError if ``k < 1``.
    """
    _check_k(k)
    _check_seq(ranked, "ranked")
    _check_seq(gold, "gold")
    gold_set = set(gold)
    return 1.0 if any(r in gold_set for r in list(ranked)[:k]) else 0.0


def reciprocal_rank(ranked: Sequence[str], gold: Collection[str], k: int = 10) -> float:
    """Reciprocal rank cut at ``k``: ``1 / r`` where ``r`` is the 1-based position of the first
    id of ``ranked`` that is in ``gold``, if ``r <= k``; otherwise 0.0 (also when gold is empty).

    Averaging this over queries gives MRR@k.
    """
    _check_k(k)
    _check_seq(ranked, "ranked")
    _check_seq(gold, "gold")
    gold_set = set(gold)
    for pos, rid in enumerate(list(ranked)[:k], start=1):
        if rid in gold_set:
            return 1.0 / pos
    return 0.0


def ndcg_at_k(ranked: Sequence[str], gold: Collection[str], k: int = 10) -> float:
    """nDCG@k with binary relevance.

    ``rel_i`` is 1 if the id at 1-based rank ``i`` is in ``gold`` and has not already appeared
    higher in ``ranked`` (repeats earn nothing), else 0.
    ``DCG@k = sum_{i=1..k} rel_i / log2(i + 1)``;
    ``IDCG@k = sum_{i=1..min(|gold|, k)} 1 / log2(i + 1)`` (``|gold|`` counts distinct ids);
    ``nDCG@k = DCG@k / IDCG@k``, in [0, 1]. Returns 0.0 when ``gold`` is empty.
    """
    _check_k(k)
    _check_seq(ranked, "ranked")
    _check_seq(gold, "gold")
    gold_set = set(gold)
    if not gold_set:
        return 0.0
    seen: set[str] = set()
    dcg = 0.0
    for i, rid in enumerate(list(ranked)[:k], start=1):
        if rid in gold_set and rid not in seen:
            dcg += 1.0 / math.log2(i + 1)
        seen.add(rid)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(gold_set), k) + 1))
    return dcg / ideal


def evidence_hit_at_k(passages: Sequence[str], evidence: Sequence[str], k: int) -> float:
    """Evidence Hit@k: 1.0 if any of the first ``k`` passage texts, after :func:`fold`,
    contains (as a substring) any folded gold evidence sentence; else 0.0.

    Evidence sentences that fold to the empty string are ignored; with no usable evidence the
    result is 0.0. Raises ValueError if ``k < 1``.
    """
    _check_k(k)
    _check_seq(passages, "passages")
    ev = _folded_evidence(evidence)
    if not ev:
        return 0.0
    return 1.0 if any(_contains_any(p, ev) for p in list(passages)[:k]) else 0.0


def evidence_reciprocal_rank(
    passages: Sequence[str], evidence: Sequence[str], k: int = 10
) -> float:
    """Evidence reciprocal rank cut at ``k``: ``1 / r`` for the 1-based rank ``r <= k`` of the
    first passage whose folded text contains any folded gold evidence sentence; else 0.0.

    Same containment rule as :func:`evidence_hit_at_k`.
    """
    _check_k(k)
    _check_seq(passages, "passages")
    ev = _folded_evidence(evidence)
    if not ev:
        return 0.0
    for pos, p in enumerate(list(passages)[:k], start=1):
        if _contains_any(p, ev):
            return 1.0 / pos
    return 0.0


# --------------------------------------------------------------------------- answers


def key_fact_accuracy(answer: str, key_facts: Sequence[Sequence[str]]) -> bool:
    """Key-fact accuracy of one answer: True iff for EVERY group in ``key_facts`` at least one
    alternative, after :func:`fold`, is a substring of the folded ``answer``.

    So Traditional/Simplified, full-/half-width and spacing differences do not matter.
    Alternatives that fold to "" never match. Returns False when ``key_facts`` is empty
    (nothing to verify). Raises ValueError for malformed groups (a bare string, or an empty
    group).
    """
    if not isinstance(answer, str):
        raise ValueError(f"answer must be a str, got {type(answer).__name__}")
    _check_seq(key_facts, "key_facts")
    if not key_facts:
        return False
    folded_answer = fold(answer)
    for n, group in enumerate(key_facts):
        if isinstance(group, str | bytes):
            raise ValueError(
                f"key_facts[{n}] is a string; each group must be a list of alternatives, "
                f"e.g. [[{group!r}]]"
            )
        if not group:
            raise ValueError(
                f"key_facts[{n}] is empty; give each group at least one accepted alternative"
            )
        alts = [a for a in (fold(x) for x in group) if a]
        if not any(a in folded_answer for a in alts):
            return False
    return True


def _answer_chars(text: str) -> list[str]:
    """Folded text as a list of characters, punctuation removed."""
    return [
        ch
        for ch in fold(text)
        if ch not in _ASCII_PUNCT and not unicodedata.category(ch).startswith("P")
    ]


def char_f1(prediction: str, reference: str) -> float:
    """Character-level F1 (CMRC 2018 / DRCD convention) between two answer strings.

    Both strings are :func:`fold`-ed, then every punctuation character (Unicode category P*
    or ASCII ``string.punctuation``) is dropped; each remaining character is a token. With
    ``overlap = |bag(pred) ∩ bag(ref)|`` (multiset intersection),
    ``precision = overlap / len(pred)``, ``recall = overlap / len(ref)`` and
    ``F1 = 2PR / (P + R)``; 0.0 if ``overlap == 0``. If either side is empty after
    normalisation, F1 is 1.0 when both are empty and 0.0 otherwise.
    """
    pred = _answer_chars(prediction)
    ref = _answer_chars(reference)
    if not pred or not ref:
        return 1.0 if pred == ref else 0.0
    overlap = sum((Counter(pred) & Counter(ref)).values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(pred)
    recall = overlap / len(ref)
    return 2 * precision * recall / (precision + recall)


def char_em(prediction: str, reference: str) -> float:
    """Exact match: 1.0 if ``prediction`` and ``reference`` are identical after the
    normalisation of :func:`char_f1` (fold, punctuation removed), else 0.0.
    """
    return 1.0 if _answer_chars(prediction) == _answer_chars(reference) else 0.0


def max_over_refs(fn: Callable[[str, str], float], prediction: str, refs: Sequence[str]) -> float:
    """Best score of ``fn(prediction, ref)`` over all references ``refs`` (SQuAD/CMRC style).

    Raises ValueError if ``refs`` is empty or a bare string.
    """
    _check_seq(refs, "refs")
    if not refs:
        raise ValueError("refs is empty; pass at least one reference answer")
    return max(float(fn(prediction, r)) for r in refs)


# --------------------------------------------------------------------------- citations


def citation_precision(
    cited_texts: Sequence[str],
    evidence: Sequence[str],
    supported: Sequence[bool] | None = None,
) -> float | None:
    """Citation precision of one answer: the fraction of cited passages that are correct.

    Cited passage ``i`` is correct if its folded text contains any folded gold evidence
    sentence, or if ``supported[i]`` is True (e.g. a judge found it supports the claim).
    Returns None when nothing is cited. Raises ValueError if ``supported`` is given with a
    different length than ``cited_texts``.
    """
    _check_seq(cited_texts, "cited_texts")
    cited = list(cited_texts)
    if supported is not None:
        _check_seq(supported, "supported")
        if len(supported) != len(cited):
            raise ValueError(
                f"supported has {len(supported)} flags but {len(cited)} passages are cited; "
                "pass one flag per cited passage, or None"
            )
    if not cited:
        return None
    ev = _folded_evidence(evidence)
    good = 0
    for i, text in enumerate(cited):
        if (supported is not None and bool(supported[i])) or _contains_any(text, ev):
            good += 1
    return good / len(cited)


def citation_recall_item(cited_texts: Sequence[str], evidence: Sequence[str]) -> bool:
    """Citation recall of one answer: True iff some cited passage's folded text contains some
    folded gold evidence sentence. False when nothing is cited or evidence is empty.
    """
    _check_seq(cited_texts, "cited_texts")
    ev = _folded_evidence(evidence)
    if not ev:
        return False
    return any(_contains_any(t, ev) for t in cited_texts)


# --------------------------------------------------------------------------- refusals


def refusal_scores(items: Sequence[tuple[bool, bool]]) -> dict[str, float | int | None]:
    """Refusal quality over ``(answerable, refused)`` pairs, one per question.

    With ``TP = #(refused and not answerable)``:

    - ``refusal_precision = TP / #refused`` (None if nothing was refused)
    - ``refusal_recall = TP / #unanswerable`` (None if there are no unanswerable items)
    - ``answered_unanswerable = #(not refused and not answerable)``
    - ``false_refusals = #(refused and answerable)``
    - ``n_refused``, ``n_unanswerable``: the two denominators.
    """
    _check_seq(items, "items")
    tp = refused = unanswerable = answered_unans = false_ref = 0
    for n, pair in enumerate(items):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise ValueError(
                f"items[{n}] = {pair!r}; each item must be a pair (answerable, refused)"
            )
        answerable, did_refuse = bool(pair[0]), bool(pair[1])
        refused += did_refuse
        unanswerable += not answerable
        tp += did_refuse and not answerable
        answered_unans += (not did_refuse) and not answerable
        false_ref += did_refuse and answerable
    return {
        "refusal_precision": tp / refused if refused else None,
        "refusal_recall": tp / unanswerable if unanswerable else None,
        "answered_unanswerable": answered_unans,
        "false_refusals": false_ref,
        "n_refused": refused,
        "n_unanswerable": unanswerable,
    }


# --------------------------------------------------------------------------- aggregation


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0 <= p <= 100) with linear interpolation, as
    ``numpy.percentile(values, p)`` (method "linear"): sort the values, take the fractional
    index ``h = (n - 1) * p / 100`` and interpolate between ``x[floor(h)]`` and ``x[ceil(h)]``.

    Raises ValueError on empty input or ``p`` outside [0, 100].
    """
    _check_seq(values, "values")
    xs = sorted(float(v) for v in values)
    if not xs:
        raise ValueError("percentile() of an empty sequence; pass at least one value")
    if isinstance(p, bool) or not isinstance(p, int | float) or math.isnan(p) or not 0 <= p <= 100:
        raise ValueError(f"p must be a number in [0, 100], got {p!r}; e.g. p=95 for p95")
    h = (len(xs) - 1) * (p / 100.0)
    lo = math.floor(h)
    hi = math.ceil(h)
    if lo == hi:
        return xs[lo]
    return xs[lo] + (xs[hi] - xs[lo]) * (h - lo)


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean of ``values``; None for an empty sequence (nothing to average)."""
    _check_seq(values, "values")
    xs = [float(v) for v in values]
    if not xs:
        return None
    return sum(xs) / len(xs)
