"""The thresholds gate: eval/thresholds.toml read, checked against the metric table, applied.

Shape of the file: `[<dataset>]` bounds the whole set, `[<dataset>.<split>]` (tune | heldout) one
split of it; keys are flat metric names (eval/metric_table.py). A bound is a floor for a metric
where higher is better and a ceiling where lower is better; descriptive metrics cannot be gated.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from eval.dataset import SPLITS
from eval.errors import ThresholdsError
from eval.metric_table import METRICS, Direction, MetricTable
from eval.report import flat_metrics

THRESHOLDS_PATH = Path(__file__).parent / "thresholds.toml"
Bounds = dict[str, float]  # flat metric name -> bound


def load_thresholds(path: Path = THRESHOLDS_PATH, table: MetricTable = METRICS,
                    datasets: Collection[str] | None = None) -> dict[str, Bounds]:
    """dataset -> its bounds; ThresholdsError names the file and the key that is wrong."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ThresholdsError(f"門檻檔不存在：{path}。 Thresholds file not found: {path}; "
                              "run with --no-gate or restore eval/thresholds.toml.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ThresholdsError(f"門檻檔格式錯誤：{path}: {exc}。 Fix the TOML syntax.") from exc
    return parse_thresholds(raw, table, datasets, where=str(path))


def parse_thresholds(raw: Mapping[str, Any], table: MetricTable = METRICS,
                     datasets: Collection[str] | None = None,
                     where: str = "thresholds") -> dict[str, Bounds]:
    out = {}
    for dataset, section in raw.items():
        if datasets is not None and dataset not in datasets:
            raise ThresholdsError(
                f"{where}: 未知的資料集 [{dataset}]。 Unknown dataset [{dataset}]; "
                f"`rag eval --dataset` knows {sorted(datasets)}.")
        if not isinstance(section, dict):
            raise ThresholdsError(f"{where}: [{dataset}] 必須是表格。 {dataset} must be a "
                                  "table: write [name] and the bounds below it.")
        out[dataset] = _bounds(dataset, section, table, where)
    return out


def _bounds(dataset: str, section: dict[str, Any], table: MetricTable, where: str) -> Bounds:
    bounds: Bounds = {}
    for key, value in section.items():
        if not isinstance(value, dict):
            bounds[key] = _bound(key, value, table, f"{where} [{dataset}]")
            continue
        if key not in SPLITS:
            raise ThresholdsError(
                f"{where}: [{dataset}.{key}] 不是資料分割（只有 {', '.join(SPLITS)}）。 "
                f"[{dataset}.{key}] is not a split ({', '.join(SPLITS)}). A bound's direction "
                "comes from eval/metric_table.py (a floor where higher is better, a ceiling "
                f"where lower is better), so write every bound directly under [{dataset}] or "
                f"[{dataset}.<split>].")
        for name, v in value.items():
            bounds[f"{key}.{name}"] = _bound(f"{key}.{name}", v, table,
                                             f"{where} [{dataset}.{key}]")
    return bounds


def _bound(name: str, value: Any, table: MetricTable, where: str) -> float:
    metric = table.resolve(name)
    if metric is None:
        known = ", ".join(m.name for m in table if m.better is not Direction.NEITHER)
        raise ThresholdsError(
            f"{where}: 未知的指標 {name!r}。 Unknown metric {name!r}; thresholds name metrics "
            f"of eval/metric_table.py: {known} (timings: latency.<stage>.p95_s).")
    if metric.better is Direction.NEITHER:
        raise ThresholdsError(f"{where}: {name} 是描述性指標，不能設門檻。 {name} is "
                              "descriptive (neither higher nor lower is better); remove its bound.")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ThresholdsError(f"{where}: {name} 的門檻必須是數字。 The bound of {name} must be "
                              f"a number, got {value!r}.")
    return float(value)


def check(report: dict[str, Any], bounds: Bounds, table: MetricTable = METRICS) -> list[str]:
    """One line per bound the report misses (or does not measure)."""
    flat = flat_metrics(report, table)
    problems = []
    for name, bound in bounds.items():
        metric = table.resolve(name)
        if metric is None:
            raise ThresholdsError(f"未知的指標 {name!r}。 Unknown metric {name!r}.")
        if name not in flat:
            problems.append(f"{name}: 未測得 not measured (bound {bound:g})")
        elif metric.lower_is_better and flat[name] > bound:
            problems.append(f"{name} = {flat[name]:.4f} > {bound:g} (ceiling)")
        elif not metric.lower_is_better and flat[name] < bound:
            problems.append(f"{name} = {flat[name]:.4f} < {bound:g} (floor)")
    return problems
