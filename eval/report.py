"""Aggregating item results into a report (JSON + Markdown), thresholds and comparisons."""

from __future__ import annotations

import json
import tomllib
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval import metrics
from eval.runner import ItemResult

THRESHOLDS_PATH = Path(__file__).parent / "thresholds.toml"
LOWER_IS_BETTER = {"answered_unanswerable", "false_refusals", "latency_p95_s"}


def summarize(results: Sequence[ItemResult]) -> dict[str, Any]:
    """Overall and per-category means, refusal scores, latency and the failed items."""
    per_item = [(r, r.scores()) for r in results]
    report: dict[str, Any] = {"n_items": len(results),
                              "n_answerable": sum(r.item.answerable for r in results)}
    report["overall"] = _means([s for _, s in per_item])
    by_cat: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r, s in per_item:
        by_cat[r.item.category].append(s)
    report["by_category"] = {cat: {"n": len(v), **_means(v)} for cat, v in sorted(by_cat.items())}
    answered = [r for r in results if r.answer is not None]
    if answered:
        report["refusal"] = metrics.refusal_scores(
            [(r.item.answerable, r.answer.refused) for r in answered if r.answer])
        report["answered_unanswerable_ids"] = [
            r.item.id for r in answered if not r.item.answerable and r.answer
            and not r.answer.refused]
    report["latency"] = _latency(results)
    report["failures"] = [_failure(r, s) for r, s in per_item if _failed(r, s)]
    return report


def _means(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    keys = sorted({k for row in rows for k, v in row.items() if isinstance(v, int | float)})
    out = {}
    for k in keys:
        values = [float(row[k]) for row in rows if isinstance(row.get(k), int | float)]
        mean = metrics.mean(values)
        if mean is not None:
            out[k] = round(mean, 4)
    return out


def _latency(results: Sequence[ItemResult]) -> dict[str, dict[str, float]]:
    stages: dict[str, list[float]] = defaultdict(list)
    for r in results:
        for stage, secs in r.seconds.items():
            stages[stage].append(secs)
    return {stage: {"p50_s": round(metrics.percentile(v, 50), 4),
                    "p95_s": round(metrics.percentile(v, 95), 4)} for stage, v in stages.items()}


def _failed(r: ItemResult, s: dict[str, Any]) -> bool:
    if r.answer is None:
        return bool(r.item.answerable and not s.get("evidence_hit@5"))
    if r.item.answerable:
        return not s.get("key_fact_accuracy")
    return not r.answer.refused


def _failure(r: ItemResult, s: dict[str, Any]) -> dict[str, Any]:
    a = r.answer
    return {"id": r.item.id, "category": r.item.category, "question": r.item.question,
            "answerable": r.item.answerable, "expected": [list(g) for g in r.item.key_facts],
            "answer": a.text if a else None, "refused": a.refused if a else None,
            "citations": [c.to_dict() for c in a.citations] if a else [],
            "evidence_hit@5": s.get("evidence_hit@5"), "top_articles": r.ranked_articles[:3]}


def flat_metrics(report: dict[str, Any]) -> dict[str, float]:
    """The numbers thresholds and comparisons look at."""
    flat = {k: v for k, v in report.get("overall", {}).items() if isinstance(v, int | float)}
    for k, v in (report.get("refusal") or {}).items():
        if isinstance(v, int | float):
            flat[k] = v
    for stage, values in report.get("latency", {}).items():
        flat[f"latency.{stage}.p95_s"] = values["p95_s"]
    for k, v in report.get("retrieval", {}).items():
        if isinstance(v, int | float):
            flat[k] = v
    return flat


def check_thresholds(report: dict[str, Any], dataset: str,
                     path: Path = THRESHOLDS_PATH) -> list[str]:
    """Violations of `[dataset]` minimums (and `[dataset.max]` maximums) in the TOML file."""
    config = tomllib.loads(path.read_text(encoding="utf-8")).get(dataset, {})
    flat = flat_metrics(report)
    problems = []
    for name, bound in config.items():
        if name == "max":
            continue
        if name not in flat:
            problems.append(f"{name}: not measured (threshold {bound})")
        elif flat[name] < bound:
            problems.append(f"{name} = {flat[name]:.4f} < {bound}")
    for name, bound in config.get("max", {}).items():
        if name in flat and flat[name] > bound:
            problems.append(f"{name} = {flat[name]:.4f} > {bound}")
    return problems


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    before, after = flat_metrics(old), flat_metrics(new)
    lines = []
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name), after.get(name)
        if a is None or b is None:
            lines.append(f"{name}: {a} -> {b}")
        elif abs(b - a) > 1e-9:
            lines.append(f"{name}: {a:.4f} -> {b:.4f} ({b - a:+.4f})")
    return lines or ["no metric changed"]


def write(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "report.json", out_dir / "report.md"
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    md_path.write_text(markdown(report), encoding="utf-8")
    return json_path, md_path


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# 評估報告 Eval report — {report.get('dataset', '')}", "",
             f"items: {report['n_items']} (answerable {report['n_answerable']}); "
             f"answerer: {report.get('answerer', '')}", "", "## Overall", ""]
    lines += _table({"all": report.get("overall", {})})
    if report.get("retrieval"):
        lines += ["", "## Retrieval", ""] + _table({"all": report["retrieval"]})
    if report.get("refusal"):
        lines += ["", "## Refusals", ""] + _table({"all": report["refusal"]})
        ids = report.get("answered_unanswerable_ids") or []
        lines += ["", f"**Answered unanswerable (worst error):** {', '.join(ids) or 'none'}"]
    if report.get("by_category"):
        lines += ["", "## By category", ""] + _table(report["by_category"])
    lines += ["", "## Latency (s)", ""] + _table(report.get("latency", {}))
    lines += ["", "## Failures", ""]
    for f in report.get("failures", []):
        cites = "; ".join(f"[{c['n']}] {c['article_id']}: {c['quote']}" for c in f["citations"])
        lines += [f"- **{f['id']}** ({f['category']}) {f['question']}",
                  f"  - expected: {f['expected']}", f"  - answer: {f['answer']}",
                  f"  - citations: {cites or '—'}"]
    return "\n".join(lines) + "\n"


def _table(rows: dict[str, dict[str, Any]]) -> list[str]:
    cols = sorted({k for r in rows.values() for k in r})
    if not cols:
        return ["(none)"]
    out = ["| | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, row in rows.items():
        cells = [_fmt(row.get(c)) for c in cols]
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    return "" if v is None else str(v)
