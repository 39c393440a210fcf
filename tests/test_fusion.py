"""Unit tests for rag.fusion as pure functions over {id: score} maps, hand-computed."""

from __future__ import annotations

import copy
import os
import subprocess
import sys

import pytest

from rag.fusion import METHODS, fuse, ranking, rrf, score_fusion

RUNS = {
    "dense": {"x": 0.9, "y": 0.7, "z": 0.5},
    "lexical": {"x": 2.0, "w": 10.0},
}


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = rrf(RUNS, {"dense": 1.0, "lexical": 1.0}, k=60)
    assert fused["x"] == pytest.approx(1 / 61 + 1 / 62)  # 1st in dense, 2nd in lexical
    assert fused["y"] == pytest.approx(1 / 62)
    assert fused["z"] == pytest.approx(1 / 63)
    assert fused["w"] == pytest.approx(1 / 61)
    assert max(fused, key=fused.__getitem__) == "x"


def test_rrf_weights_and_k() -> None:
    fused = rrf(RUNS, {"dense": 1.0, "lexical": 3.0}, k=1)
    assert fused["w"] == pytest.approx(3 / 2)
    assert fused["x"] == pytest.approx(1 / 2 + 3 / 3)
    assert rrf(RUNS, {"dense": 0.0, "lexical": 1.0})["y"] == 0.0  # weight 0 mutes a run
    assert rrf(RUNS, {})["x"] == pytest.approx(1 / 61 + 1 / 62)  # missing weight: 1


def test_rrf_ignores_score_scale() -> None:
    scaled = {"dense": {k: v * 100 for k, v in RUNS["dense"].items()}, "lexical": RUNS["lexical"]}
    assert rrf(scaled, {}) == rrf(RUNS, {})


def test_score_fusion_min_max_normalises_each_run() -> None:
    fused = score_fusion(RUNS, {"dense": 1.0, "lexical": 1.0})
    # dense: (s - 0.5) / 0.4; lexical: (s - 2) / 8; missing = the run's minimum -> 0
    assert fused == pytest.approx({"x": 1.0, "y": 0.5, "z": 0.0, "w": 1.0})


def test_score_fusion_weights() -> None:
    fused = score_fusion(RUNS, {"dense": 0.5, "lexical": 2.0})
    assert fused == pytest.approx({"x": 0.5, "y": 0.25, "z": 0.0, "w": 2.0})


def test_score_fusion_keeps_margins_that_rrf_drops() -> None:
    runs = {"dense": {"a": 0.90, "b": 0.89, "c": 0.10},
            "lexical": {"b": 10.0, "a": 9.9, "c": 0.0}}
    fused = score_fusion(runs, {})
    assert max(fused, key=fused.__getitem__) in ("a", "b") and fused["c"] == 0.0
    assert fused["a"] == pytest.approx(1.0 + 9.9 / 10)


def test_score_fusion_single_match_is_evidence_not_a_tie() -> None:
    runs = {"dense": {"a": 0.9, "b": 0.8}, "lexical": {"b": 7.0}}
    fused = score_fusion(runs, {})
    assert fused == pytest.approx({"a": 1.0, "b": 1.0})
    runs = {"dense": {"a": 0.9, "b": 0.8, "c": 0.7}, "lexical": {"b": 7.0}}
    fused = score_fusion(runs, {})
    assert fused["b"] > fused["a"] > fused["c"]


def test_empty_runs() -> None:
    assert rrf({}, {}) == {} and score_fusion({}, {}) == {}
    runs = {"dense": {"a": 0.3}, "lexical": {}}
    assert score_fusion(runs, {}) == {"a": 1.0}
    assert rrf(runs, {}) == {"a": pytest.approx(1 / 61)}


def test_inputs_are_not_modified() -> None:
    before = copy.deepcopy(RUNS)
    rrf(RUNS, {"dense": 2.0})
    score_fusion(RUNS, {"dense": 2.0})
    assert RUNS == before


def test_fuse_dispatches_by_method_name() -> None:
    runs = {"a": {"x": 3.0, "y": 1.0}, "b": {"y": 2.0, "z": 1.0}}
    weights = {"a": 1.0, "b": 0.5}
    assert set(METHODS) == {"rrf", "score"}
    assert fuse("score", runs, weights) == score_fusion(runs, weights)
    assert fuse("rrf", runs, weights, rrf_k=10) == rrf(runs, weights, 10)


_TIES = """
import json, sys
from rag.fusion import fuse, ranking
# Each run's top normalises to 1: a-top and b-top tie, and so do the runs' tails.
runs = {"dense": {f"a{i}": 1.0 - i / 100 for i in range(30)} | {"b-top": 0.5},
        "lexical": {f"b{i}": 9.0 - i / 10 for i in range(30)} | {"b-top": 9.0}}
runs["dense"]["a-top"] = 1.0
out = {m: ranking(fuse(m, runs, {"dense": 1.0, "lexical": 1.0}))[:12] for m in ("score", "rrf")}
print(json.dumps(out))
"""


def test_ties_rank_the_same_in_every_process() -> None:
    """Exact ties are ordered by id, not by set iteration, which changes with PYTHONHASHSEED:
    the same question ranked its passages differently in two processes before."""
    orders = set()
    for seed in ("0", "1", "2", "3", "4", "5"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", _TIES], env=env, capture_output=True,
                              text=True, timeout=60, check=True)
        orders.add(done.stdout)
    assert len(orders) == 1, orders


def test_ranking_orders_equal_scores_by_id() -> None:
    assert ranking({"c": 1.0, "a": 1.0, "b": 2.0}) == ["b", "a", "c"]
