"""The external benchmark: DRCD dev as open-domain retrieval plus extractive-reader scoring."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval import metrics
from rag.config import Settings


@dataclass(frozen=True)
class Question:
    """A question; its gold item is the paragraph it was asked on (article id = paragraph id)."""

    qid: str
    text: str
    article_id: str
    answers: tuple[str, ...]


def load_drcd(path: str | Path) -> tuple[list[dict[str, str]], list[Question]]:
    """(records, questions): one record {id, title, text} per paragraph, every question."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"DRCD file not found: {path}; pass --drcd-path PATH")
    data = json.loads(path.read_text("utf-8"))
    records: list[dict[str, str]] = []
    questions: list[Question] = []
    for article in data["data"]:
        for para in article["paragraphs"]:
            pid = str(para["id"])
            records.append({"id": pid, "title": article["title"], "text": para["context"]})
            for qa in para["qas"]:
                answers = tuple(a["text"] for a in qa.get("answers", []))
                questions.append(Question(str(qa["id"]), qa["question"], pid, answers))
    return records, questions


def write_records(records: Sequence[dict[str, str]], path: Path) -> Path:
    """The paragraphs as a JSONL file that `rag ingest` reads as records."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


def evaluate_drcd(path: Path, settings: Settings, answerer: str | None, k: int,
                  answer_limit: int | None) -> dict[str, Any]:
    """Retrieval over every question; extractive answers over the first `answer_limit`
    questions (all when None): contains-gold rate and character EM/F1 of the shortest span."""
    from ingest.index import ingest
    from rag.answerers.span import shortest_span
    from rag.assistant import Assistant

    records, questions = load_drcd(path)
    summary = ingest([write_records(records, settings.data_dir / "drcd_paragraphs.jsonl")],
                     settings)
    if not summary.ok:
        raise SystemExit(f"DRCD ingest failed: {summary.failed[:3]}")
    assistant = Assistant(settings, answerer=answerer)
    ranks = []
    for q in questions:
        passages = assistant.retriever.retrieve(q.text, k=k)
        ranks.append(list(dict.fromkeys(p.article_id for p in passages)))
    gold = [[q.article_id] for q in questions]
    pairs = list(zip(ranks, gold, strict=True))
    report: dict[str, Any] = {
        "n_items": len(questions), "n_answerable": len(questions), "answerer": assistant.label,
        "retrieval": {
            "recall@1": _avg(metrics.hit_at_k(r, g, 1) for r, g in pairs),
            "recall@5": _avg(metrics.hit_at_k(r, g, 5) for r, g in pairs),
            "recall@10": _avg(metrics.hit_at_k(r, g, 10) for r, g in pairs),
            "mrr@10": _avg(metrics.reciprocal_rank(r, g) for r, g in pairs)}}
    asked = questions[:answer_limit] if answer_limit else questions
    rows = []
    for q in asked:
        answer = assistant.ask(q.text)
        span = "" if answer.refused else shortest_span(q.text, [c.quote for c in answer.citations])
        rows.append({
            "answer_contains_gold": float(any(metrics.fold(a) in metrics.fold(answer.text)
                                              for a in q.answers)),
            "span_em": metrics.max_over_refs(metrics.char_em, span, q.answers),
            "span_f1": metrics.max_over_refs(metrics.char_f1, span, q.answers),
            "refused": float(answer.refused)})
    report["overall"] = {key: _avg(r[key] for r in rows) for key in rows[0]} if rows else {}
    report["overall"]["n_answered_questions"] = len(rows)
    report["latency"], report["failures"] = {}, []
    return report


def _avg(values: Any) -> float:
    values = list(values)
    return round(sum(values) / len(values), 4) if values else 0.0
