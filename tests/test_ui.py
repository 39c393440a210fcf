"""The chat UI's callbacks (rag/app/ui.py) with a real Assistant over the shipped corpus: streaming,
citations as links and <mark>ed sources, refusals, friendly errors, filters, per-session history.
The page in a real browser is tests/test_ui_e2e.py."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from rag.app import ui, ui_render, ui_style
from rag.assistant import AnswerStream, Assistant
from rag.config import Settings, prepare_process_env
from rag.errors import InputError
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
    """Wraps the real Assistant and records what the UI passed to `stream`."""

    def __init__(self, real: Assistant) -> None:
        self.real = real
        self.settings = real.settings
        self.label = real.label
        self.calls: list[tuple[str, list[dict[str, str]], Filters]] = []

    def stream(self, question: str, history: Sequence[Any] | None = None,
               filters: Filters | None = None) -> AnswerStream:
        self.calls.append((question, list(history or []), filters or Filters()))
        return self.real.stream(question, history, filters)


def run(assistant: Any, message: str, history: list[Any] | None = None,
        **kwargs: Any) -> list[tuple[list[dict[str, str]], str]]:
    return list(ui.respond(assistant, message, history or [], **kwargs))


def last_reply(history: list[dict[str, str]]) -> str:
    assert history[-1]["role"] == "assistant"
    return history[-1]["content"]


# ------------------------------------------------------------------ rendering (no index)
def _answer(text: str, quote: str, passage_text: str, title: str = "標題",
            reporter: str = "李翌淳") -> Answer:
    start = passage_text.find(quote)
    passage = Passage(chunk_id="a#0", article_id="a", title=title, date="2025-04-16", index=0,
                      text=passage_text, start=100, end=100 + len(passage_text),
                      reporter=reporter)
    citation = Citation(n=1, article_id="a", title=title, date="2025-04-16", quote=quote,
                        start=100 + start, end=100 + start + len(quote), chunk_id="a#0")
    return Answer(question="問題", text=text, refused=False, citations=(citation,),
                  passages=(passage,))


def test_markers_become_links_and_text_is_escaped() -> None:
    answer = _answer("A <b>*粗體*</b> 句子[1]，未引用的[7]。", "句子", "前文句子後文")
    md = ui_render.render_answer(answer)
    assert '<a class="cite-ref" href="#src-1" title="標題">[1]</a>' in md
    assert "<b>" not in md and "&lt;b&gt;" in md and r"\*粗體\*" in md
    assert r"\[7\]" in md  # a marker without a citation stays text
    assert "href=\"#src-7\"" not in md


def test_sources_mark_the_quote_inside_the_passage_with_anchors() -> None:
    html = ui_render.render_sources(_answer("句子[1]", "高雄<市>", "前文高雄<市>後文",
                                     title="標題<script>x</script>"))
    assert 'id="src-1"' in html
    assert "前文<mark>高雄&lt;市&gt;</mark>後文" in html
    assert "<script>" not in html and "標題&lt;script&gt;" in html
    assert "2025-04-16" in html and "記者 李翌淳" in html


def test_a_quote_outside_the_passage_is_shown_alone() -> None:
    answer = _answer("句子[1]", "不在段落裡", "前文後文")
    assert "<mark>不在段落裡</mark>" in ui_render.render_sources(answer)


def test_gradio6_content_lists_and_links_read_back_as_plain_text() -> None:
    rendered = ui_render.render_answer(_answer("高雄*市*[1]", "高雄", "高雄市"))
    history = [{"role": "user", "content": [{"type": "text", "text": "高雄在哪？"}]},
               {"role": "assistant", "content": [{"type": "text", "text": rendered}]},
               {"role": "assistant", "content": ui_render.render_error("問題是空的")},
               {"role": "assistant", "content": ui_render.SEARCHING}]
    assert ui_render.plain_history(history) == [{"role": "user", "content": "高雄在哪？"},
                                         {"role": "assistant", "content": "高雄*市*[1]"}]


@pytest.mark.parametrize(("after", "before", "article", "expected"), [
    (None, None, None, Filters()),
    ("", "", ui_render.ALL_ARTICLES, Filters()),
    ("2025-01-01", "2025-12-31 00:00:00", PENANG, Filters("2025-01-01", "2025-12-31", (PENANG,))),
])
def test_filter_inputs_become_filters(after: Any, before: Any, article: Any,
                                      expected: Filters) -> None:
    assert ui_render.make_filters(after, before, article) == expected


@pytest.mark.parametrize(("after", "before"), [("2025-13-01", None), ("昨天", None),
                                               ("2025-05-01", "2025-01-01")])
def test_bad_dates_are_input_errors(after: Any, before: Any) -> None:
    with pytest.raises(InputError):
        ui_render.make_filters(after, before)


# ------------------------------------------------------------------ with the real Assistant
def test_streaming_yields_searching_then_growing_draft_then_final(assistant: Assistant) -> None:
    steps = run(assistant, "高雄何時加入 IURC？", pace=0.001)
    replies = [last_reply(h) for h, _ in steps]
    assert replies[0] == ui_render.SEARCHING and steps[0][1] == ui_render.PENDING_SOURCES
    drafts = [r for r in replies if r.endswith(ui_render.CURSOR)]
    assert len(drafts) >= 2
    assert all(len(a) < len(b) for a, b in zip(drafts, drafts[1:], strict=False))
    history, sources = steps[-1]
    final = last_reply(history)
    assert "2025年8月" in final and not final.endswith(ui_render.CURSOR)
    assert '<a class="cite-ref" href="#src-1"' in final
    assert history[0] == {"role": "user", "content": "高雄何時加入 IURC？"}
    assert 'id="src-1"' in sources and "<mark>" in sources and "2025年8月" in sources
    assert "2026-02-07" in sources and "記者 李翌淳" in sources


def test_unanswerable_question_shows_the_refusal_and_no_sources(assistant: Assistant) -> None:
    history, sources = run(assistant, UNANSWERABLE)[-1]
    assert last_reply(history) == REFUSAL
    assert sources.startswith(ui_render.NO_SOURCES) and "<mark>" not in sources


def test_rag_error_is_a_friendly_message_and_the_next_turn_works(assistant: Assistant) -> None:
    history, sources = run(assistant, "   ")[-1]
    reply = last_reply(history)
    assert ui_render.ERROR_CLASS in reply and "問題是空的" in reply and "Traceback" not in reply
    assert [m["role"] for m in history] == ["assistant"]
    history, _ = run(assistant, "2025-99-99", history, after="2025-99-99")[-1]
    assert "開始日期格式不正確" in last_reply(history)
    history, sources = run(assistant, "橘郡郡長是誰？", history)[-1]
    assert "紐豪斯" in last_reply(history) and "<mark>" in sources


def test_an_unexpected_exception_is_not_shown_as_a_traceback(assistant: Assistant) -> None:
    class Broken(Spy):
        def stream(self, *args: Any, **kwargs: Any) -> AnswerStream:
            raise ZeroDivisionError("boom")

    history, _ = run(Broken(assistant), "高雄？")[-1]
    assert ui_render.UNEXPECTED in last_reply(history) and "boom" not in last_reply(history)


def test_filters_are_passed_through_and_applied(assistant: Assistant) -> None:
    spy = Spy(assistant)
    history, sources = run(spy, "檳城吸引了多少家跨國公司進駐？", after="2024-01-01",
                           before="2024-12-31", article=PENANG)[-1]
    assert spy.calls[-1][2] == Filters("2024-01-01", "2024-12-31", (PENANG,))
    assert "300家" in last_reply(history) and "2024-10-19" in sources
    _, sources = run(spy, "高雄何時加入 IURC？", article=ORANGE)[-1]
    assert spy.calls[-1][2] == Filters(None, None, (ORANGE,))
    assert "2026-02-07" not in sources  # the IURC article is filtered out
    history, _ = run(spy, "高雄何時加入 IURC？", before="2020-01-01")[-1]
    assert last_reply(history) == REFUSAL  # nothing that old: no passages


def test_follow_up_gets_the_plain_history_and_older_links_retire(assistant: Assistant) -> None:
    spy = Spy(assistant)
    first, _ = run(spy, "高雄市長是誰？")[-1]
    assert "陳其邁" in last_reply(first)
    history, sources = run(spy, "那橘郡郡長呢？", first)[-1]
    question, passed, _ = spy.calls[-1]
    assert question == "那橘郡郡長呢？"
    assert passed[0] == {"role": "user", "content": "高雄市長是誰？"}
    assert passed[1]["role"] == "assistant" and "陳其邁" in passed[1]["content"]
    assert "<" not in passed[1]["content"]
    assert "橘郡郡長是誰" in sources  # the rewritten question is shown as a notice
    assert "紐豪斯" in last_reply(history)
    older = history[1]["content"]
    assert "cite-ref" not in older and '<span class="cite-old">[1]</span>' in older


def test_two_interleaved_sessions_keep_their_own_history(assistant: Assistant) -> None:
    spy = Spy(assistant)
    a = run(spy, "高雄市長是誰？")[-1][0]
    b = run(spy, "檳城吸引了多少家跨國公司進駐？")[-1][0]
    a = run(spy, "那橘郡郡長呢？", a)[-1][0]
    b = run(spy, "那高雄呢？", b)[-1][0]
    assert [m["content"] for m in a if m["role"] == "user"] == ["高雄市長是誰？", "那橘郡郡長呢？"]
    assert [m["content"] for m in b if m["role"] == "user"] == [
        "檳城吸引了多少家跨國公司進駐？", "那高雄呢？"]
    seen_by_a = [m["content"] for m in spy.calls[2][1] if m["role"] == "user"]
    seen_by_b = [m["content"] for m in spy.calls[3][1] if m["role"] == "user"]
    assert seen_by_a == ["高雄市長是誰？"] and seen_by_b == ["檳城吸引了多少家跨國公司進駐？"]


def test_concurrent_sessions_share_one_assistant_without_mixing(assistant: Assistant) -> None:
    from concurrent.futures import ThreadPoolExecutor

    questions = {"a": "高雄何時加入 IURC？", "b": "檳城吸引了多少家跨國公司進駐？",
                 "c": "橘郡郡長是誰？"}
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {k: pool.submit(run, assistant, q, pace=0.001) for k, q in questions.items()}
        results = {k: f.result()[-1] for k, f in futures.items()}
    expected = {"a": "2025年8月", "b": "300家", "c": "紐豪斯"}
    for key, (history, sources) in results.items():
        assert history[0]["content"] == questions[key] and len(history) == 2
        assert expected[key] in last_reply(history) and expected[key] in sources


# ------------------------------------------------------------------ corpus, first run, page
def test_corpus_info_counts_articles_and_offers_examples(indexed: Settings) -> None:
    corpus = ui.corpus_info(indexed)
    assert corpus.n_articles == 5 and corpus.n_chunks > 5
    assert corpus.badge == f"5 篇文章 / {corpus.n_chunks} 段"
    assert {article_id for _, article_id in corpus.articles} >= {IURC, ORANGE, PENANG}
    assert corpus.articles[0][1] == IURC  # newest first
    assert "高雄何時加入 IURC？" in corpus.examples and "橘郡郡長是誰？" in corpus.examples


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
    assert "googleapis" not in ui_style.CSS and "@import" not in ui_style.CSS
