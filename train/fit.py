"""Fitting: logistic regression and gradient-boosted trees (scikit-learn), exported to the
JSON format that rag/answerers/model.py evaluates with numpy; the export is checked against
scikit-learn's own predictions before it is used."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rag.answerers.model import Model


def fit(kind: str, name: str, features: Sequence[str], x: np.ndarray, y: np.ndarray,
        seed: int, weight: np.ndarray | None = None, **options: Any) -> Model:
    if kind == "logistic":
        return _logistic(name, features, x, y, weight, **options)
    if kind == "trees":
        return _trees(name, features, x, y, seed, weight, **options)
    raise ValueError(f"unknown model kind {kind!r}")


def _logistic(name: str, features: Sequence[str], x: np.ndarray, y: np.ndarray,
              weight: np.ndarray | None, c: float = 1.0) -> Model:
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    clf = LogisticRegression(C=c, max_iter=2000)
    clf.fit((x - mean) / scale, y, sample_weight=weight)
    model = Model(name=name, kind="logistic", features=tuple(features),
                  params={"mean": mean.tolist(), "scale": scale.tolist(),
                          "coef": clf.coef_[0].tolist(), "intercept": float(clf.intercept_[0])})
    _check(model, clf.decision_function((x[:500] - mean) / scale), x[:500])
    return model


def _trees(name: str, features: Sequence[str], x: np.ndarray, y: np.ndarray, seed: int,
           weight: np.ndarray | None, iterations: int = 200, leaves: int = 15,
           rate: float = 0.1, l2: float = 1.0, min_leaf: int = 40) -> Model:
    from sklearn.ensemble import HistGradientBoostingClassifier

    x = np.asarray(x, dtype=np.float64)
    clf = HistGradientBoostingClassifier(max_iter=iterations, max_leaf_nodes=leaves,
                                         learning_rate=rate, l2_regularization=l2,
                                         min_samples_leaf=min_leaf, early_stopping=False,
                                         random_state=seed)
    clf.fit(x, y, sample_weight=weight)
    trees = []
    # scikit-learn keeps the fitted trees in _predictors: one list per iteration, each with
    # one TreePredictor whose `nodes` record array holds the split of every node. Private,
    # so `_check` compares the export with scikit-learn's predictions before it is used.
    for (predictor,) in clf._predictors:
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        trees.append({
            "feature": np.where(leaf, 0, nodes["feature_idx"].astype(np.int64)).tolist(),
            "threshold": np.where(leaf, 0.0, nodes["num_threshold"]).tolist(),
            "left": np.where(leaf, -1, nodes["left"].astype(np.int64)).tolist(),
            "right": np.where(leaf, -1, nodes["right"].astype(np.int64)).tolist(),
            "value": np.where(leaf, nodes["value"], 0.0).tolist(),
            "depth": int(nodes["depth"].max()),
        })
    base = float(np.ravel(clf._baseline_prediction)[0])
    model = Model(name=name, kind="trees", features=tuple(features),
                  params={"base": base, "trees": trees})
    _check(model, clf.decision_function(x[:2000]), x[:2000])
    return model


def _check(model: Model, expected: np.ndarray, x: np.ndarray) -> None:
    got = model.raw(x)
    if not np.allclose(got, expected, atol=1e-6):
        worst = float(np.max(np.abs(got - expected)))
        raise RuntimeError(f"exported model {model.name} differs from scikit-learn by {worst}")


def auc(y: np.ndarray, score: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, score)) if 0 < y.sum() < len(y) else float("nan")
