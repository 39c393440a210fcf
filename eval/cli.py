"""`rag eval`: run a dataset, write report.json/report.md, gate on eval/thresholds.toml."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from eval.datasets import DATASETS, RunOptions
from rag.config import Settings
from rag.errors import InputError


def register(sub: Any) -> None:
    p = sub.add_parser("eval", help="evaluate on a gold set 評估")
    p.add_argument("--dataset", choices=list(DATASETS), default="corpus",
                   help="; ".join(f"{d.name}: {d.description}" for d in DATASETS.values()))
    p.add_argument("--benchmarks-dir", type=Path,
                   help="folder of the benchmark files (default: RAG_BENCHMARKS_DIR, "
                        "../shared/benchmarks)")
    p.add_argument("--source", "--drcd-path", dest="source", type=Path,
                   help="the dataset's file itself (e.g. DRCD_dev.json; corpus: a gold JSONL)")
    p.add_argument("--answerer", help="auto | extractive | openai (default: RAG_ANSWERER)")
    p.add_argument("--k", type=int, default=10, help="passages for the retrieval metrics")
    p.add_argument("--out", type=Path, default=Path("eval-out"))
    p.add_argument("--compare", type=Path, help="an earlier report.json to diff against")
    p.add_argument("--limit", type=int, help="only the first N questions (DRCD: answering)")
    p.add_argument("--no-gate", action="store_true", help="report only; never fail")
    p.set_defaults(func=cmd_eval)
    tools = p.add_subparsers(dest="eval_command", metavar="{import-feedback}")
    f = tools.add_parser("import-feedback", help="thumbs-down answers from the chat UI -> "
                         "candidate gold items for review 把負評轉成待審題目")
    f.add_argument("--feedback", type=Path,
                   help="feedback JSONL (default: feedback.jsonl under the data folder)")
    f.add_argument("--out", type=Path, default=Path("eval-out") / "feedback-candidates.jsonl",
                   help="where the candidates go (default eval-out/feedback-candidates.jsonl)")
    f.set_defaults(func=cmd_import_feedback)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from eval import gate
    from eval import report as rep

    dataset = DATASETS[args.dataset]
    if args.benchmarks_dir:
        settings = settings.with_(benchmarks_dir=args.benchmarks_dir)
    # a bad thresholds file or a missing --compare report fails before the run, not after it
    bounds = None if args.no_gate else gate.load_thresholds(datasets=DATASETS).get(dataset.name, {})
    old = _read_report(args.compare) if args.compare else None
    outcome = dataset.run(settings, RunOptions(answerer=args.answerer, k=args.k,
                                               limit=args.limit, source=args.source))
    result = rep.summarize(outcome.results, splits=dataset.has_splits)
    result["answerer"], result["dataset"] = outcome.answerer, dataset.name
    json_path, md_path = rep.write(result, args.out)
    print("\n".join(rep.summary_lines(result)))
    print(f"報告 report: {json_path} , {md_path}")
    if old is not None:
        print("與先前報告比較 compared with", args.compare)
        for line in rep.compare(old, result):
            print("  " + line)
    problems = gate.check(result, bounds) if bounds is not None else []
    if problems:
        print("未達門檻 below thresholds (eval/thresholds.toml):", file=sys.stderr)
        for line in problems:
            print("  " + line, file=sys.stderr)
        return 1
    return 0


def cmd_import_feedback(args: argparse.Namespace, settings: Settings) -> int:
    from eval.feedback import write_candidates

    source = args.feedback or settings.feedback_path
    n = write_candidates(source, args.out)
    print(f"已寫出 {n} 筆待審題目 wrote {n} candidate items: {args.out} "
          "（請人工填寫 answerable、key_facts、evidence 後再加入 eval/data/gold.jsonl；"
          "a person fills in answerable, key_facts and evidence before adding them to "
          "eval/data/gold.jsonl）")
    return 0


def _read_report(path: Path) -> dict[str, Any]:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"無法讀取先前的報告：{path}（{exc}）。 Cannot read the report to "
                         f"compare with: {path} ({exc}); pass a report.json that `rag eval` "
                         "wrote.") from exc
    if not isinstance(report, dict):
        raise InputError(f"{path} 不是評估報告。 {path} is not a report.json of `rag eval`.")
    return report
