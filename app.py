"""新聞問答聊天介面 News Q&A chat UI: `python app.py [--host H] [--port P] [--data-dir DIR]`.

Opens http://127.0.0.1:7860 over the ingested corpus (ingesting the shipped corpus on first
run). The page itself lives in rag/app/ui.py; `rag serve` is the same thing."""

from __future__ import annotations

import sys

from rag.app.ui import main

if __name__ == "__main__":
    sys.exit(main())
