"""Answering latency: the offline answerers' `Assistant.ask` p50/p95, the OpenAI path's first token.

    python bench/answer.py [--data-dir DIR] [--questions 20] [--passes 2]
                           [--offline extractive learned] [--json FILE]

The index is the shipped corpus: DIR (or RAG_DATA_DIR) when it already holds the collection,
else built once in a temporary folder (about a minute; removed afterwards). The questions are
spread evenly over eval/data/gold.jsonl (answerable and unanswerable, three languages).

Extractive: every question is asked `--passes` times; pass 1 computes the sentence embeddings
of the passages it meets (cold cache), later passes reuse them (warm). The OpenAI path runs
against tests/fake_llm.py's server, which answers at once (no model time), so its time to
first token is this project's own overhead: retrieval, prompt, HTTP and client; the server
streams the rest of the reply at `--chunk-delay` seconds per piece.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project's `ingest` package, not bench/ingest.py
sys.path.insert(0, str(ROOT / "tests"))  # the fake OpenAI-compatible server

from fake_llm import FakeLLM, shown_passages  # noqa: E402

from rag.assistant import AnswerStream, Assistant  # noqa: E402
from rag.config import Settings, shipped_corpus_dir  # noqa: E402
from rag.schema import Answer  # noqa: E402
from rag.text import split_sentences  # noqa: E402

GOLD = ROOT / "eval" / "data" / "gold.jsonl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="an index of the shipped corpus to reuse")
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--chunk-delay", type=float, default=0.02,
                        help="seconds between streamed pieces of the fake LLM")
    parser.add_argument("--offline", nargs="+", default=["extractive"],
                        choices=["extractive", "learned"], help="offline answerers to time")
    parser.add_argument("--json", type=Path, help="write the numbers here too")
    args = parser.parse_args(argv)
    questions = gold_questions(args.questions)
    with index(args.data_dir) as settings:
        report: dict[str, Any] = {"questions": len(questions), "data_dir": str(settings.data_dir)}
        for name in args.offline:
            report[name] = bench_extractive(settings, questions, args.passes, name)
        report["openai"] = bench_openai(settings, questions, args.chunk_delay)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


def gold_questions(n: int) -> list[str]:
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line]
    step = max(1, len(rows) // n)
    return [row["question"] for row in rows[::step][:n]]


@contextmanager
def index(data_dir: Path | None) -> Iterator[Settings]:
    settings = Settings.from_env()
    if data_dir is not None:
        settings = settings.with_(data_dir=data_dir)
    if settings.manifest_path.is_file():
        yield settings
        return
    from ingest.index import Ingestor

    tmp = Path(tempfile.mkdtemp(prefix="bench-answer-"))
    try:
        settings = settings.with_(data_dir=tmp / "rag")
        started = time.perf_counter()
        summary = Ingestor(settings, progress=False).run([shipped_corpus_dir()])
        print(f"built the index in {time.perf_counter() - started:.1f} s "
              f"({summary.total_chunks} chunks)", file=sys.stderr)
        yield settings
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_extractive(settings: Settings, questions: list[str], passes: int,
                     name: str = "extractive") -> dict[str, Any]:
    assistant = Assistant(settings.with_(answerer=name))
    started = time.perf_counter()
    assistant.warm_up()  # as `rag serve` does: the embedding model, the index, the lexicon
    out: dict[str, Any] = {"warm_up_s": time.perf_counter() - started,
                           "model_load_s": model_load_seconds()}
    refused = 0
    for n in range(1, passes + 1):
        total, retrieve, answer = [], [], []
        for q in questions:
            t0 = time.perf_counter()
            result = assistant.ask(q)
            total.append(time.perf_counter() - t0)
            retrieve.append(result.timings.get("retrieve", 0.0))
            answer.append(result.timings.get("answer", 0.0))
            refused += result.refused if n == 1 else 0
        out[f"pass{n}"] = {"total": stats(total), "retrieve": stats(retrieve),
                           "answer": stats(answer)}
    out["refused_pass1"] = refused
    return out


def model_load_seconds() -> float:
    """Reading the shipped answer models from JSON, cold (the selector, the answerability
    model and the short-span model; the learned answerer needs all three, extractive the last)."""
    from rag.answerers import model as models

    models.load.cache_clear()
    started = time.perf_counter()
    for name in ("selector", "answerability", "short"):
        models.load(name)
    return time.perf_counter() - started


def bench_openai(settings: Settings, questions: list[str], chunk_delay: float) -> dict[str, Any]:
    with FakeLLM(default=cite_first_sentence, chunk_delay=chunk_delay) as llm:
        s = settings.with_(llm_base_url=llm.base_url, llm_model="fake", llm_timeout=10,
                           llm_retries=0, answerer="openai")
        assistant = Assistant(s)
        assistant.ask("暖身 warm-up: 高雄")
        ttft, total, client_ttft, fallbacks = [], [], [], 0
        for q in questions:
            first, end, final = timed_stream(assistant.stream(q))
            ttft.append(first)
            total.append(end)
            fallbacks += bool(final and final.fallback)
            # The answerer alone on the passages just retrieved: HTTP + client overhead.
            passages = list(final.passages) if final else []
            if passages:
                t0 = time.perf_counter()
                next(iter(assistant.answerer.respond(q, passages, "zh-Hant")))
                client_ttft.append(time.perf_counter() - t0)
        return {"ttft": stats(ttft), "total": stats(total), "client_ttft": stats(client_ttft),
                "fallbacks": fallbacks, "chunk_delay_s": chunk_delay}


def timed_stream(stream: AnswerStream) -> tuple[float, float, Answer | None]:
    t0 = time.perf_counter()
    first = None
    for _ in stream:
        if first is None:
            first = time.perf_counter() - t0
    final = stream.answer()
    end = time.perf_counter() - t0
    return (first if first is not None else end), end, final


def cite_first_sentence(messages: list[dict[str, Any]]) -> str:
    """A plausible model reply: the first sentence of passage 1, cited."""
    shown = shown_passages(messages)
    if not shown:
        return "抱歉，提供的文章中沒有足夠資訊回答這個問題。"
    spans = split_sentences(shown[1])
    sentence = (spans[0].text if spans else shown[1]).rstrip("。")
    return f"{sentence}[1]。"


def stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    a = np.asarray(values) * 1000
    return {"n": len(values), "p50_ms": float(np.percentile(a, 50)),
            "p95_ms": float(np.percentile(a, 95)), "mean_ms": float(a.mean()),
            "max_ms": float(a.max())}


def print_report(report: dict[str, Any]) -> None:
    def row(name: str, s: dict[str, float]) -> str:
        return (f"  {name:<40} p50 {s['p50_ms']:8.1f} ms   p95 {s['p95_ms']:8.1f} ms   "
                f"mean {s['mean_ms']:8.1f} ms   max {s['max_ms']:8.1f} ms   (n={s['n']})")

    oa = report["openai"]
    print(f"questions: {report['questions']} from {GOLD.relative_to(ROOT)}")
    for name in ("extractive", "learned"):
        if name not in report:
            continue
        ex = report[name]
        print(f"{name} (warm-up {ex['warm_up_s']:.2f} s; answer models read in "
              f"{ex['model_load_s']:.2f} s; refused in pass 1: {ex['refused_pass1']})")
        for key in sorted(k for k in ex if k.startswith("pass")):
            label = "cold sentence cache" if key == "pass1" else "warm sentence cache"
            print(row(f"{key} ask total ({label})", ex[key]["total"]))
            print(row(f"{key}   retrieve", ex[key]["retrieve"]))
            print(row(f"{key}   answer", ex[key]["answer"]))
    print(f"openai via tests/fake_llm.py (instant model, {oa['chunk_delay_s']} s per piece; "
          f"fallbacks: {oa['fallbacks']})")
    print(row("time to first token (stream)", oa["ttft"]))
    print(row("full verified answer", oa["total"]))
    print(row("answerer alone: first token", oa["client_ttft"]))


if __name__ == "__main__":
    sys.exit(main())
