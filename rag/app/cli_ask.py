"""`rag ask "問題"`: the verified answer, how it was made, and its numbered sources."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rag.app.cli_args import add_filter_args, filters_from
from rag.config import Settings

FALLBACK_NOTE = "（LLM 失敗，改用抽取式 fallback）"


def register(sub: Any) -> None:
    p = sub.add_parser("ask", help="answer a question with citations 問答（附引用）")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--llm", metavar="NAME",
                   help="answerer: auto, extractive or openai (default: RAG_ANSWERER)")
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
    for notice in answer.notices:
        print(f"注意 notice: {notice}", file=sys.stderr)
    if args.json:
        print(json.dumps({**answer.to_dict(), "label": label}, ensure_ascii=False, indent=2))
        return 0
    print(answer.text)
    print(f"\n回答方式 backend: {label}")
    if answer.citations:
        print("來源 sources:")
    for c in answer.citations:
        print(f"[{c.n}] {c.title} ({c.date or '日期不明'}) — 「{c.quote}」")
    return 0
