"""The chat UI's pure parts (rag/app/ui.py, ui_render.py, ui_session.py, ui_page.py) and its
callbacks with a real Assistant over the shipped corpus: turns that stream and keep their own
sources, the session's answering loop (queue, Stop, Clear), refusals that help, filters that
explain themselves, copy/export, feedback, the page's meta tags. The page in a real browser is
tests/test_ui_e2e.py."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from rag.app import ui, ui_page, ui_render, ui_style
from rag.app.ui_session import Inbox, Inboxes, Job, Turn
from rag.assistant import AnswerStream, Assistant
from rag.config import Settings, prepare_process_env
from rag.errors import InputError
from rag.feedback import FeedbackLog, feedback_for, read_feedback
from rag.prompt import REFUSALS
from rag.retrieve import Retriever
from rag.schema import Answer, Citation, Filters, Passage

IURC = "000_09d82b08e27ce1d6"
ORANGE = "003_78186f8d2590a0a8"
PENANG = "004_450bdcc5c9fbd5dc"
REFUSAL = REFUSALS["zh-Hant"]
UNANSWERABLE = "誰贏得了2024年世界大賽？"


@pytest.fixture(scope="module")
def assistant(indexed: Settings, embedder: object) -> Assistant:
    return Assistant(indexed, retriever=Retriever(indexed, embedder=embedder))  # type: ignore[arg-type]


class Spy:
    """Wraps the real Assistant; records what the UI passed to `stream` and whether each stream
    was closed."""

    def __init__(self, real: Assistant) -> None:
        self.real = real
        self.settings = real.settings
        self.label = real.label
        self.retriever = real.retriever
        self.calls: list[tuple[str, list[Any], Filters]] = []
        self.closed: list[bool] = []

    def stream(self, question: str, history: Sequence[Any] | None = None,
               filters: Filters | None = None) -> Tracked:
        self.calls.append((question, list(history or []), filters or Filters()))
        self.closed.append(False)
        return Tracked(self.real.stream(question, history, filters), self.closed,
                       len(self.closed) - 1)


class Tracked:
    """An AnswerStream that notes when it is closed."""

    def __init__(self, real: AnswerStream, closed: list[bool], index: int) -> None:
        self.real, self.closed, self.index = real, closed, index

    def __iter__(self) -> Iterator[str]:
        return iter(self.real)

    def answer(self) -> Answer:
        return self.real.answer()

    def close(self) -> None:
        self.closed[self.index] = True
        self.real.close()


def turn_steps(assistant: Any, question: str, earlier: Sequence[Turn] = (),
               n: int = 1, **filters: Any) -> list[Turn]:
    job = Job(question, filters.get("after"), filters.get("before"), filters.get("article"))
    return list(ui.respond(assistant, Turn(n=n, question=question, draft=""), earlier, job))


def ask(assistant: Any, question: str, earlier: Sequence[Turn] = (), **filters: Any) -> Turn:
    return turn_steps(assistant, question, earlier, n=len(earlier) + 1, **filters)[-1]


# ------------------------------------------------------------------ rendering (no index)
def _answer(text: str, quote: str, passage_text: str, title: str = "標題",
            reporter: str = "李翌淳", refused: bool = False, **extra: Any) -> Answer:
    start = passage_text.find(quote)
    passage = Passage(chunk_id="a#0", article_id="a", title=title, date="2025-04-16", index=0,
                      text=passage_text, start=100, end=100 + len(passage_text),
                      reporter=reporter)
    citation = Citation(n=1, article_id="a", title=title, date="2025-04-16", quote=quote,
                        start=100 + start, end=100 + start + len(quote), chunk_id="a#0")
    return Answer(question="問題", text=text, refused=refused,
                  citations=() if refused else (citation,), passages=(passage,), **extra)


def _turn(answer: Answer, n: int = 1, question: str = "問題", **kw: Any) -> Turn:
    return Turn(n=n, question=question, answer=answer, **kw)


def test_markers_link_to_their_own_turns_cards_and_text_is_escaped() -> None:
    answer = _answer("A <b>*粗體*</b> 句子[1]，未引用的[7]。", "句子", "前文句子後文")
    md = ui_render.render_answer(answer, 3)
    assert '<a class="cite-ref" href="#src-3-1" title="標題">[1]</a>' in md
    assert "<b>" not in md and "&lt;b&gt;" in md and r"\*粗體\*" in md
    assert r"\[7\]" in md and "#src-3-7" not in md  # a marker without a citation stays text


def test_every_answer_keeps_its_sources_newest_first() -> None:
    first = _turn(_answer("甲[1]", "高雄<市>", "前文高雄<市>後文", title="標題<script>x</script>"))
    second = _turn(_answer("乙[1]", "後文", "前文後文"), n=2, question="第二題")
    html = ui_render.render_sources([first, second])
    assert 'id="src-1-1"' in html and 'id="src-2-1"' in html
    assert html.index('id="src-2-1"') < html.index('id="src-1-1"')
    assert "前文<mark>高雄&lt;市&gt;</mark>後文" in html
    assert "<script>" not in html and "標題&lt;script&gt;" in html
    assert "2025-04-16" in html and "記者 李翌淳" in html
    chat = ui_render.render_chat([first, second])
    assert [m["role"] for m in chat] == ["user", "assistant", "user", "assistant"]
    assert 'href="#src-1-1"' in chat[1]["content"] and 'href="#src-2-1"' in chat[3]["content"]


def test_a_conversational_reply_says_it_is_not_from_the_articles() -> None:
    answer = Answer(question="你好", text="您好！", refused=False, conversational=True)
    assert ui_render.CHAT_SOURCES in ui_render.render_sources([_turn(answer)])


def test_a_quote_outside_the_passage_is_shown_alone() -> None:
    answer = _answer("句子[1]", "不在段落裡", "前文後文")
    assert "<mark>不在段落裡</mark>" in ui_render.render_sources([_turn(answer)])


def test_original_urls_are_links_only_when_http() -> None:
    answer = _answer("句子[1]", "句子", "句子")
    html = ui_render.render_sources([_turn(answer, urls={"a": "https://news.example/a?b=1&c=2"})])
    assert 'href="https://news.example/a?b=1&amp;c=2"' in html and "原文 Original" in html
    assert 'rel="noopener noreferrer"' in html
    unsafe = ui_render.render_sources([_turn(answer, urls={"a": "javascript:alert(1)"})])
    assert "javascript:" not in unsafe


def test_copy_is_plain_text_with_sources_and_export_is_markdown() -> None:
    answer = _answer("高雄*市*<b>[1]</b>", "高雄", "高雄市", title="高雄新聞")
    turn = _turn(answer, urls={"a": "https://news.example/a"})
    text = ui_render.copy_text(turn)
    assert text.startswith("高雄*市*<b>[1]</b>")  # the answer's own text, not the page markup
    assert "cite-ref" not in text and "\\" not in text
    assert "[1] 高雄新聞 (2025-04-16): 高雄" in text and "https://news.example/a" in text
    md = ui_render.export_markdown([turn, Turn(n=2, question="壞", error="問題是空的")])
    assert md.startswith("# 新聞問答") and "## 第 1 題 Q1" in md and "> 問題" in md
    assert "- [1] 高雄新聞 (2025-04-16): 高雄" in md and "⚠ 問題是空的" in md
    assert 'data-copy="高雄*市*&lt;b&gt;[1]&lt;/b&gt;' in ui_render.render_sources([turn])


def test_a_refusal_shows_related_passages_never_as_citations() -> None:
    refused = _answer(REFUSAL, "句子", "前文句子後文", refused=True,
                      related=(_answer("x", "句子", "相關段落").passages[0],))
    html = ui_render.render_sources([_turn(refused)])
    assert ui_render.RELATED_HEAD in html and "相關段落" in html
    assert "src-card" not in html and "<mark>" not in html and "src-1-" not in html
    message = ui_render.render_turn(_turn(refused))
    assert "cite-ref" not in message and "Related passages" in message


def test_filters_that_exclude_the_answer_say_so() -> None:
    refused = _answer(REFUSAL, "句子", "句子", refused=True, filters_excluded=True)
    assert ui_render.FILTERS_EXCLUDE in ui_render.render_turn(_turn(refused))


def test_a_truncated_question_is_shown_whole_with_a_prominent_notice() -> None:
    long = "高" * 5000
    turn = _turn(_answer("句子[1]", "句子", "句子"), question=long, limit=500)
    chat = ui_render.render_chat([turn])
    assert chat[0]["content"] == long
    assert chat[1]["content"].startswith('<div class="rag-warn">⚠ 問題有 5,000 字，只用了前 500 字')
    assert ui_render.truncation_notice(_turn(turn.answer, question="短", limit=500)) == ""


def test_live_stopped_and_failed_turns() -> None:
    assert ui_render.render_turn(Turn(n=1, question="q", draft="")) == ui_render.SEARCHING
    assert ui_render.render_turn(Turn(n=1, question="q", draft="半句")).endswith(ui_render.CURSOR)
    stopped = Turn(n=1, question="q", draft="半句").stop()
    assert stopped.stopped
    assert "半句" in ui_render.render_turn(stopped) and ui_render.STOPPED in ui_render.render_turn(
        stopped)
    assert ui_render.ERROR_CLASS in ui_render.render_turn(Turn(n=1, question="q", error="壞"))
    assert 'class="src-group"' in ui_render.render_sources([Turn(n=1, question="q", draft="")])


@pytest.mark.parametrize(("after", "before", "article", "expected"), [
    (None, None, None, Filters()),
    ("", "", ui_render.ALL_ARTICLES, Filters()),
    ("2025-01-01", "2025-12-31 00:00:00", PENANG, Filters("2025-01-01", "2025-12-31", (PENANG,))),
])
def test_filter_inputs_become_filters(after: Any, before: Any, article: Any,
                                      expected: Filters) -> None:
    assert ui_render.make_filters(after, before, article) == expected


@pytest.mark.parametrize(("after", "before"), [
    ("2025-13-01", None), ("2025/13/45", None), ("明天", None), ("2025-05", None),
    (None, "2025-02-30"), ("2025-05-01", "2025-01-01")])
def test_bad_dates_are_input_errors_and_chips_show_no_stale_value(after: Any,
                                                                    before: Any) -> None:
    with pytest.raises(InputError, match="YYYY-MM-DD|晚於"):
        ui_render.make_filters(after, before)
    view = ui_render.describe_filters(after, before, None)
    assert view.error and ("YYYY-MM-DD" in view.error or "晚於" in view.error)
    if after and before is None:
        assert view.after is None  # an invalid date is never shown (or applied) as a filter


def test_chips_name_every_active_filter() -> None:
    view = ui_render.describe_filters("2024-01-01", "2024-12-31", PENANG,
                                      {PENANG: "高雄與檳城攜手共創智慧綠色未來（2024-10-19）"})
    assert view.after == "自 From 2024-01-01" and view.before == "至 To 2024-12-31"
    assert view.article is not None and view.article.startswith("文章 Article：高雄與檳城")
    assert not view.error and "2024-01-01" in view.words


def test_queue_line_says_why_and_lists_waiting_questions() -> None:
    assert ui.queue_html([], busy=False) == ""
    line = ui.queue_html(["第二題<b>"], busy=True)
    assert "排隊中 Queued（1）" in line and "第二題&lt;b&gt;" in line and "停止" in line


# ------------------------------------------------------------------ the inbox (no index)
def test_inbox_loop_hands_over_without_stranding_a_question() -> None:
    inbox = Inbox()
    inbox.put(Job("a"))
    assert inbox.start() == 0 and inbox.start() is None  # one loop per session
    assert inbox.take() == Job("a")
    assert inbox.take() is None and not inbox.running  # empty: the loop leaves atomically...
    inbox.put(Job("b"))
    assert inbox.start() == 0  # ...so the next question's loop starts
    inbox.interrupt(drop_waiting=True)
    assert not inbox.current(0) and inbox.waiting() == []
    inbox.stop_current()
    assert inbox.stopping()
    assert inbox.take() is None and not inbox.stopping()


def test_clear_paints_again_only_when_no_question_came_since() -> None:
    inbox = Inbox()
    inbox.interrupt(drop_waiting=True)
    taken = inbox.taken
    assert inbox.idle_since(taken)
    inbox.put(Job("a"))
    assert not inbox.idle_since(taken)  # waiting
    assert inbox.start() is not None and inbox.take() == Job("a")
    assert not inbox.idle_since(taken)  # being answered
    assert inbox.take() is None and not inbox.idle_since(taken)  # answered since


def test_inboxes_are_per_session() -> None:
    boxes = Inboxes()
    boxes.get("s1").put(Job("a"))
    assert boxes.get("s2").waiting() == [] and boxes.get("s1").waiting() == ["a"]
    boxes.drop("s1")
    assert boxes.get("s1").waiting() == [] and len(boxes) == 2


def test_message_index_maps_to_its_turn() -> None:
    turns = [Turn(n=1, question="", error="空"), _turn(_answer("x[1]", "x", "x"), n=2)]
    chat = ui_render.render_chat(turns)
    assert [m["role"] for m in chat] == ["assistant", "user", "assistant"]
    assert ui.turn_of_message(turns, 2) is turns[1] and ui.turn_of_message(turns, 1) is None
    assert ui.turn_of_message(turns, [0]) is turns[0] and ui.turn_of_message(turns, 9) is None


# ------------------------------------------------------------------ feedback, page, settings
def test_feedback_is_appended_without_who_gave_it(tmp_path: Path) -> None:
    log = FeedbackLog(tmp_path / "data" / "feedback.jsonl")
    answer = _answer("高雄[1]", "高雄", "高雄市")
    record = feedback_for(answer, liked=False, comment="  不對  ")
    log.append(record)
    log.append(feedback_for(answer, liked=True))
    lines = [json.loads(x) for x in (tmp_path / "data" / "feedback.jsonl").read_text(
        encoding="utf-8").splitlines()]
    assert [x["rating"] for x in lines] == ["down", "up"]
    assert set(lines[0]) == {"id", "time", "rating", "question", "answer", "refused",
                             "citations", "backend", "comment"}
    assert lines[0]["comment"] == "不對" and lines[0]["citations"][0]["quote"] == "高雄"
    log.append(feedback_for(answer, liked=False, comment="補充", feedback_id=record.id))
    latest = {r["id"]: r for r in read_feedback(log.path)}
    assert latest[record.id]["comment"] == "補充" and len(latest) == 2


def test_page_meta_describes_this_product_and_names_no_outside_host() -> None:
    import gradio

    template = Path(gradio.__file__).parent / "templates" / "frontend" / "index.html"
    page = ui_page.rewrite_page(template.read_text(encoding="utf-8"))
    assert '<html\n\tlang="zh-Hant"' in page or 'lang="zh-Hant"' in page.split(">")[0] + ">"
    assert "Click to try out" not in page and "githubusercontent" not in page
    assert "gradio.app" not in page and "@Gradio" not in page and "@teamGradio" not in page
    assert page.count('property="og:title"') == 1 and "新聞問答" in page
    assert 'name="twitter:card" content="summary"' in page


def test_gradio_server_variables_are_defaults_under_the_flags() -> None:
    base = Settings.from_env({})
    assert (base.server_name, base.server_port) == ("127.0.0.1", 7860)
    s = Settings.from_env({"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "8080"})
    assert (s.server_name, s.server_port) == ("0.0.0.0", 8080)
    s = Settings.from_env({"GRADIO_SERVER_PORT": "8080", "RAG_SERVER_PORT": "9000"})
    assert s.server_port == 9000
    parser = __import__("argparse").ArgumentParser()
    ui.add_server_args(parser)
    args = parser.parse_args([])
    assert args.host is None and args.port is None  # so the settings decide
    assert parser.parse_args(["--port", "7000"]).port == 7000


# ------------------------------------------------------------------ with the real Assistant
def test_a_turn_streams_searching_then_draft_then_answer(assistant: Assistant) -> None:
    steps = turn_steps(assistant, "高雄何時加入 IURC？")
    assert steps[0].live and steps[0].draft == ""
    final = steps[-1]
    assert not final.live and final.answer is not None and "2025年8月" in final.answer.text
    chat = ui_render.render_chat([final])
    assert chat[0] == {"role": "user", "content": "高雄何時加入 IURC？"}
    assert '<a class="cite-ref" href="#src-1-1"' in chat[1]["content"]
    sources = ui_render.render_sources([final])
    assert 'id="src-1-1"' in sources and "<mark>" in sources and "2026-02-07" in sources


def test_closing_a_turn_closes_its_answer_stream(assistant: Assistant) -> None:
    spy = Spy(assistant)
    steps = ui.respond(spy, Turn(n=1, question="q", draft=""), [], Job("高雄何時加入 IURC？"))
    next(steps)  # searching
    steps.close()  # what Stop, Clear and a closed page do
    assert spy.closed == [True]


def test_unanswerable_question_is_refused_with_related_passages(assistant: Assistant) -> None:
    turn = ask(assistant, UNANSWERABLE)
    assert turn.answer is not None and turn.answer.text == REFUSAL and turn.answer.refused
    assert 2 <= len(turn.answer.related) <= 3 and not turn.answer.citations
    html = ui_render.render_sources([turn])
    assert ui_render.RELATED_HEAD in html and "<mark>" not in html


def test_filters_that_exclude_the_answer_are_named(assistant: Assistant) -> None:
    turn = ask(assistant, "高雄何時加入 IURC？", before="2020-01-01")
    assert turn.answer is not None and turn.answer.refused and turn.answer.filters_excluded
    assert ui_render.FILTERS_EXCLUDE in ui_render.render_turn(turn)
    turn = ask(assistant, "高雄何時加入 IURC？", article=ORANGE)
    assert turn.answer is not None and turn.answer.refused and turn.answer.filters_excluded
    unfiltered = ask(assistant, UNANSWERABLE, after="2025-01-01")
    assert unfiltered.answer is not None and not unfiltered.answer.filters_excluded


def test_errors_are_friendly_and_the_next_turn_works(assistant: Assistant) -> None:
    empty = ask(assistant, "   ")
    assert "問題是空的" in empty.error and empty.answer is None
    bad = ask(assistant, "高雄？", [empty], after="2025-99-99")
    assert "開始日期格式不正確" in bad.error
    good = ask(assistant, "橘郡郡長是誰？", [empty, bad])
    assert good.answer is not None and "紐豪斯" in good.answer.text and good.n == 3


def test_an_unexpected_exception_is_not_shown_as_a_traceback(assistant: Assistant) -> None:
    class Broken(Spy):
        def stream(self, *args: Any, **kwargs: Any) -> AnswerStream:
            raise ZeroDivisionError("boom")

    turn = ask(Broken(assistant), "高雄？")
    assert turn.error == ui_render.UNEXPECTED and "boom" not in turn.error


def test_a_follow_up_gets_the_previous_answers_and_their_article(assistant: Assistant) -> None:
    spy = Spy(assistant)
    first = ask(spy, "高雄市是什麼時候正式獲邀加入歐盟 IURC 計畫的？")
    assert first.answer is not None and not first.answer.refused
    second = ask(spy, "那是誰帶隊的？", [first])
    question, history, _ = spy.calls[-1]
    assert question == "那是誰帶隊的？"
    assert history[0] == {"role": "user", "content": first.answer.question}
    assert history[1]["article_ids"] == [IURC] and "<" not in history[1]["content"]
    assert second.answer is not None and {p.article_id for p in second.answer.passages} == {IURC}
    switched = ask(spy, "那橘郡郡長呢？", [ask(spy, "高雄市長是誰？")])
    assert switched.answer is not None and "紐豪斯" in switched.answer.text


def _drain(assistant: Any, inbox: Inbox, turns: Sequence[Turn] = ()) -> Iterator[ui.View]:
    return ui.answer_queue(assistant, inbox, list(turns))


def test_questions_sent_while_answering_wait_in_line(assistant: Assistant) -> None:
    inbox = Inbox()
    inbox.put(Job("高雄何時加入 IURC？"))
    loop = _drain(assistant, inbox)
    first = next(loop)
    inbox.put(Job("橘郡郡長是誰？"))  # sent while the first answer streams
    assert list(_drain(assistant, inbox)) == []  # a second loop leaves it to the running one
    views = [first, *loop]
    assert any(v.waiting == ("橘郡郡長是誰？",) and v.busy for v in views)
    final = views[-1]
    assert not final.busy and [t.question for t in final.turns] == [
        "高雄何時加入 IURC？", "橘郡郡長是誰？"]
    assert all(t.answer is not None for t in final.turns) and final.turns[1].n == 2


def test_stop_ends_the_running_answer_and_the_queue_goes_on(assistant: Assistant) -> None:
    spy = Spy(assistant)
    inbox = Inbox()
    inbox.put(Job("高雄何時加入 IURC？"))
    inbox.put(Job("橘郡郡長是誰？"))
    loop = _drain(spy, inbox)
    next(loop)  # searching
    inbox.stop_current()
    views = list(loop)
    turns = views[-1].turns
    assert turns[0].stopped and turns[0].answer is None and spy.closed[0]
    assert turns[1].answer is not None and "紐豪斯" in turns[1].answer.text


def test_clear_closes_the_answer_and_the_loop_ends_on_the_cleared_page(
        assistant: Assistant) -> None:
    """The loop's own stream ends on the cleared page: a piece it sent just before Clear may
    reach the browser after Clear's reply (CI saw the old chat come back)."""
    spy = Spy(assistant)
    inbox = Inbox()
    inbox.put(Job("高雄何時加入 IURC？"))
    inbox.put(Job("橘郡郡長是誰？"))
    loop = _drain(spy, inbox)
    next(loop)
    inbox.interrupt(drop_waiting=True)
    rest = list(loop)
    assert rest and all(v.turns == () for v in rest) and not rest[-1].busy
    assert spy.closed == [True] and not inbox.running
    inbox.put(Job("橘郡郡長是誰？"))
    assert list(_drain(spy, inbox))[-1].turns[0].n == 1  # the session works after Clear


def test_a_question_sent_right_after_clear_is_answered_on_the_cleared_page(
        assistant: Assistant) -> None:
    """Clear, then Send before the running loop notices: the new question's own loop leaves
    it to the running one, which must answer it, not strand it."""
    before = list(_drain(assistant, _inbox("高雄何時加入 IURC？")))[-1].turns
    inbox = _inbox("檳城吸引了多少家跨國公司進駐？")
    loop = _drain(assistant, inbox, before)
    next(loop)
    inbox.interrupt(drop_waiting=True)
    inbox.put(Job("橘郡郡長是誰？"))
    assert list(_drain(assistant, inbox)) == []  # the running loop takes it
    after = list(loop)
    assert after[0].turns == () and after[0].waiting == ("橘郡郡長是誰？",)  # cleared at once
    final = after[-1]
    assert [t.question for t in final.turns] == ["橘郡郡長是誰？"] and final.turns[0].n == 1
    assert final.turns[0].answer is not None and not inbox.running and not inbox.waiting()


def test_a_loop_started_after_clear_leaves_the_cleared_page_alone(assistant: Assistant) -> None:
    """Clear dropped the question before its loop started; the loop's `turns` were read before
    Clear emptied the page, so showing them would bring the cleared chat back."""
    before = list(_drain(assistant, _inbox("高雄何時加入 IURC？")))[-1].turns
    inbox = _inbox("橘郡郡長是誰？")
    inbox.interrupt(drop_waiting=True)  # Clear, between Send and the loop's start
    assert list(_drain(assistant, inbox, before)) == [] and not inbox.running


def test_clear_after_the_last_piece_ends_on_the_cleared_page(assistant: Assistant) -> None:
    """The loop waits at its last piece while the page shows it; Clear comes then. Resumed, it
    must end on the cleared page, not the finished chat (test_ui_e2e's Clear step saw it)."""
    steps = len(list(_drain(assistant, _inbox("橘郡郡長是誰？")))) - 1  # pieces before the final
    inbox = _inbox("橘郡郡長是誰？")
    loop = _drain(assistant, inbox)
    for _ in range(steps):
        assert next(loop).busy
    inbox.interrupt(drop_waiting=True)
    rest = list(loop)
    assert rest and all(v.turns == () for v in rest) and not inbox.running


class _ClearedWhenEmpty(Inbox):
    """Clear pressed between the loop's last take and its final page."""

    def take(self) -> Job | None:
        job = super().take()
        if job is None:
            self.interrupt(drop_waiting=True)
        return job


def test_clear_after_the_last_question_was_taken_ends_on_the_cleared_page(
        assistant: Assistant) -> None:
    inbox = _ClearedWhenEmpty()
    inbox.put(Job("橘郡郡長是誰？"))
    views = list(_drain(assistant, inbox))
    assert views[-2].turns and views[-1].turns == () and not views[-1].busy


class _ClearedBeforeSecondTake(Inbox):
    """Clear, then a new question, both between the loop's first answer and its next take."""

    def take(self) -> Job | None:
        if self.taken == 1:
            self.interrupt(drop_waiting=False)
        return super().take()


def test_a_question_taken_after_clear_is_answered_on_the_cleared_page(
        assistant: Assistant) -> None:
    inbox = _ClearedBeforeSecondTake()
    inbox.put(Job("高雄何時加入 IURC？"))
    inbox.put(Job("橘郡郡長是誰？"))
    final = list(_drain(assistant, inbox))[-1]
    assert [t.question for t in final.turns] == ["橘郡郡長是誰？"] and final.turns[0].n == 1
    assert final.turns[0].answer is not None


def _inbox(*questions: str) -> Inbox:
    inbox = Inbox()
    for q in questions:
        inbox.put(Job(q))
    return inbox


def test_two_sessions_share_one_assistant_without_mixing(assistant: Assistant) -> None:
    questions = {"a": "高雄何時加入 IURC？", "b": "檳城吸引了多少家跨國公司進駐？",
                 "c": "橘郡郡長是誰？"}
    expected = {"a": "2025年8月", "b": "300家", "c": "紐豪斯"}
    results: dict[str, ui.View] = {}

    def session(key: str) -> None:
        inbox = Inbox()
        inbox.put(Job(questions[key]))
        results[key] = list(_drain(assistant, inbox))[-1]

    threads = [threading.Thread(target=session, args=(k,)) for k in questions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for key, view in results.items():
        (turn,) = view.turns
        assert turn.question == questions[key] and turn.answer is not None
        assert expected[key] in turn.answer.text
    assert len(results) == 3


# ------------------------------------------------------------------ corpus, first run, page
def test_corpus_info_counts_articles_and_offers_examples(indexed: Settings) -> None:
    corpus = ui.corpus_info(indexed)
    assert corpus.n_articles == 5 and corpus.n_chunks > 5
    assert corpus.badge == f"5 篇文章 / {corpus.n_chunks} 段"
    assert {article_id for _, article_id in corpus.articles} >= {IURC, ORANGE, PENANG}
    assert corpus.articles[0][1] == IURC  # newest first
    assert "高雄何時加入 IURC？" in corpus.examples and "橘郡郡長是誰？" in corpus.examples
    assert corpus.examples[-1] == "有哪些文章？" and "總結一下燈塔計畫" in corpus.examples


def test_ensure_index_ingests_the_shipped_corpus_only_when_empty(
        indexed: Settings, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.index

    calls: list[list[Path]] = []

    def fake_ingest(paths: list[Path], s: Settings, progress: bool = True) -> Any:
        calls.append(list(paths))
        return ingest.index.Summary(total_articles=5, total_chunks=41)

    monkeypatch.setattr(ingest.index, "ingest", fake_ingest)
    assert ui.ensure_index(indexed).startswith("索引就緒") and calls == []
    status = ui.ensure_index(settings, progress=False)
    assert calls == [[ui.shipped_corpus_dir()]]
    assert "首次啟動" in status and "5 篇文章 / 41 段" in status


def test_build_app_has_analytics_off_and_system_fonts(assistant: Assistant) -> None:
    import os

    import gradio as gr

    app = ui.build_app(assistant)
    assert isinstance(app, gr.Blocks) and app.analytics_enabled is False
    prepare_process_env()  # every entry point calls it before gradio is imported
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    fonts = ui_style.theme()._font  # no gr.themes.GoogleFont: it would load from a CDN
    assert fonts and all(isinstance(f, str) for f in fonts)
    for text in (ui_style.CSS, ui_style.HEAD):
        assert "googleapis" not in text and "@import" not in text and "http" not in text
