"""`rag eval import-feedback`: thumbs-down answers from the chat UI -> candidate gold items.

A candidate has the fields of eval/data/gold.jsonl with what feedback can tell filled in
(question, language, the articles the answer cited) and the rest left for a person: key facts and
evidence are empty, `answerable` starts true (a 👎 mostly means a wrong answer or a wrong
refusal; a person decides) and `review` holds the rated answer, its citations and the comment.
Questions already in the gold set, and repeats, are skipped."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from eval.dataset import GOLD_PATH, load_gold
from rag.feedback import DOWN, read_feedback
from rag.lang import detect_language
from rag.text import fold


def candidate(record: dict[str, Any]) -> dict[str, Any]:
    """One thumbs-down record as a gold item for review (id from the question, stable)."""
    question = str(record.get("question", "")).strip()
    digest = hashlib.sha1(fold(question).encode("utf-8")).hexdigest()[:8]
    citations = record.get("citations") or []
    return {
        "id": f"fb-{digest}", "question": question, "lang": detect_language(question),
        "answerable": True, "key_facts": [],
        "article_ids": sorted({str(c.get("article_id")) for c in citations
                               if isinstance(c, dict) and c.get("article_id")}),
        "evidence": [], "category": "feedback", "split": "heldout",
        "review": {"todo": "確認文章是否回答得了（answerable），填寫 key_facts 與 evidence。 "
                           "Decide whether the articles answer it (answerable); fill in "
                           "key_facts and evidence from the article body.",
                   "answer": record.get("answer", ""), "refused": bool(record.get("refused")),
                   "citations": citations, "comment": record.get("comment", ""),
                   "backend": record.get("backend", ""), "time": record.get("time", "")},
    }


def candidates(records: list[dict[str, Any]], known: set[str]) -> list[dict[str, Any]]:
    """Thumbs-down records not already in the gold set (`known`: folded questions), once each."""
    out: list[dict[str, Any]] = []
    seen = set(known)
    for record in records:
        question = str(record.get("question", "")).strip()
        if record.get("rating") != DOWN or not question or fold(question) in seen:
            continue
        seen.add(fold(question))
        out.append(candidate(record))
    return out


def write_candidates(source: Path, out: Path, gold: Path = GOLD_PATH) -> int:
    known = {fold(item.question) for item in load_gold(gold)} if gold.is_file() else set()
    items = candidates(read_feedback(source), known)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items),
                   encoding="utf-8")
    return len(items)
