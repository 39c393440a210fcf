"""The `rag` command line: ingest, search, ask, eval, serve. Errors become messages here."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ingest.load import format_names
from rag.app.cli_args import add_filter_args, filters_from
from rag.config import Settings, prepare_process_env, shipped_corpus_dir
from rag.errors import RagError
from rag.lease import WAIT_SECONDS
from rag.signals import HYBRID
from rag.signals import REGISTRY as SIGNALS

Command = Callable[[argparse.Namespace, Settings], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    prepare_process_env()
    try:
        settings = Settings.from_env()
        if args.collection:
            settings = settings.with_(collection=args.collection)
            settings.validate()
        command: Command = args.func
        return command(args, settings)
    except RagError as exc:
        if args.debug:
            raise
        print(f"錯誤 Error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中斷 Interrupted.", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag",
                                     description="新聞問答（附引用） News Q&A with citations")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--collection", help="Chroma collection (default: RAG_COLLECTION or news)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="ingest files and folders 匯入文章")
    p.add_argument("paths", nargs="*", help="files or folders (default: the shipped corpus)")
    p.add_argument("--rebuild", action="store_true",
                   help="build the collection anew beside the old one; swapped in when complete")
    p.add_argument("--prune", action="store_true",
                   help="remove articles whose source is gone and whose content was not found")
    p.add_argument("--replace", action="store_true",
                   help="an id already ingested from another file takes this file's content")
    p.add_argument("--wait", type=float, default=WAIT_SECONDS, metavar="SECONDS",
                   help="how long to wait for a running ingest of the same collection "
                   f"(default {WAIT_SECONDS:.0f}); then exit 2")
    p.add_argument("--format", dest="fmt", choices=format_names(), metavar="NAME",
                   help="read every file with this reader: " + ", ".join(format_names()))
    p.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                   help="embed on Ray workers: a cluster's ADDRESS (host:port or auto), or a "
                   "local instance when none is given (pip install -e '.[distributed]')")
    p.add_argument("--ray-workers", type=int, metavar="N",
                   help="Ray embedding workers (default: one per CPU of the cluster)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", help="retrieve passages 檢索段落")
    p.add_argument("query")
    p.add_argument("--k", type=int, default=10)
    add_filter_args(p)
    p.add_argument("--mode", choices=[HYBRID, *SIGNALS], default=HYBRID,
                   help="hybrid = every signal in RAG_SIGNALS, fused; or one signal alone")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)
    _add_later_commands(sub)
    return parser


def _add_later_commands(sub: Any) -> None:
    """Commands that live beside their stage; each imports its heavy parts only when run."""
    from eval import cli as eval_cli
    from rag.app import cli_ask, cli_serve
    from train import cli as train_cli

    for module in (cli_ask, eval_cli, cli_serve, train_cli):
        module.register(sub)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.index import ingest

    paths = args.paths or [str(shipped_corpus_dir())]
    embedder = None
    if args.ray is not None:  # the driver reads, chunks and writes; Ray workers embed
        from ingest.ray_embed import RayEmbedder

        embedder = RayEmbedder.start(settings, address=args.ray or None,
                                     workers=args.ray_workers)
    try:
        summary = ingest(paths, settings, rebuild=args.rebuild, prune=args.prune,
                         progress=not args.quiet, fmt=args.fmt, replace=args.replace,
                         wait=args.wait, notify=lambda line: print(line, file=sys.stderr),
                         embedder=embedder)
    finally:
        if embedder is not None:
            embedder.close()
    for warning in summary.warnings:
        print(f"警告 warning: {warning}", file=sys.stderr)
    for problem in summary.failed:
        print(f"失敗 failed: {problem}", file=sys.stderr)
    for article_id, original in summary.duplicates:
        print(f"重複 duplicate: {article_id} ≈ {original}（未重複索引 not indexed twice）")
    print(
        f"新增 added {len(summary.added)}, 更新 updated {len(summary.updated)}, "
        f"未變 unchanged {len(summary.unchanged)}, 重複 duplicates {len(summary.duplicates)}, "
        f"移除 pruned {len(summary.pruned)}, 失敗 failed {len(summary.failed)}; "
        f"寫入 {summary.chunks_written} chunks written; 索引共 {summary.total_articles} articles / "
        f"{summary.total_chunks} chunks in {settings.collection!r}; {summary.seconds:.2f} s"
    )
    return 0 if summary.ok else 1


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from rag.retrieve import Retriever
    from rag.safety import escape_controls, escape_json

    retriever = Retriever(settings, mode=args.mode)
    passages, notices = retriever.search(args.query, args.k, filters_from(args))
    for note in notices:
        print(f"注意 notice: {escape_controls(note, newlines=False)}", file=sys.stderr)
    if args.json:  # stored text is data: nothing in it may act on the terminal
        print(escape_json(json.dumps([p.to_dict() for p in passages], ensure_ascii=False,
                                     indent=2)))
        return 0
    if not passages:
        print("沒有找到相關段落。 No matching passages.")
    for rank, p in enumerate(passages, start=1):
        scores = " ".join(f"{k}={v:.3f}" for k, v in p.scores.items())
        head = f"[{rank}] {p.title} ({p.date or '日期不明'}) {p.chunk_id}"
        print(f"{escape_controls(head, newlines=False)}  score={p.score:.4f} {scores}")
        print("    " + escape_controls(p.text).replace("\n", "\n    "))
    return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
