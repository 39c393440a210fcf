"""`rag ask "問題"`: the verified answer, how it was made, and its numbered sources."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rag.app.cli_args import add_filter_args, filters_from
from rag.config import Settings
from rag.safety import escape_controls, escape_json

FALLBACK_NOTE = "（LLM 失敗，改用抽取式 fallback）"


def register(sub: Any) -> None:
    p = sub.add_parser("ask", help="answer a question with citations 問答（附引用）")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--llm", metavar="NAME",
                   help="answerer: auto, extractive, learned or openai (default: RAG_ANSWERER)")
    p.add_argument("--strict", action="store_true",
                   help="fail when the LLM fails instead of answering extractively")
    p.add_argument("--k", type=int, help="passages given to the answerer (default: RAG_TOP_K)")
    add_filter_args(p)
    p.set_defaults(func=cmd_ask)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from rag.assistant import Assistant

    if args.k is not None:
        settings = settings.with_(top_k=args.k)
    assistant = Assistant(settings, answerer=args.llm, strict=args.strict)
    answer = assistant.ask(args.question, filters=filters_from(args))
    label = assistant.label + (FALLBACK_NOTE if answer.fallback else "")
    # Answers quote documents and LLM replies: every printed field is escaped (rag/safety.py),
    # so no control sequence reaches the terminal and no lone surrogate fails the encoding.
    for notice in answer.notices:
        print(f"注意 notice: {escape_controls(notice, newlines=False)}", file=sys.stderr)
    if args.json:
        print(escape_json(json.dumps({**answer.to_dict(), "label": label}, ensure_ascii=False,
                                     indent=2)))
        return 0
    print(escape_controls(answer.text))
    print(f"\n回答方式 backend: {escape_controls(label, newlines=False)}")
    if answer.citations:
        print("來源 sources:")
    for c in answer.citations:
        line = f"[{c.n}] {c.title} ({c.date or '日期不明'}) — 「{c.quote}」"
        print(escape_controls(line, newlines=False))
    return 0
