"""`rag eval`: run a gold set, write report.json/report.md, gate on eval/thresholds.toml."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rag.config import Settings, shipped_corpus_dir

CORPUS_COLLECTION = "eval-corpus"
DRCD_COLLECTION = "drcd-dev"
DEFAULT_DRCD = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "drcd" / \
    "DRCD_dev.json"


def register(sub: Any) -> None:
    p = sub.add_parser("eval", help="evaluate on a gold set 評估")
    p.add_argument("--dataset", choices=["corpus", "drcd-dev"], default="corpus")
    p.add_argument("--drcd-path", type=Path, default=DEFAULT_DRCD)
    p.add_argument("--answerer", help="auto | extractive | openai (default: RAG_ANSWERER)")
    p.add_argument("--k", type=int, default=10, help="passages for the retrieval metrics")
    p.add_argument("--out", type=Path, default=Path("eval-out"))
    p.add_argument("--compare", type=Path, help="an earlier report.json to diff against")
    p.add_argument("--limit", type=int, help="only the first N questions (DRCD: answering)")
    p.add_argument("--no-gate", action="store_true", help="report only; never fail")
    p.set_defaults(func=cmd_eval)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from eval import report as rep

    if args.dataset == "corpus":
        result = _corpus(args, settings)
    else:
        from eval.drcd import evaluate_drcd

        result = evaluate_drcd(args.drcd_path, settings.with_(collection=DRCD_COLLECTION),
                               args.answerer, args.k, args.limit)
    result["dataset"] = args.dataset
    json_path, md_path = rep.write(result, args.out)
    _print_summary(result, json_path, md_path)
    if args.compare:
        old = json.loads(args.compare.read_text(encoding="utf-8"))
        print("與先前報告比較 compared with", args.compare)
        for line in rep.compare(old, result):
            print("  " + line)
    problems = rep.check_thresholds(result, args.dataset)
    if problems and not args.no_gate:
        print("未達門檻 below thresholds (eval/thresholds.toml):", file=sys.stderr)
        for line in problems:
            print("  " + line, file=sys.stderr)
        return 1
    return 0


def _corpus(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    from eval.dataset import load_gold
    from eval.report import summarize
    from eval.runner import run_items
    from ingest.index import ingest
    from rag.assistant import Assistant

    settings = settings.with_(collection=CORPUS_COLLECTION)
    summary = ingest([shipped_corpus_dir()], settings, progress=False)
    if not summary.ok:
        raise SystemExit(f"ingest failed: {summary.failed}")
    assistant = Assistant(settings, answerer=args.answerer)
    items = load_gold()[: args.limit] if args.limit else load_gold()
    with _progress(len(items)) as bar:
        results = run_items(items, assistant.retriever, assistant, k=args.k,
                            progress=bar.update)
    report = summarize(results)
    report["answerer"] = assistant.label
    return report


def _progress(total: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="eval", unit="q", leave=False, disable=None)


def _print_summary(report: dict[str, Any], json_path: Path, md_path: Path) -> None:
    from eval.report import flat_metrics

    flat = flat_metrics(report)
    keys = [k for k in ("key_fact_accuracy", "refusal_recall", "refusal_precision",
                        "answered_unanswerable", "evidence_hit@5", "article_mrr@10",
                        "citation_precision", "citation_recall", "recall@1", "recall@5",
                        "mrr@10", "answer_contains_gold", "span_f1", "span_em") if k in flat]
    print(f"評估 eval {report.get('dataset')}: {report['n_items']} items; "
          + ", ".join(f"{k}={flat[k]:.3f}" if isinstance(flat[k], float) else f"{k}={flat[k]}"
                      for k in keys))
    print(f"報告 report: {json_path} , {md_path}")
