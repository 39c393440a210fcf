"""Aggregating item results into a report (JSON + Markdown) and comparing two reports."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval import metrics
from eval.dataset import SPLITS
from eval.item import ItemResult
from eval.metric_table import LATENCY, METRICS, Direction, Input, MetricTable

Scored = tuple[ItemResult, dict[str, float]]
# DRCD reports written before the metric table kept article hits under "retrieval" (as
# recall@k); reading that section lets `--compare` diff against them.
LEGACY_SECTIONS = ("retrieval",)


def summarize(results: Sequence[ItemResult], table: MetricTable = METRICS,
              splits: bool = False) -> dict[str, Any]:
    """Overall, per-category (and per-split) figures, latency and the failed items."""
    scored = [(r, table.item_scores(r)) for r in results]
    report = _section(scored, table)
    by_cat: dict[str, list[dict[str, float]]] = defaultdict(list)
    for r, s in scored:
        by_cat[r.item.category].append(s)
    report["by_category"] = {cat: {"n": len(v), **_means(v)} for cat, v in sorted(by_cat.items())}
    if splits:
        report["splits"] = {name: _section([p for p in scored if p[0].item.split == name], table)
                            for name in SPLITS if any(r.item.split == name for r in results)}
    if any(r.answer is not None for r in results):
        report["answered_unanswerable_ids"] = [
            r.item.id for r in results
            if not r.item.answerable and r.answer is not None and not r.answer.refused]
    report[LATENCY] = _latency(results, table)
    report["failures"] = [_failure(r, s) for r, s in scored if _failed(r, s, table)]
    return report


def _section(scored: Sequence[Scored], table: MetricTable) -> dict[str, Any]:
    """The figures one set of questions gets (the whole set, or one split of it)."""
    results = [r for r, _ in scored]
    section: dict[str, Any] = {
        "n_items": len(results), "n_answerable": sum(r.item.answerable for r in results),
        "n_answered": sum(r.answer is not None for r in results),
        "overall": _means([s for _, s in scored])}
    for name, values in table.set_scores(results).items():
        section.setdefault(name, {}).update(values)
    return section


def _means(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    out = {}
    for k in sorted({k for row in rows for k in row}):
        mean = metrics.mean([row[k] for row in rows if k in row])
        if mean is not None:
            out[k] = round(mean, 4)
    return out


def _latency(results: Sequence[ItemResult], table: MetricTable) -> dict[str, dict[str, float]]:
    stages: dict[str, list[float]] = defaultdict(list)
    for r in results:
        for stage, secs in r.seconds.items():
            stages[stage].append(secs)
    return {stage: table.stage_scores(v) for stage, v in stages.items()}


def _failed(r: ItemResult, s: dict[str, float], table: MetricTable) -> bool:
    """Answered unanswerable, or a verdict metric at 0: the answer's verdicts for an answered
    question, the retrieval verdicts (evidence in the top 5) for one only retrieved."""
    if r.answer is not None and not r.item.answerable:
        return not r.answer.refused
    answered = r.answer is not None
    return any(s.get(m.name) == 0 for m in table
               if m.verdict and (Input.ANSWER in m.needs) == answered)


def _failure(r: ItemResult, s: dict[str, float]) -> dict[str, Any]:
    a, it = r.answer, r.item
    expected = [list(g) for g in it.key_facts] or ([list(it.answers)] if it.answers else [])
    return {"id": it.id, "category": it.category, "split": it.split, "question": it.question,
            "answerable": it.answerable, "expected": expected,
            "answer": a.text if a else None, "refused": a.refused if a else None,
            "citations": [c.to_dict() for c in a.citations] if a else [],
            "evidence_hit@5": s.get("evidence_hit@5"), "top_articles": list(r.ranked_articles[:3])}


# --------------------------------------------------------------------------- flat view, compare


def flat_metrics(report: dict[str, Any], table: MetricTable = METRICS) -> dict[str, float]:
    """Every number of a report by flat name: `name`, `<split>.name`, `latency.<stage>.name`."""
    flat = _flat_section(report, table)
    for split, section in (report.get("splits") or {}).items():
        flat.update({f"{split}.{k}": v for k, v in _flat_section(section, table).items()})
    for stage, values in (report.get(LATENCY) or {}).items():
        flat.update({f"{LATENCY}.{stage}.{k}": v for k, v in values.items() if _is_number(v)})
    return flat


def _flat_section(section: dict[str, Any], table: MetricTable) -> dict[str, float]:
    flat: dict[str, float] = {}
    for name in ("overall", *table.sections(), *LEGACY_SECTIONS):
        flat.update({k: v for k, v in (section.get(name) or {}).items() if _is_number(v)})
    return flat


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def compare(old: dict[str, Any], new: dict[str, Any], table: MetricTable = METRICS) -> list[str]:
    """One line per metric that changed, marked better or worse by the table's direction."""
    before, after = flat_metrics(old, table), flat_metrics(new, table)
    lines = []
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name), after.get(name)
        if a is None or b is None:
            lines.append(f"{name}: {a} -> {b}")
        elif abs(b - a) > 1e-9:
            lines.append(f"{name}: {a:.4f} -> {b:.4f} ({b - a:+.4f}{_verdict(name, b - a, table)})")
    return lines or ["沒有指標改變 no metric changed"]


def _verdict(name: str, delta: float, table: MetricTable) -> str:
    metric = table.resolve(name)
    if metric is None or metric.better is Direction.NEITHER:
        return ""
    return ", 較好 better" if (delta < 0) == metric.lower_is_better else ", 較差 worse"


def summary_lines(report: dict[str, Any], table: MetricTable = METRICS) -> list[str]:
    """The one-line summary `rag eval` prints (and one per split): the table's summary metrics."""
    lines = [f"評估 eval {report.get('dataset', '')}: {report['n_items']} items; "
             + _summary_figures(report, table)]
    for split, section in (report.get("splits") or {}).items():
        lines.append(f"  {split}: {section['n_items']} items; "
                     + _summary_figures(section, table))
    return lines


def _summary_figures(section: dict[str, Any], table: MetricTable) -> str:
    flat = _flat_section(section, table)
    shown = [m.name for m in table if m.summary and m.name in flat]
    return ", ".join(f"{k}={flat[k]:.3f}" if isinstance(flat[k], float) else f"{k}={flat[k]}"
                     for k in shown)


# --------------------------------------------------------------------------- files


def write(report: dict[str, Any], out_dir: Path, table: MetricTable = METRICS) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "report.json", out_dir / "report.md"
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    md_path.write_text(markdown(report, table), encoding="utf-8")
    return json_path, md_path


def markdown(report: dict[str, Any], table: MetricTable = METRICS) -> str:
    lines = [f"# 評估報告 Eval report — {report.get('dataset', '')}", "",
             f"items: {report['n_items']} (answerable {report['n_answerable']}, answered "
             f"{report.get('n_answered', report['n_items'])}); "
             f"answerer: {report.get('answerer', '')}", "", "## Overall", ""]
    lines += _table({"all": report.get("overall", {})})
    for name in (*table.sections(), *LEGACY_SECTIONS):
        if report.get(name):
            lines += ["", f"## {name.capitalize()}", ""] + _table({"all": report[name]})
    if "answered_unanswerable_ids" in report:
        ids = report["answered_unanswerable_ids"]
        lines += ["", f"**Answered unanswerable (worst error):** {', '.join(ids) or 'none'}"]
    if report.get("splits"):
        lines += ["", "## By split", ""] + _table(
            {split: {"n": s["n_items"], **s["overall"],
                     **{k: v for name in table.sections() for k, v in (s.get(name) or {}).items()}}
             for split, s in report["splits"].items()})
    if report.get("by_category"):
        lines += ["", "## By category", ""] + _table(report["by_category"])
    lines += ["", "## Latency (s)", ""] + _table(report.get(LATENCY, {}))
    lines += ["", "## Failures", ""]
    for f in report.get("failures", []):
        cites = "; ".join(f"[{c['n']}] {c['article_id']}: {c['quote']}" for c in f["citations"])
        lines += [f"- **{f['id']}** ({f['category']}) {f['question']}",
                  f"  - expected: {f['expected']}", f"  - answer: {f['answer']}",
                  f"  - citations: {cites or '—'}"]
    lines += ["", "## Metrics", ""] + _glossary(report, table)
    return "\n".join(lines) + "\n"


def _glossary(report: dict[str, Any], table: MetricTable) -> list[str]:
    """What each reported metric means, from the table."""
    reported = {name.rsplit(".", 1)[-1] for name in flat_metrics(report, table)}
    return [f"- `{m.name}`: {m.description} ({m.better.value})" for m in table
            if m.name in reported]


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
