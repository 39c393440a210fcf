"""Command-line flags that several `rag` subcommands share, and what they turn into."""

from __future__ import annotations

import argparse

from rag.schema import Filters


def add_filter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--after", help="ISO date (YYYY-MM-DD), inclusive")
    p.add_argument("--before", help="ISO date (YYYY-MM-DD), inclusive")
    p.add_argument("--article", action="append", help="restrict to an article id (repeatable)")


def filters_from(args: argparse.Namespace) -> Filters:
    """The retrieval Filters that add_filter_args' flags describe (InputError for a bad date)."""
    return Filters(after=args.after, before=args.before,
                   article_ids=tuple(args.article) if args.article else None)
