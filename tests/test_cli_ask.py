"""`rag ask` on the indexed corpus: text and JSON output, refusals, filters, LLM fallback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fake_llm import FAIL_500, FakeLLM, citing, shown_passages

from rag import retrieve
from rag.app.cli import main
from rag.config import Settings
from rag.prompt import REFUSALS

IURC = "000_09d82b08e27ce1d6"
ORANGE = "003_78186f8d2590a0a8"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, indexed: Settings, embedder: Any) -> None:
    for name in ("RAG_CONFIG", "RAG_COLLECTION", "RAG_ANSWERER", "RAG_LLM_BASE_URL",
                 "RAG_LLM_MODEL", "RAG_TOP_K", "RAG_CHROMA_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RAG_DATA_DIR", str(indexed.data_dir))
    # The session's embedder instead of loading the model once more per command.
    monkeypatch.setattr(retrieve, "get_embedder", lambda settings: embedder)


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        monkeypatch.setenv("RAG_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("RAG_LLM_MODEL", "fake")
        monkeypatch.setenv("RAG_LLM_TIMEOUT", "2")
        monkeypatch.setenv("RAG_LLM_RETRIES", "0")
        yield server


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["ask", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_answer_with_backend_line_and_sources(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "高雄何時加入 IURC?", "--k", "3")
    assert code == 0, err
    lines = out.splitlines()
    assert "2025年8月" in lines[0] and "[1]" in lines[0]
    assert "回答方式 backend: 抽取式（未設定 LLM）" in out and "fallback" not in out
    source = next(line for line in lines if line.startswith("[1] "))
    assert "(2026-02-07) — 「" in source and "2025年8月" in source and source.endswith("」")
    assert "智慧城市牽起國際夥伴情誼" in source  # the article title


def test_json_answer(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "橘郡郡長是誰?", "--json", "--llm", "extractive", "--k", "3")
    assert code == 0
    data = json.loads(out)
    assert data["question"] == "橘郡郡長是誰?" and "紐豪斯" in data["answer"]
    assert data["refused"] is False and data["backend"] == "extractive"
    assert data["fallback"] is False and "抽取式" in data["label"]
    citation = data["citations"][0]
    assert citation["n"] == 1 and citation["article_id"] == ORANGE
    assert citation["date"] == "2025-04-16" and citation["title"] and citation["quote"]
    assert set(data["timings"]) >= {"retrieve", "answer", "total"}


def test_refusal_exits_zero_without_sources(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "高雄捷運的年度預算是多少?", "--k", "3")
    assert code == 0
    assert out.startswith(REFUSALS["zh-Hant"]) and "來源" not in out and "\n[1]" not in out


def test_filters_reach_the_retriever(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "橘郡郡長是誰?", "--article", ORANGE, "--after", "2025-01-01",
                       "--json")
    assert code == 0
    assert {c["article_id"] for c in json.loads(out)["citations"]} <= {ORANGE}
    code, out, _ = run(capsys, "橘郡郡長是誰?", "--before", "2020-01-01", "--json")
    assert code == 0 and json.loads(out)["refused"] is True


@pytest.mark.parametrize("argv", [[""], ["   "], ["橘郡郡長是誰?", "--k", "0"],
                                  ["橘郡郡長是誰?", "--llm", "gpt-9"]])
def test_bad_input_exits_two_with_a_message(capsys: pytest.CaptureFixture[str],
                                            argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("錯誤 Error: ") and "Traceback" not in err


def test_openai_answer_and_k(capsys: pytest.CaptureFixture[str], llm: FakeLLM) -> None:
    llm.default = citing("2025年8月", "高雄市於2025年8月正式獲邀加入歐盟 IURC 計畫[{n}]。")
    code, out, _ = run(capsys, "高雄何時加入 IURC?", "--k", "3")
    assert code == 0
    assert out.startswith("高雄市於2025年8月正式獲邀加入歐盟 IURC 計畫[1]。")
    assert "回答方式 backend: LLM：fake\n" in out
    assert len(shown_passages(llm.chats[0]["messages"])) == 3


def test_llm_failure_falls_back_with_label_and_notice(capsys: pytest.CaptureFixture[str],
                                                      llm: FakeLLM) -> None:
    llm.default = FAIL_500
    code, out, err = run(capsys, "高雄何時加入 IURC?", "--article", IURC)
    assert code == 0 and "2025年8月" in out
    assert "（LLM 失敗，改用抽取式 fallback）" in out
    assert "注意 notice:" in err and "HTTP 500" in err


def test_llm_failure_with_strict_exits_two(capsys: pytest.CaptureFixture[str],
                                           llm: FakeLLM) -> None:
    llm.default = FAIL_500
    code, out, err = run(capsys, "高雄何時加入 IURC?", "--strict", "--article", IURC)
    assert code == 2 and out == ""
    assert err.startswith("錯誤 Error: LLM") and "HTTP 500" in err


def test_ask_is_listed_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["ask", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--json", "--llm", "--strict", "--k", "--after", "--before", "--article"):
        assert flag in out
