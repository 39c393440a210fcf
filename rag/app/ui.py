"""The Gradio chat UI: `python app.py` or `rag serve` -> http://127.0.0.1:7860.

Pure parts first (data in, data out, unit-tested without a browser): `respond` (one turn as it
grows), `answer_queue` (a session's answering loop over its inbox), the control callbacks. Then
`build_app` (the gr.Blocks layout and its events), `ensure_index` (ingest the shipped corpus on
first run) and `serve`. Gradio is imported only by `build_app`/`launch`.

Nothing on the page talks to another host: analytics off, system fonts only, no external
scripts; the page's own script (ui_style.HEAD) copies answers, names chat messages for screen
readers and downloads the Markdown export, all in the browser."""

import argparse
import html
import logging
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.app.ui_page import TITLE, PageMeta
from rag.app.ui_render import (
    ALL_ARTICLES,
    EMPTY_SOURCES,
    UNEXPECTED,
    FilterView,
    describe_filters,
    export_markdown,
    make_filters,
    render_chat,
    render_sources,
)
from rag.app.ui_session import Inbox, Inboxes, Job, Turn
from rag.app.ui_style import HEAD, theme
from rag.config import Settings, prepare_process_env, shipped_corpus_dir
from rag.errors import RagError
from rag.feedback import MAX_COMMENT, Feedback, FeedbackLog, feedback_for
from rag.followup import history_of
from rag.manifest import open_manifest
from rag.schema import Answer

if TYPE_CHECKING:
    import gradio as gr

    from rag.assistant import Assistant


log = logging.getLogger(__name__)

CONCURRENCY = 4  # answers computed at once; the retriever serialises its own part anyway
QUEUE_SIZE = 64
PACE = 0.02  # seconds between revealed pieces of a long draft piece (Settings.ui_pace)
STEP = 4  # characters per revealed piece

# (question, a term that must occur in the corpus for the question to be offered)
EXAMPLES: tuple[tuple[str, str], ...] = (
    ("高雄何時加入 IURC？", "IURC"),
    ("橘郡郡長是誰？", "橘郡"),
    ("檳城吸引了多少家跨國公司進駐？", "檳城"),
    ("林欽榮率團去了哪裡？", "林欽榮"),
    ("總結一下燈塔計畫", "燈塔計畫"),
)
CATALOG_EXAMPLE = "有哪些文章？"  # offered with any corpus: what a newcomer asks first


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

    @property
    def titles(self) -> dict[str, str]:
        return {article_id: label for label, article_id in self.articles}


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
    return Corpus(n_articles, n_chunks, articles, (*examples, CATALOG_EXAMPLE))


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


# ------------------------------------------------------------------ one turn
def _reveal(piece: str, pace: float) -> Iterator[str]:
    if pace <= 0 or len(piece) <= STEP:
        yield piece
        return
    for i in range(0, len(piece), STEP):
        if i:
            time.sleep(pace)
        yield piece[i:i + STEP]


def _urls(assistant: "Assistant", answer: Answer) -> dict[str, str]:
    """Original URLs of the articles an answer cites or shows as related (where they have one)."""
    ids = {c.article_id for c in answer.citations} | {p.article_id for p in answer.related}
    out = {}
    for article_id in sorted(ids):
        article = assistant.retriever.article(article_id)
        if article is not None and article.url:
            out[article_id] = article.url
    return out


def respond(assistant: "Assistant", turn: Turn, earlier: Sequence[Turn], job: Job,
            pace: float = 0.0) -> Generator[Turn, None, None]:
    """One turn as it grows: searching (an empty draft), the draft, then the verified answer —
    or a friendly error; the conversation stays usable. Closing this generator (Stop, Clear, a
    closed page) closes the AnswerStream, which stops the work."""
    history = history_of([t.answer for t in earlier if t.answer is not None])
    stream = None
    try:
        filters = make_filters(job.after, job.before, job.article)
        stream = assistant.stream(job.question, history, filters)
        yield replace(turn, draft="")
        draft = ""
        for piece in stream:
            for part in _reveal(piece, pace):
                draft += part
                yield replace(turn, draft=draft)
        final = stream.answer()
        yield replace(turn, draft=None, answer=final, urls=_urls(assistant, final))
    except RagError as exc:
        yield replace(turn, draft=None, error=str(exc))
    except Exception:  # noqa: BLE001 - the page must keep working; the log has the traceback
        log.exception("answering %r failed", job.question)
        yield replace(turn, draft=None, error=UNEXPECTED)
    finally:
        if stream is not None:
            stream.close()


# ------------------------------------------------------------------ the session's loop
@dataclass(frozen=True)
class View:
    """What the page shows after a step: the turns, the waiting questions, whether it answers."""

    turns: tuple[Turn, ...]
    waiting: tuple[str, ...] = ()
    busy: bool = False


def answer_queue(assistant: "Assistant", inbox: Inbox, turns: Sequence[Turn],
                 titles: dict[str, str] | None = None, pace: float = 0.0) -> Iterator[View]:
    """The session's answering loop: takes questions out of its inbox in order and yields the
    page after every step. Yields nothing when another loop of the session already runs (it
    will take the new question). After Stop the running answer is closed and the loop goes on
    with the next question. After Clear (a new epoch) the running answer is closed, the loop
    yields the cleared page and goes on with whatever was sent since: its own stream, whose
    pieces arrive in order, ends on the cleared page. (Clear's reply comes on another channel;
    a piece sent just before Clear could land after it and repaint the old chat: CI saw it.)"""
    epoch = inbox.start()
    if epoch is None:
        return
    done = [t.stop() for t in turns]  # a turn left live by an interrupted loop stays stopped
    finished = painted = False
    try:
        while (job := inbox.take()) is not None:
            if not inbox.current(epoch):  # cleared while the loop waited: `turns` are gone
                epoch, done = inbox.epoch, []
            view = describe_filters(job.after, job.before, job.article, titles)
            turn = Turn(n=max((t.n for t in done), default=0) + 1, question=job.question,
                        draft="", filters=view.words,
                        limit=assistant.settings.max_question_chars)
            steps = respond(assistant, turn, done, job, pace)
            for turn in steps:
                if not inbox.current(epoch):
                    steps.close()
                    break
                if inbox.stopping():
                    steps.close()
                    turn = turn.stop()
                    break
                painted = True
                yield View(tuple([*done, turn]), tuple(inbox.waiting()), busy=True)
            if not inbox.current(epoch):  # Clear came during the answer or at its last piece
                epoch, done = inbox.epoch, []
                waiting = tuple(inbox.waiting())
                painted = True
                yield View((), waiting, busy=bool(waiting))
                continue
            done.append(turn.stop())
        finished = True
        if not inbox.current(epoch):  # cleared after the last question was answered
            done = []
        # Nothing painted: Clear took the question first, and `turns` may be the page before
        # it; the page already shows what Clear left.
        if painted:
            yield View(tuple(done), busy=False)
    finally:
        if not finished:
            inbox.leave()


# ------------------------------------------------------------------ controls (pure)
def queue_html(waiting: Sequence[str], busy: bool) -> str:
    """The line above the input: why Send waits, and the questions waiting in order."""
    if not waiting and not busy:
        return ""
    parts = []
    if busy:
        parts.append('<span class="rag-busy">回答中…新的問題會排隊，按「停止」可中斷。 Answering… '
                     "new questions wait in line; Stop ends this answer.</span>")
    if waiting:
        items = "".join(f"<li>{html.escape(q[:80] + ('…' if len(q) > 80 else ''))}</li>"
                        for q in waiting)
        parts.append(f'<span class="rag-queued">排隊中 Queued（{len(waiting)}）：</span>'
                     f'<ol class="rag-queue-list">{items}</ol>')
    return f'<div class="rag-queue-box">{"".join(parts)}</div>'


def turn_of_message(turns: Sequence[Turn], index: int | Sequence[int]) -> Turn | None:
    """The turn whose assistant message sits at `index` of the Chatbot's value."""
    at = int(index[0] if isinstance(index, Sequence) else index)
    messages = render_chat(turns)
    if not 0 <= at < len(messages) or messages[at]["role"] != "assistant":
        return None
    k = sum(1 for m in messages[:at] if m["role"] == "assistant")
    return turns[k] if k < len(turns) else None


def last_question(turns: Sequence[Turn]) -> tuple[list[Turn], str]:
    """The turns without the last one, and the last one's question (edit and regenerate)."""
    if not turns:
        return [], ""
    return list(turns[:-1]), turns[-1].question


class Ratings:
    """Ratings waiting for their optional comment, by feedback id (the newest few hundred)."""

    LIMIT = 512

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, Feedback] = {}

    def remember(self, record: Feedback) -> None:
        with self._lock:
            self._by_id[record.id] = record
            while len(self._by_id) > self.LIMIT:
                self._by_id.pop(next(iter(self._by_id)))

    def take(self, feedback_id: str) -> Feedback | None:
        with self._lock:
            return self._by_id.pop(feedback_id or "", None)


# ------------------------------------------------------------------ the page
# No `from __future__ import annotations` here: Gradio finds gr.Request / gr.LikeData parameters
# of the callbacks in build_app by their evaluated annotations.
def header_html(label: str, corpus: Corpus, status: str = "") -> str:
    status_line = f'<div class="rag-status">{html.escape(status)}</div>' if status else ""
    return (
        '<h1>新聞問答<span class="en">News Q&amp;A with citations</span></h1>'
        '<div class="rag-badges">'
        f'<span class="rag-badge" id="rag-backend"><b>回答引擎</b>{html.escape(label)}</span>'
        f'<span class="rag-badge" id="rag-corpus"><b>語料</b>{html.escape(corpus.badge)}</span>'
        f"</div>{status_line}")


def _filter_msg(view: FilterView) -> str:
    if not view.error:
        return ""
    return f'<div class="rag-error" role="alert">⚠ {html.escape(view.error)}</div>'


def build_app(assistant: "Assistant", corpus: Corpus | None = None, status: str = "",
              pace: float = PACE, concurrency: int = CONCURRENCY,
              feedback: FeedbackLog | None = None) -> "gr.Blocks":
    """The page; one shared Assistant; per-browser-session turns (a gr.State) and inbox."""
    import gradio as gr

    corpus = corpus or corpus_info(assistant.settings)
    feedback = feedback or FeedbackLog(assistant.settings.feedback_path)
    inboxes = Inboxes()
    ratings = Ratings()
    titles = corpus.titles

    def page(view: View) -> tuple[Any, ...]:
        idle = not view.busy
        has_turns = bool(view.turns)
        return (render_chat(view.turns), render_sources(view.turns), list(view.turns),
                queue_html(view.waiting, view.busy), gr.update(interactive=view.busy),
                gr.update(interactive=idle and has_turns),
                gr.update(interactive=idle and has_turns),
                export_markdown(view.turns) if has_turns else "")

    def submit(message: str | None, after: Any, before: Any, article: Any,
               request: gr.Request) -> tuple[Any, ...]:
        inbox = inboxes.get(request.session_hash)
        inbox.put(Job(message or "", after, before, article))
        return "", queue_html(inbox.waiting(), busy=True)

    def run(turns: list[Turn], request: gr.Request) -> Iterator[tuple[Any, ...]]:
        inbox = inboxes.get(request.session_hash)
        ran = False
        for view in answer_queue(assistant, inbox, turns or [], titles, pace):
            ran = True
            yield page(view)
        if not ran:  # another loop of this session answers; leave the page to it
            yield tuple(gr.skip() for _ in range(8))

    def stop(turns: list[Turn], request: gr.Request) -> tuple[Any, ...]:
        inbox = inboxes.get(request.session_hash)
        inbox.stop_current()
        stopped = [t.stop() for t in turns or []]
        return page(View(tuple(stopped), tuple(inbox.waiting()), busy=bool(inbox.waiting())))

    def clear(request: gr.Request) -> tuple[Any, ...]:
        inbox = inboxes.get(request.session_hash)
        inbox.interrupt(drop_waiting=True)
        return (*page(View(())), "", inbox.taken)

    def settle(taken: int, request: gr.Request) -> tuple[Any, ...]:
        """Clear's second paint, one round trip later: a loop's last page, sent just before
        Clear, may arrive after Clear's reply. Left alone when a question came since."""
        if inboxes.get(request.session_hash).idle_since(taken):
            return page(View(()))
        return tuple(gr.skip() for _ in range(8))

    def regenerate(turns: list[Turn], after: Any, before: Any, article: Any,
                   request: gr.Request) -> tuple[Any, ...]:
        inbox = inboxes.get(request.session_hash)
        if inbox.running:
            return tuple(gr.skip() for _ in range(8))
        kept, question = last_question(turns or [])
        inbox.put(Job(question, after, before, article))
        return page(View(tuple(kept), tuple(inbox.waiting()), busy=True))

    def edit(turns: list[Turn], request: gr.Request) -> tuple[Any, ...]:
        if inboxes.get(request.session_hash).running:
            return (*(gr.skip() for _ in range(8)), gr.skip())
        kept, question = last_question(turns or [])
        return (*page(View(tuple(kept))), question)

    def rate(turns: list[Turn], data: gr.LikeData) -> tuple[Any, ...]:
        turn = turn_of_message(turns or [], data.index)
        if turn is None or turn.answer is None:
            return "", gr.update(visible=False), gr.update(visible=False), ""
        record = feedback_for(turn.answer, liked=data.liked is True or data.liked == "Like")
        feedback.append(record)
        ratings.remember(record)
        return (record.id, gr.update(visible=True, value=""), gr.update(visible=True),
                '<div class="rag-thanks" role="status">感謝回饋！可以補充說明（選填）。 Thanks! '
                "Add a comment if you like (optional).</div>")

    def comment(rated_id: str, text: str) -> tuple[Any, ...]:
        record = ratings.take(rated_id)
        if record is not None and (text or "").strip():
            feedback.append(replace(record, comment=text.strip()[:MAX_COMMENT]))
        return ("", gr.update(visible=False, value=""), gr.update(visible=False),
                '<div class="rag-thanks" role="status">謝謝。 Thank you.</div>')

    def chips(after: Any, before: Any, article: Any) -> tuple[Any, ...]:
        view = describe_filters(after, before, article, titles)
        return (gr.update(value=f"{view.after} ✕" if view.after else "", visible=bool(view.after)),
                gr.update(value=f"{view.before} ✕" if view.before else "",
                          visible=bool(view.before)),
                gr.update(value=f"{view.article} ✕" if view.article else "",
                          visible=bool(view.article)),
                _filter_msg(view))

    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        gr.HTML(header_html(assistant.label, corpus, status), elem_id="rag-header",
                js_on_load=None)
        turns_state = gr.State([])
        rated = gr.State("")
        cleared = gr.State(0)  # the inbox's question count when Clear was pressed
        with gr.Row(elem_id="rag-main", equal_height=False):
            with gr.Column(scale=3, min_width=300, elem_id="rag-chat-col"):
                chatbot = gr.Chatbot(
                    label="對話 Chat", elem_id="rag-chat", height=520, latex_delimiters=[],
                    feedback_options=("Like", "Dislike"), buttons=[],
                    group_consecutive_messages=False,
                    placeholder="請輸入關於新聞的問題，回答會附上可點選的引用 [n]。<br>"
                                "Ask about the news; answers cite their sources.")
                with gr.Row(elem_id="rag-chips"):
                    chip_after = gr.Button("", visible=False, size="sm", scale=0,
                                           elem_id="rag-chip-after", elem_classes=["rag-chip"])
                    chip_before = gr.Button("", visible=False, size="sm", scale=0,
                                            elem_id="rag-chip-before", elem_classes=["rag-chip"])
                    chip_article = gr.Button("", visible=False, size="sm", scale=0,
                                             elem_id="rag-chip-article",
                                             elem_classes=["rag-chip"])
                filter_msg = gr.HTML("", elem_id="rag-filter-msg", js_on_load=None)
                with gr.Row(elem_id="rag-input-row", equal_height=True):
                    question = gr.Textbox(
                        label="問題 Question", show_label=False,
                        placeholder="輸入問題，按 Enter 送出 Type a question, press Enter",
                        lines=1, max_lines=4, scale=5, min_width=160, elem_id="rag-question")
                    send = gr.Button("送出 Send", variant="primary", scale=0, min_width=100,
                                     elem_id="rag-send")
                    stop_btn = gr.Button("停止 Stop", variant="stop", scale=0, min_width=100,
                                         interactive=False, elem_id="rag-stop")
                status_box = gr.HTML("", elem_id="rag-queue", js_on_load=None)
                with gr.Row(elem_id="rag-actions"):
                    regen_btn = gr.Button("重新回答 Regenerate", size="sm", interactive=False,
                                          elem_id="rag-regen")
                    edit_btn = gr.Button("修改上一題 Edit", size="sm",
                                         interactive=False, elem_id="rag-edit")
                    export_btn = gr.Button("匯出 Markdown Export", size="sm",
                                           elem_id="rag-export")
                    clear_btn = gr.Button("清除對話 Clear", size="sm", elem_id="rag-clear")
                export_text = gr.Textbox(visible="hidden", elem_id="rag-export-text")
                thanks = gr.HTML("", elem_id="rag-thanks", js_on_load=None)
                with gr.Row(elem_id="rag-comment-row"):
                    comment_box = gr.Textbox(label="意見（選填） Comment (optional)", visible=False,
                                             lines=1, max_lines=3, scale=5, elem_id="rag-comment")
                    comment_btn = gr.Button("送出意見 Send comment", visible=False, scale=0,
                                            min_width=150, elem_id="rag-comment-send")
                gr.Examples(examples=[[q] for q in corpus.examples], inputs=[question],
                            label="範例問題 Examples（點選後按送出）", elem_id="rag-examples")
                with gr.Accordion("篩選 Filters：日期與文章", open=False, elem_id="rag-filters"):
                    with gr.Row():
                        after = gr.Textbox(label="開始日期 From (YYYY-MM-DD)", max_lines=1,
                                           placeholder="2025-01-01", elem_id="rag-after")
                        before = gr.Textbox(label="結束日期 To (YYYY-MM-DD)", max_lines=1,
                                            placeholder="2025-12-31", elem_id="rag-before")
                    article = gr.Dropdown(
                        choices=[("全部文章 All articles", ALL_ARTICLES), *corpus.articles],
                        value=ALL_ARTICLES, label="文章 Article", elem_id="rag-article")
            with gr.Column(scale=2, min_width=280, elem_id="rag-sources-col"):
                sources = gr.HTML(EMPTY_SOURCES, elem_id="rag-sources", js_on_load=None,
                                  label="引用來源 Sources", show_label=False)

        shown = [chatbot, sources, turns_state, status_box, stop_btn, regen_btn, edit_btn,
                 export_text]
        filters_in = [after, before, article]
        answer_kw: dict[str, Any] = dict(concurrency_limit=concurrency, concurrency_id="answer",
                                         show_progress="hidden", trigger_mode="multiple")
        gr.on([question.submit, send.click], submit, inputs=[question, *filters_in],
              outputs=[question, status_box], queue=False, show_progress="hidden",
              trigger_mode="multiple").then(run, inputs=[turns_state], outputs=shown,
                                            **answer_kw)
        regen_btn.click(regenerate, inputs=[turns_state, *filters_in], outputs=shown,
                        queue=False, show_progress="hidden").then(
            run, inputs=[turns_state], outputs=shown, **answer_kw)
        stop_btn.click(stop, inputs=[turns_state], outputs=shown, queue=False,
                       show_progress="hidden")
        # Clear cancels no event: the running loop notices the new epoch and paints the
        # cleared page on its own stream (ordered after its earlier pieces).
        for clearing in (clear_btn.click, chatbot.clear):  # the chat's own 🗑 is Clear too
            clearing(clear, outputs=[*shown, question, cleared], queue=False,
                     show_progress="hidden").then(
                settle, inputs=[cleared], outputs=shown, queue=False, show_progress="hidden")
        edit_btn.click(edit, inputs=[turns_state], outputs=[*shown, question], queue=False,
                       show_progress="hidden")
        export_btn.click(None, inputs=[export_text], js="(md) => window.ragExport(md)")
        chatbot.like(rate, inputs=[turns_state], outputs=[rated, comment_box, comment_btn, thanks],
                     queue=False)
        gr.on([comment_btn.click, comment_box.submit], comment, inputs=[rated, comment_box],
              outputs=[rated, comment_box, comment_btn, thanks], queue=False)
        chip_outputs = [chip_after, chip_before, chip_article, filter_msg]
        # one dependency for five triggers: "always_last" so that a trigger arriving while
        # another runs (blur of one field, Enter in the next) is run after it, not dropped
        gr.on([after.blur, after.submit, before.blur, before.submit, article.change], chips,
              inputs=filters_in, outputs=chip_outputs, queue=False, show_progress="hidden",
              trigger_mode="always_last")
        _clear_on(chip_after, after, "", chips, filters_in, chip_outputs)
        _clear_on(chip_before, before, "", chips, filters_in, chip_outputs)
        _clear_on(chip_article, article, ALL_ARTICLES, chips, filters_in, chip_outputs)

        def forget(request: gr.Request) -> None:
            inboxes.drop(request.session_hash)

        app.unload(forget)
    return app


def _clear_on(chip: Any, target: Any, empty: Any, chips: Callable[..., Any],
              filters_in: list[Any], chip_outputs: list[Any]) -> None:
    """A chip's ✕: empty its filter input, then redraw the chips."""
    chip.click(lambda: empty, outputs=[target], queue=False, show_progress="hidden").then(
        chips, inputs=filters_in, outputs=chip_outputs, queue=False, show_progress="hidden")


def launch(app: "gr.Blocks", host: str, port: int, block: bool = True,
           quiet: bool = False) -> None:
    from starlette.middleware import Middleware

    app.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    app.launch(server_name=host, server_port=port, theme=theme(), head=HEAD, share=False,
               inbrowser=False, footer_links=[], show_error=False, ssr_mode=False, pwa=False,
               mcp_server=False, prevent_thread_lock=not block, quiet=quiet,
               app_kwargs={"middleware": [Middleware(PageMeta)]})


def serve(settings: Settings, host: str | None = None, port: int | None = None,
          block: bool = True) -> "gr.Blocks":
    """Ingest on first run, build the shared Assistant, warm it up, serve the page. The address
    is --host/--port, else Settings (GRADIO_SERVER_NAME/_PORT, RAG_SERVER_NAME/_PORT)."""
    from rag.assistant import Assistant

    host = host or settings.server_name
    port = port or settings.server_port
    status = ensure_index(settings)
    assistant = Assistant(settings)
    corpus = corpus_info(settings)
    print(f"回答引擎 backend: {assistant.label}；語料 corpus: {corpus.badge}", file=sys.stderr)
    if corpus.examples:  # load the models and indexes now, not on the first user's question
        try:
            assistant.warm_up((corpus.examples[0], "Kaohsiung"))
        except RagError as exc:
            print(f"警告 warning: warm-up failed: {exc}", file=sys.stderr)
    app = build_app(assistant, corpus, status, pace=settings.ui_pace)
    print(f"開啟 Open http://{host}:{port}", file=sys.stderr, flush=True)
    launch(app, host, port, block=block)
    return app


def add_server_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=None,
                        help="address to listen on (default: GRADIO_SERVER_NAME, RAG_SERVER_NAME "
                             "or 127.0.0.1; 0.0.0.0 for the LAN)")
    parser.add_argument("--port", type=int, default=None,
                        help="port (default: GRADIO_SERVER_PORT, RAG_SERVER_PORT or 7860)")


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
