"""The Gradio chat UI: `python app.py` or `rag serve` -> http://127.0.0.1:7860.

Pure callbacks first (data in, data out, unit-tested without a browser): `render_answer`,
`render_sources`, `respond`. Then `build_app` (the gr.Blocks layout), `ensure_index` (ingest the
shipped corpus on first run) and `serve`. Gradio is imported only by `build_app`/`serve`.

Nothing on the page talks to another host: analytics off, system fonts only, no external
scripts; [n] markers are plain anchor links (#src-n) and a CSS :target rule highlights the
source, so no custom JavaScript is needed either."""

from __future__ import annotations

import argparse
import html
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.app.ui_render import (
    ALL_ARTICLES,
    EMPTY_SOURCES,
    NO_SOURCES,
    PENDING_SOURCES,
    SEARCHING,
    UNEXPECTED,
    chat_messages,
    make_filters,
    md_text,
    plain_history,
    render_answer,
    render_draft,
    render_error,
    render_sources,
    retire_links,
)
from rag.app.ui_style import CSS, HEAD, theme
from rag.config import Settings, prepare_process_env, shipped_corpus_dir
from rag.errors import RagError
from rag.manifest import open_manifest

if TYPE_CHECKING:
    import gradio as gr

    from rag.assistant import Assistant


log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
CONCURRENCY = 4  # answers computed at once; the retriever serialises its own part anyway
QUEUE_SIZE = 64
PACE = 0.02  # seconds between revealed pieces of a long draft piece (typing effect)
STEP = 4  # characters per revealed piece

# (question, a term that must occur in the corpus for the question to be offered)
EXAMPLES: tuple[tuple[str, str], ...] = (
    ("高雄何時加入 IURC？", "IURC"),
    ("橘郡郡長是誰？", "橘郡"),
    ("檳城吸引了多少家跨國公司進駐？", "檳城"),
    ("林欽榮率團去了哪裡？", "林欽榮"),
)



# ------------------------------------------------------------------ corpus facts
@dataclass(frozen=True)
class Corpus:
    """What the page shows about the index: its size, the article list and example questions."""

    n_articles: int = 0
    n_chunks: int = 0
    articles: tuple[tuple[str, str], ...] = ()  # (dropdown label, article_id), newest first
    examples: tuple[str, ...] = ()

    @property
    def badge(self) -> str:
        return f"{self.n_articles} 篇文章 / {self.n_chunks} 段"


def corpus_info(settings: Settings) -> Corpus:
    with open_manifest(settings) as manifest:
        entries = [e for e in manifest.entries().values() if e.duplicate_of is None]
        n_articles, n_chunks = manifest.count()
    entries.sort(key=lambda e: (e.article.date, e.article.title), reverse=True)
    articles = tuple((f"{e.article.title}（{e.article.date or '日期不明'}）", e.article.article_id)
                     for e in entries)
    text = "\n".join(e.article.title + "\n" + e.article.body for e in entries)
    examples = tuple(q for q, term in EXAMPLES if term in text)
    if not examples:
        examples = tuple(f"「{e.article.title[:30]}」的重點是什麼？" for e in entries[:3])
    return Corpus(n_articles, n_chunks, articles, examples)


def ensure_index(settings: Settings, progress: bool = True) -> str:
    """Ingest the shipped corpus when the collection is empty (first run); a status line."""
    with open_manifest(settings) as manifest:
        n_articles, n_chunks = manifest.count()
    if n_articles:
        return f"索引就緒 Index ready：{n_articles} 篇文章 / {n_chunks} 段。"
    from ingest.index import ingest

    corpus = shipped_corpus_dir()
    print(f"索引是空的，正在匯入隨附語料 {corpus} … The index is empty; ingesting the shipped "
          "corpus (first run only).", file=sys.stderr, flush=True)
    summary = ingest([corpus], settings, progress=progress)
    for problem in summary.failed:
        print(f"失敗 failed: {problem}", file=sys.stderr)
    status = (f"首次啟動：已匯入隨附語料 {summary.total_articles} 篇文章 / "
              f"{summary.total_chunks} 段（{summary.seconds:.0f} 秒）。 "
              "First run: the shipped corpus was ingested.")
    print(status, file=sys.stderr, flush=True)
    return status


def _reveal(piece: str, pace: float) -> Iterator[str]:
    if pace <= 0 or len(piece) <= STEP:
        yield piece
        return
    for i in range(0, len(piece), STEP):
        if i:
            time.sleep(pace)
        yield piece[i:i + STEP]


def respond(assistant: Assistant, message: str | None, history: Sequence[Any] | None,
            after: Any = None, before: Any = None, article: str | None = None,
            pace: float = 0.0) -> Iterator[tuple[list[dict[str, str]], str]]:
    """One chat turn: yields (chat history, sources panel HTML), first with the question and a
    searching note, then the draft as it grows, then the verified answer with linked markers.
    Errors end the turn as a friendly message in the chat; the history stays usable."""
    previous = chat_messages(history)
    prior = plain_history(previous)
    chat = [retire_links(m) for m in previous]
    question = (message or "").strip()
    if question:
        chat.append({"role": "user", "content": md_text(question)})
    try:
        filters = make_filters(after, before, article)
        stream = assistant.stream(question, prior, filters)
        yield chat + [{"role": "assistant", "content": SEARCHING}], PENDING_SOURCES
        draft = ""
        for piece in stream:
            for part in _reveal(piece, pace):
                draft += part
                yield chat + [{"role": "assistant", "content": render_draft(draft)}], \
                    PENDING_SOURCES
        final = stream.answer()
        yield chat + [{"role": "assistant", "content": render_answer(final)}], \
            render_sources(final)
    except RagError as exc:
        yield chat + [{"role": "assistant", "content": render_error(str(exc))}], NO_SOURCES
    except Exception:  # noqa: BLE001 - the page must keep working; the log has the traceback
        log.exception("answering %r failed", question)
        yield chat + [{"role": "assistant", "content": render_error(UNEXPECTED)}], NO_SOURCES


# ------------------------------------------------------------------ the page

def header_html(label: str, corpus: Corpus, status: str = "") -> str:
    status_line = f'<div class="rag-status">{html.escape(status)}</div>' if status else ""
    return (
        '<h1>新聞問答<span class="en">News Q&amp;A with citations</span></h1>'
        '<div class="rag-badges">'
        f'<span class="rag-badge" id="rag-backend"><b>回答引擎</b>{html.escape(label)}</span>'
        f'<span class="rag-badge" id="rag-corpus"><b>語料</b>{html.escape(corpus.badge)}</span>'
        f"</div>{status_line}")


def build_app(assistant: Assistant, corpus: Corpus | None = None, status: str = "",
              pace: float = PACE, concurrency: int = CONCURRENCY) -> gr.Blocks:
    """The page; one shared Assistant, per-browser-session history (the Chatbot's value)."""
    import gradio as gr

    corpus = corpus or corpus_info(assistant.settings)

    def answer(question: str, history: list[Any], after: Any, before: Any, article: str
               ) -> Iterator[tuple[list[dict[str, str]], str]]:
        yield from respond(assistant, question, history, after, before, article, pace=pace)

    def take(message: str) -> tuple[str, str]:
        return "", message

    def clear() -> tuple[list[Any], str, str]:
        return [], EMPTY_SOURCES, ""

    with gr.Blocks(title="新聞問答 News Q&A", analytics_enabled=False) as app:
        gr.HTML(header_html(assistant.label, corpus, status), elem_id="rag-header",
                js_on_load=None)
        pending = gr.State("")
        with gr.Row(elem_id="rag-main", equal_height=False):
            with gr.Column(scale=3, min_width=340, elem_id="rag-chat-col"):
                chatbot = gr.Chatbot(
                    label="對話 Chat", elem_id="rag-chat", height=520, latex_delimiters=[],
                    feedback_options=None, buttons=["copy"], group_consecutive_messages=False,
                    placeholder="請輸入關於新聞的問題，回答會附上可點選的引用 [n]。<br>"
                                "Ask about the news; answers cite their sources.")
                with gr.Row(elem_id="rag-input-row", equal_height=True):
                    question = gr.Textbox(
                        show_label=False, placeholder="輸入問題，按 Enter 送出 Type a question",
                        lines=1, max_lines=4, scale=5, min_width=180, elem_id="rag-question")
                    send = gr.Button("送出 Send", variant="primary", scale=0, min_width=110,
                                     elem_id="rag-send")
                    clear_btn = gr.Button("清除對話 Clear", variant="secondary", scale=0,
                                          min_width=150, elem_id="rag-clear")
                gr.Examples(examples=[[q] for q in corpus.examples], inputs=[question],
                            label="範例問題 Examples（點選後按送出）", elem_id="rag-examples")
                with gr.Accordion("篩選 Filters：日期與文章", open=False, elem_id="rag-filters"):
                    with gr.Row():
                        after = gr.DateTime(include_time=False, type="string",
                                            label="開始日期 From", elem_id="rag-after")
                        before = gr.DateTime(include_time=False, type="string",
                                             label="結束日期 To", elem_id="rag-before")
                    article = gr.Dropdown(
                        choices=[("全部文章 All articles", ALL_ARTICLES), *corpus.articles],
                        value=ALL_ARTICLES, label="文章 Article", elem_id="rag-article")
            with gr.Column(scale=2, min_width=300, elem_id="rag-sources-col"):
                sources = gr.HTML(EMPTY_SOURCES, elem_id="rag-sources", js_on_load=None,
                                  label="引用來源 Sources", show_label=False)

        gr.on([question.submit, send.click], take, inputs=[question],
              outputs=[question, pending], queue=False, show_progress="hidden").then(
            answer, inputs=[pending, chatbot, after, before, article],
            outputs=[chatbot, sources], concurrency_limit=concurrency,
            concurrency_id="answer", show_progress="minimal")
        clear_btn.click(clear, outputs=[chatbot, sources, question], queue=False)
        chatbot.clear(lambda: EMPTY_SOURCES, outputs=[sources], queue=False)
    return app


def launch(app: gr.Blocks, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
           block: bool = True, quiet: bool = False) -> None:
    app.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    app.launch(server_name=host, server_port=port, theme=theme(), css=CSS, head=HEAD, share=False,
               inbrowser=False, footer_links=[], show_error=False, ssr_mode=False, pwa=False,
               mcp_server=False, prevent_thread_lock=not block, quiet=quiet)


def serve(settings: Settings, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          block: bool = True) -> gr.Blocks:
    """Ingest on first run, build the shared Assistant, warm it up, serve the page."""
    from rag.assistant import Assistant

    status = ensure_index(settings)
    assistant = Assistant(settings)
    corpus = corpus_info(settings)
    print(f"回答引擎 backend: {assistant.label}；語料 corpus: {corpus.badge}", file=sys.stderr)
    if corpus.examples:  # load the model and indexes now, not on the first user's question
        try:
            assistant.retriever.search(corpus.examples[0], settings.top_k)
        except RagError as exc:
            print(f"警告 warning: warm-up failed: {exc}", file=sys.stderr)
    app = build_app(assistant, corpus, status)
    print(f"開啟 Open http://{host}:{port}", file=sys.stderr, flush=True)
    launch(app, host, port, block=block)
    return app


def add_server_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}; 0.0.0.0 for the LAN)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT})")


def main(argv: Sequence[str] | None = None) -> int:
    """`python app.py [--host H] [--port P] [--data-dir DIR]`."""
    parser = argparse.ArgumentParser(prog="app.py", description="新聞問答聊天介面 News Q&A chat UI")
    add_server_args(parser)
    parser.add_argument("--data-dir", type=Path,
                        help="index folder (default: RAG_DATA_DIR or .rag)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        prepare_process_env()
        settings = Settings.from_env()
        if args.data_dir:
            settings = settings.with_(data_dir=args.data_dir)
        serve(settings, args.host, args.port)
    except RagError as exc:
        print(f"錯誤 Error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
