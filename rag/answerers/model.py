"""The learned models' file format and prediction: logistic regression or boosted trees stored
as JSON (no pickle, nothing executed on load) and evaluated with numpy."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np

from rag.errors import ConfigError

MODELS_DIR = Path(__file__).parent / "models"
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class Model:
    """A binary classifier over named features; `predict` gives P(positive) per row."""

    name: str
    kind: str  # "logistic" | "trees"
    features: tuple[str, ...]
    params: Mapping[str, Any]
    threshold: float = 0.5  # the decision point chosen on validation data (see `record`)
    policy: Mapping[str, float] = field(default_factory=dict)  # other values chosen with it
    record: Mapping[str, Any] = field(default_factory=dict)
    _arrays: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind == "logistic":
            for key in ("mean", "scale", "coef"):
                self._arrays[key] = np.asarray(self.params[key], dtype=np.float64)
        elif self.kind == "trees":
            self._arrays.update(_tree_arrays(self.params["trees"]))
        else:
            raise ConfigError(f"模型 {self.name} 的種類未知：{self.kind}。 Unknown model kind "
                              f"{self.kind!r}; retrain with `python -m train`.")

    def columns(self, names: Sequence[str]) -> list[int]:
        """Where this model's features sit among `names` (a table's column names)."""
        try:
            return [list(names).index(f) for f in self.features]
        except ValueError as exc:
            raise ConfigError(f"模型 {self.name} 需要的特徵不存在：{exc}。 The model needs a "
                              "feature the code no longer computes; retrain with "
                              "`python -m train`.") from exc

    @property
    def reads(self) -> frozenset[str]:
        """The features that can change a prediction: a tree split on it, or a nonzero
        weight. A feature trained as a constant column (the shipped models were trained
        without sentence similarities) is listed in `features` but read by no split, so the
        answerer need not compute it (embedding the shown sentences cost 180 ms a question)."""
        if self.kind == "logistic":
            used = [i for i, w in enumerate(self.params["coef"]) if float(w) != 0.0]
        else:
            used = [f for tree in self.params["trees"]
                    for f, left in zip(tree["feature"], tree["left"], strict=True) if left >= 0]
        return frozenset(self.features[i] for i in used)

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Log-odds per row of `x` (columns in `self.features` order)."""
        x = np.asarray(x, dtype=np.float64).reshape(-1, len(self.features))
        a = self._arrays
        if self.kind == "logistic":
            return ((x - a["mean"]) / a["scale"]) @ a["coef"] + float(self.params["intercept"])
        return _trees_raw(a, x, float(self.params["base"]))

    def predict(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.raw(x)))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "features": list(self.features),
                "threshold": self.threshold, "policy": dict(self.policy),
                "params": self.params, "record": self.record}


def from_json(data: Mapping[str, Any]) -> Model:
    return Model(name=str(data["name"]), kind=str(data["kind"]),
                 features=tuple(data["features"]), params=data["params"],
                 threshold=float(data.get("threshold", 0.5)),
                 policy={k: float(v) for k, v in data.get("policy", {}).items()},
                 record=data.get("record", {}))


def save(model: Model, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model.to_json(), ensure_ascii=False, separators=(",", ":")),
                    encoding="utf-8")


@lru_cache(maxsize=8)
def load(name: str, folder: Path = MODELS_DIR) -> Model:
    """A shipped model by name (`models/<name>.json`), read once per process."""
    return read_shipped(folder / f"{name}.json", from_json, ("模型檔", "Model file"),
                        "python -m train")


def read_shipped(path: Path, parse: Callable[[Any], T], what: tuple[str, str],
                 rebuild: str) -> T:
    """`parse` of a JSON file shipped in rag/answerers/models/; a missing or damaged file
    raises a ConfigError that names it (`what`: Chinese, English) and the command that
    rebuilds it."""
    zh, en = what
    try:
        return parse(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError as exc:
        raise ConfigError(f"找不到{zh}：{path}。 {en} missing: {path}; reinstall the package "
                          f"or rebuild it with `{rebuild}`.") from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{zh}損壞：{path}（{exc}）。 {en} {path} is damaged; rebuild it "
                          f"with `{rebuild}`.") from exc


def _tree_arrays(trees: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """Trees padded to one width and laid end to end: node t * width + i is node i of tree t,
    children are such flat indices and a leaf points at itself. Flat indexing is what makes
    the short-span model cheap: 400 trees over 609 candidates of one long sentence, 88 ms
    with (tree, node) fancy indexing, 33 ms flat (2 cores)."""
    width = max((len(t["feature"]) for t in trees), default=1)
    size = len(trees) * width
    feature = np.zeros(size, dtype=np.int64)
    threshold = np.zeros(size)
    left = np.zeros(size, dtype=np.int64)
    right = np.zeros(size, dtype=np.int64)
    value = np.zeros(size)
    for t, tree in enumerate(trees):
        k, at = len(tree["feature"]), t * width
        feature[at:at + k] = tree["feature"]
        threshold[at:at + k] = tree["threshold"]
        own = np.arange(at, at + k)
        for side, children in ((left, tree["left"]), (right, tree["right"])):
            child = np.asarray(children)
            side[at:at + k] = np.where(child < 0, own, at + child)
        value[at:at + k] = tree["value"]
    depth = max((int(cast(float, t.get("depth", width))) for t in trees), default=0)
    return {"feature": np.maximum(feature, 0), "threshold": threshold, "left": left,
            "right": right, "value": value, "roots": np.arange(len(trees)) * width,
            "depth": np.asarray(depth)}


def _trees_raw(a: dict[str, np.ndarray], x: np.ndarray, base: float) -> np.ndarray:
    n, k = x.shape
    flat_x = x.ravel()
    row_at = (np.arange(n) * k)[:, None]
    node = np.repeat(a["roots"][None, :], n, axis=0)
    for _ in range(int(a["depth"])):
        go_left = flat_x[row_at + a["feature"][node]] <= a["threshold"][node]
        moved = np.where(go_left, a["left"][node], a["right"][node])
        if np.array_equal(moved, node):  # every row has reached a leaf in every tree
            break
        node = moved
    return base + a["value"][node].sum(axis=1)
