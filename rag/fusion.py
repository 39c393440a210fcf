"""Fusing ranked lists from several retrievers; pure functions over {id: score} maps."""

from __future__ import annotations

from collections.abc import Mapping


def rrf(runs: Mapping[str, Mapping[str, float]], weights: Mapping[str, float],
        k: int = 60) -> dict[str, float]:
    """Weighted reciprocal-rank fusion: sum over runs of w / (k + rank), rank from 1."""
    fused: dict[str, float] = {}
    for name, scores in runs.items():
        for rank, item in enumerate(ranking(scores), start=1):
            fused[item] = fused.get(item, 0.0) + weights.get(name, 1.0) / (k + rank)
    return fused


def score_fusion(runs: Mapping[str, Mapping[str, float]],
                 weights: Mapping[str, float]) -> dict[str, float]:
    """Weighted sum of min-max normalised scores over the union of candidates.

    An item missing from a run counts as that run's minimum (it scored below its cut-off).
    When a run's scores are all equal (e.g. one lexical match) its items get 1 and the missing
    ones 0: the match is still evidence, not a tie with everything else."""
    fused: dict[str, float] = {}
    items = sorted({i for scores in runs.values() for i in scores})
    for name, scores in runs.items():
        if not scores:
            continue
        lo, hi = min(scores.values()), max(scores.values())
        span = hi - lo
        weight = weights.get(name, 1.0)
        for item in items:
            if span > 0:
                norm = (scores.get(item, lo) - lo) / span
            else:
                norm = 1.0 if item in scores else 0.0
            fused[item] = fused.get(item, 0.0) + weight * norm
    return fused


def ranking(scores: Mapping[str, float]) -> list[str]:
    """Ids best first; equal scores by id. Score fusion gives exact ties (two runs' tops both
    normalise to 1): ordered by set iteration before, the same question could rank its
    passages differently in two processes (9 of 127 CRUD-RAG questions did)."""
    return sorted(scores, key=lambda i: (-scores[i], i))


METHODS = ("score", "rrf")


def fuse(method: str, runs: Mapping[str, Mapping[str, float]], weights: Mapping[str, float],
         rrf_k: int = 60) -> dict[str, float]:
    """One fused score per item by the named method (see METHODS)."""
    if method == "rrf":
        return rrf(runs, weights, rrf_k)
    return score_fusion(runs, weights)
