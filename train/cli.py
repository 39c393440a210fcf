"""`rag train`: the training run as a subcommand (wired by rag's CLI with one `register`)."""

from __future__ import annotations

import argparse
from typing import Any

from rag.config import Settings


def register(sub: Any) -> None:
    p = sub.add_parser("train", help="fit the offline answerer's models 訓練抽取式回答模型")
    from train.run import add_arguments

    add_arguments(p)
    p.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from train.run import run_from_args

    return run_from_args(args, settings)
