"""`rag serve [--host H] [--port P]`: the Gradio chat UI (see rag/app/ui.py)."""

from __future__ import annotations

import argparse
from typing import Any

from rag.config import Settings


def register(sub: Any) -> None:
    from rag.app.ui import add_server_args

    p = sub.add_parser("serve", help="open the chat UI 開啟聊天介面")
    add_server_args(p)
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from rag.app.ui import serve

    serve(settings, args.host, args.port)
    return 0
