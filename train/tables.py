"""The command line shared by the word tables counted on the training split (the category
nouns, the word weights): `--min-articles`, `--out`, a bilingual error when a benchmark file
is missing."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import RagError


def table_main(argv: Sequence[str] | None, doc: str | None, default_min: int,
               default_out: Path, build: Callable[..., dict[str, Any]],
               write: Callable[[dict[str, Any], Path], None],
               summary: Callable[[dict[str, Any]], str]) -> int:
    """Builds the table from the benchmarks folder (RAG_BENCHMARKS_DIR) and writes it; exit 2
    when a benchmark file is missing, nothing written."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--min-articles", type=int, default=default_min)
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args(argv)
    if args.min_articles < 1:
        parser.error("--min-articles 至少為 1 must be at least 1")
    try:
        content = build(Settings.from_env().benchmarks_dir, min_articles=args.min_articles)
    except RagError as exc:  # a missing benchmark file says which and how to point at it
        print(exc, file=sys.stderr)
        return 2
    write(content, args.out)
    print(f"{summary(content)} -> {args.out}")
    return 0
