"""The training run: cases -> features -> selector (cross-fitted on train) -> answerability
model -> refusal threshold chosen on validation -> short-answer model -> figures on test."""

from __future__ import annotations

import hashlib
import logging
import pickle
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.answerers import evidence, features, question, short
from rag.answerers.features import ANSWER_FEATURES, SENTENCE_FEATURES, answer_row
from rag.answerers.model import Model
from rag.answerers.reader import Reading, quoted, runner_up
from rag.answerers.similarity import SentenceVectors
from rag.config import Settings
from train import build, negatives
from train.build import cases
from train.cache import CachedEmbedder
from train.data import SEED, SPLITS, Paragraph, load
from train.fit import fit
from train.negatives import answering_sentence
from train.samples import Sample, best_f1, sample

log = logging.getLogger(__name__)
FOLDS = 3  # the selector's probabilities for the answerability model's training rows come
# from a selector that did not see their article (cross-fitting), as at answer time


@dataclass(frozen=True, kw_only=True)
class Options:
    datasets: tuple[str, ...] = ("drcd", "cmrc")
    seed: int = SEED
    limit: int | None = None  # first N questions per dataset (a quick run)
    sims: bool = False  # sentence embeddings as a feature (see docs/answerer.md)
    kinds: tuple[str, ...] = ("logistic", "trees")  # compared on validation


def featurize(settings: Settings, opts: Options) -> list[Sample]:
    """Every case's sample, cached under the data folder by a digest of the feature code."""
    digest = _code_digest() + f"-{opts.seed}-{opts.limit}-{int(opts.sims)}"
    out: list[Sample] = []
    embedder = CachedEmbedder(_embedder(settings), settings.data_dir / "embeddings.npz")
    for dataset in opts.datasets:
        path = settings.data_dir / f"samples-{dataset}-{digest}.pkl"
        if path.is_file():  # our own cache, written below: never a downloaded file
            out.extend(pickle.loads(path.read_bytes()))
            continue
        found = cases(settings, dataset, embedder, opts.seed, opts.limit)
        started = time.perf_counter()
        vectors = SentenceVectors(embedder if opts.sims else None)
        made = [sample(c, vectors) for c in found]
        embedder.save()
        log.info("%s: %d samples in %.0f s", dataset, len(made), time.perf_counter() - started)
        path.write_bytes(pickle.dumps(made))
        out.extend(made)
    return out


def _embedder(settings: Settings) -> Any:
    from rag.embed import get_embedder

    return get_embedder(settings)


def _code_digest() -> str:
    h = hashlib.sha256()
    # the cases (train/build.py, train/negatives.py) are featurized into the cache too: a
    # change in how cases are made must not reuse samples made before it
    for module in (features, evidence, question, build, negatives):
        h.update(Path(str(module.__file__)).read_bytes())
    return h.hexdigest()[:10]


# ---------------------------------------------------------------- selector


def selector_rows(samples: Sequence[Sample]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, weight) from answerable samples with an answering sentence shown; ambiguous
    rows (the answer text in another paragraph) are left out; each question weighs 1."""
    xs, ys, ws = [], [], []
    for s in samples:
        if not s.case.answerable or not (s.labels == 1).any():
            continue
        keep = s.labels >= 0
        xs.append(s.table.matrix[keep])
        ys.append(s.labels[keep])
        ws.append(np.full(int(keep.sum()), 1.0 / max(int(keep.sum()), 1)))
    return np.vstack(xs), np.concatenate(ys), np.concatenate(ws)


def fit_selector(kind: str, samples: Sequence[Sample], seed: int,
                 columns: Sequence[str] = SENTENCE_FEATURES) -> Model:
    x, y, w = selector_rows(samples)
    idx = [SENTENCE_FEATURES.index(c) for c in columns]
    # 400 trees of 31 leaves: validation top-1 0.820 against 0.809 with 200 of 15
    options = {"iterations": 400, "leaves": 31} if kind == "trees" else {}
    return fit(kind, "selector", columns, x[:, idx], y, seed, weight=w * len(w) / w.sum(),
               **options)


def selector_probs(model: Model, samples: Sequence[Sample]) -> list[np.ndarray]:
    cols = model.columns(SENTENCE_FEATURES)
    return [model.predict(s.table.matrix[:, cols]) if len(s.table.units) else np.zeros(0)
            for s in samples]


def crossfit_probs(kind: str, train: Sequence[Sample], seed: int,
                   columns: Sequence[str] = SENTENCE_FEATURES) -> list[np.ndarray]:
    fold = [int(hashlib.sha256(f"{seed}:{s.case.item.article}".encode()).hexdigest()[:6], 16)
            % FOLDS for s in train]
    probs: list[np.ndarray] = [np.zeros(0)] * len(train)
    for k in range(FOLDS):
        model = fit_selector(kind, [s for s, f in zip(train, fold, strict=True) if f != k],
                             seed, columns)
        held = [i for i, f in enumerate(fold) if f == k]
        for i, p in zip(held, selector_probs(model, [train[i] for i in held]), strict=True):
            probs[i] = p
    return probs


def top1(samples: Sequence[Sample], probs: Sequence[np.ndarray]) -> float:
    """Share of answerable questions whose best-scored sentence holds a gold answer."""
    hits = [bool(s.holds[int(np.argmax(p))]) for s, p in zip(samples, probs, strict=True)
            if s.case.answerable and len(p)]
    n = sum(1 for s in samples if s.case.answerable)
    return sum(hits) / max(n, 1)


# ---------------------------------------------------------------- answerability


def reading(s: Sample, p: np.ndarray) -> Reading:
    """What the reader would conclude before its answerability decision (taken as yes)."""
    best = int(np.argmax(p)) if len(p) else None
    second = runner_up(s.table.units, s.case.passages, p, best) if best is not None else None
    return Reading(table=s.table, probs=p, best=best, second=second, p_answer=1.0,
                   answered=best is not None)


def quoted_holds(s: Sample, p: np.ndarray, near_best: float) -> bool:
    """The sentences the answerer would quote hold a gold answer."""
    rows = quoted(reading(s, p), s.query, s.case.passages, near_best)
    return bool(rows) and bool(s.holds[rows].any())


def judge_rows(samples: Sequence[Sample], probs: Sequence[np.ndarray], near_best: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """One row per case: the best sentence's features; label 1 when answering is right (an
    answerable question whose quoted sentences hold a gold answer)."""
    xs, ys = [], []
    for s, p in zip(samples, probs, strict=True):
        r = reading(s, p)
        if r.best is None:
            xs.append(np.zeros(len(ANSWER_FEATURES), dtype=np.float32))
            ys.append(0)
            continue
        xs.append(answer_row(s.table, p, r.best, r.second, s.case.passages, s.query))
        ys.append(int(s.case.answerable and quoted_holds(s, p, near_best)))
    return np.vstack(xs), np.asarray(ys)


def all_quoted_holds(samples: Sequence[Sample], probs: Sequence[np.ndarray],
                     near_best: float) -> list[bool]:
    return [s.case.answerable and quoted_holds(s, p, near_best)
            for s, p in zip(samples, probs, strict=True)]


def outcomes(samples: Sequence[Sample], probs: Sequence[np.ndarray], p_answer: np.ndarray,
             threshold: float, holds: Sequence[bool]) -> dict[str, dict[str, float]]:
    """Per dataset and case kind: answered share, and the share of all questions whose
    quoted sentences hold a gold answer (`holds`: see `all_quoted_holds`)."""
    groups: dict[str, list[tuple[bool, bool]]] = {}
    for s, p, pa, h in zip(samples, probs, p_answer, holds, strict=True):
        answered = bool(len(p)) and pa >= threshold
        right = answered and h
        for key in (f"{s.case.item.dataset}/{s.case.kind}", f"all/{s.case.kind}"):
            groups.setdefault(key, []).append((answered, right))
    return {k: {"n": len(v), "answered": _mean(a for a, _ in v),
                "holds_gold": _mean(r for _, r in v)} for k, v in sorted(groups.items())}


def choose_threshold(samples: Sequence[Sample], probs: Sequence[np.ndarray],
                     p_answer: np.ndarray, refuse_removed: float, refuse_swapped: float,
                     holds: Sequence[bool]) -> tuple[float, list[dict[str, float]]]:
    """The lowest threshold at which validation's negatives are refused at the stated rates
    (the worst error is answering what the articles do not say); the curve for the record."""
    curve = []
    chosen = 1.0
    for t in np.round(np.arange(0.05, 0.96, 0.01), 2):
        o = outcomes(samples, probs, p_answer, float(t), holds)
        row = {"threshold": float(t), "answered": o["all/answerable"]["answered"],
               "holds_gold": o["all/answerable"]["holds_gold"],
               "refused_removed": 1 - o["all/removed"]["answered"],
               "refused_swapped": 1 - o["all/swapped"]["answered"]}
        curve.append(row)
        if chosen == 1.0 and row["refused_removed"] >= refuse_removed \
                and row["refused_swapped"] >= refuse_swapped:
            chosen = float(t)
    return chosen, curve


# ---------------------------------------------------------------- short answers


SPAN_GOOD = 0.8  # a candidate is a positive example at this char F1 or more (validation F1
# with the gold sentence: 0.556; at 0.5: 0.541; only the best candidates: 0.542)


def span_rows(samples: Sequence[Sample], paragraphs: dict[str, Paragraph], seed: int,
              negatives: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Candidate spans of each answering sentence (the gold one); label: char F1 >= SPAN_GOOD
    with a gold answer. Those are all kept, and `negatives` others at random."""
    rng = random.Random(seed)
    xs, ys = [], []
    for s in samples:
        if not s.case.answerable:
            continue
        sentence = answering_sentence(s.case.item, paragraphs[s.case.item.pid].text)
        if not sentence or not any(a in sentence for a in s.case.item.answers):
            continue
        found = short.spans(s.query, sentence)
        f1 = np.array([best_f1(sentence[a:b], s.case.item.answers) for a, b in found.offsets])
        pos = np.flatnonzero(f1 >= SPAN_GOOD)
        neg = [int(i) for i in np.flatnonzero(f1 < SPAN_GOOD)]
        keep = np.concatenate([pos, rng.sample(neg, min(negatives, len(neg)))]).astype(int)
        xs.append(found.matrix[keep])
        ys.append((f1[keep] >= SPAN_GOOD).astype(int))
    return np.vstack(xs), np.concatenate(ys)


def span_scores(model: Model, samples: Sequence[Sample], sentences: Sequence[str]
                ) -> list[float]:
    """Char F1 of the model's span of each given sentence against the gold answers."""
    out = []
    for s, sentence in zip(samples, sentences, strict=True):
        out.append(best_f1(short.best_span(model, s.query, sentence), s.case.item.answers)
                   if sentence else 0.0)
    return out


def _mean(values: Any) -> float:
    values = list(values)
    return round(sum(values) / len(values), 4) if values else 0.0


def paragraphs_of(settings: Settings, datasets: Sequence[str]) -> dict[str, Paragraph]:
    out: dict[str, Paragraph] = {}
    for d in datasets:
        ps, _ = load(d, settings.benchmarks_dir)
        out.update((p.pid, p) for p in ps)
    return out


def by_split(samples: Sequence[Sample]) -> dict[str, list[Sample]]:
    out: dict[str, list[Sample]] = {k: [] for k in SPLITS}
    for s in samples:
        out[s.case.split].append(s)
    return out

