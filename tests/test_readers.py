"""Readers registry: formats chosen by suffix, by content, or by name; CRUD-RAG news lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CORPUS

from ingest import readers
from ingest.clean import to_article
from ingest.load import Problem, RawDoc, format_names, iter_files, load_file
from ingest.readers.news_lines import dateline_date, derive_title
from rag.config import Settings
from rag.errors import InputError

NEWS_FILE = "documents_dup_part_1_part_1"
SAMPLE_LINES = [
    "[ 2023-07-28 16：40 ] ，正文：人民网柏林7月28日电 （记者刘仲华、张慧中）7月27日晚，中国驻德国"
    "大使馆举行庆祝中国人民解放军建军96周年招待会。德军政官员等约350人出席招待会。",
    "2023-08-16 18:24:57，正文：IT之家 8 月 16 日消息，英特尔已经为游戏开发者提供了最新的 "
    "XeSS 1.2.0 版本，附带最新的 SDK（软件开发工具包）。英特尔 XeSS 1.2 向后兼容 XeSS 1.0 和 1.1。",
    "",
    "07-20 15:29，正文：原标题：中国国家话剧院首任院长赵有亮因病去世 享年78岁      "
    "中新网北京7月26日电",
    "这一行没有正文标记，不是新闻行。",
    "202307/1915:55:52，正文：\u2003\u2003近日，全国IPv6技术创新和融合应用试点工作推进会在浙江金华召开，"
    "中央网信办及各试点指导部门负责同志参加会议。",
    "，正文：",
]


def _news_file(folder: Path, name: str = "documents_dup_part_9_part_9",
               lines: list[str] = SAMPLE_LINES) -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- the registry


def test_registry_names_suffixes_and_unknown_format() -> None:
    names = format_names()
    assert names == readers.names()
    assert set(names) == {"news-lines", "html", "jsonl", "json", "markdown", "text"}
    claimed = [s for r in readers.readers().values() for s in r.suffixes]
    assert len(claimed) == len(set(claimed))  # one reader per suffix
    assert readers.by_suffix(".JSONL") is readers.by_name("jsonl")
    assert readers.by_suffix(".csv") is None
    with pytest.raises(InputError, match="news-lines"):
        load_file(CORPUS / "003_78186f8d2590a0a8.txt", fmt="csv")
    with pytest.raises(InputError):
        list(iter_files([CORPUS], fmt="nope"))


def test_forced_format_overrides_the_suffix(tmp_path: Path) -> None:
    path = tmp_path / "records.txt"
    path.write_text(json.dumps({"id": "r1", "title": "標題", "text": "內文一句。"},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    [as_text] = load_file(path)
    assert isinstance(as_text, RawDoc) and as_text.kind == "text"
    [as_record] = load_file(path, fmt="jsonl")
    assert isinstance(as_record, RawDoc) and as_record.kind == "record"
    assert (as_record.doc_id, as_record.source) == ("r1", f"{path}:1")


@pytest.mark.parametrize(("content", "kind", "doc_id"), [
    ("<!doctype html><html><body><article><h1>標題</h1><p>一段內文。</p></article></body></html>",
     "html", "page"),
    ('{"id": "x1", "text": "內文。"}\n{"id": "x2", "text": "又一則。"}\n', "record", "x1"),
    ('[{"id": "j1", "text": "內文。"}]', "record", "j1"),
    ("# 標題\n\n內文一句。\n", "markdown", "page"),
    ((CORPUS / "003_78186f8d2590a0a8.txt").read_text(encoding="utf-8"), "text", "page"),
    ("\n".join(SAMPLE_LINES[:2]), "record", "page-0"),
])
def test_files_without_suffix_are_detected_by_content(tmp_path: Path, content: str, kind: str,
                                                      doc_id: str) -> None:
    path = tmp_path / "page"
    path.write_text(content, encoding="utf-8")
    docs = load_file(path)
    assert isinstance(docs[0], RawDoc), docs[0]
    assert (docs[0].kind, docs[0].doc_id) == (kind, doc_id)


def test_undetectable_file_is_a_problem_naming_the_format_flag(tmp_path: Path) -> None:
    path = tmp_path / "README"
    path.write_text("只是一段沒有格式的文字。\n第二行。\n", encoding="utf-8")
    [problem] = load_file(path)
    assert isinstance(problem, Problem) and "--format" in problem.message
    [doc] = load_file(path, fmt="text")
    assert isinstance(doc, RawDoc) and to_article(doc)[0].title == "只是一段沒有格式的文字。"


def test_folder_walk_detects_suffixless_files_and_honours_a_forced_format(tmp_path: Path) -> None:
    news = _news_file(tmp_path)
    (tmp_path / "LICENSE").write_text("Apache License\nVersion 2.0\n", encoding="utf-8")
    (tmp_path / "questions.jsonl").write_text('{"question": "?"}\n', encoding="utf-8")
    (tmp_path / "table.csv").write_text("a,b\n", encoding="utf-8")
    auto = [p.name for p in iter_files([tmp_path]) if isinstance(p, Path)]
    assert auto == [news.name, "questions.jsonl"]
    forced = [p.name for p in iter_files([tmp_path], fmt="news-lines") if isinstance(p, Path)]
    assert forced == ["LICENSE", news.name]  # suffix-less files; .jsonl belongs to jsonl


# ---------------------------------------------------------------- CRUD-RAG news lines


def test_news_lines_ids_sources_dates_titles_and_bodies(tmp_path: Path) -> None:
    path = _news_file(tmp_path)
    result = load_file(path)
    docs = [r for r in result if isinstance(r, RawDoc)]
    problems = [r for r in result if isinstance(r, Problem)]
    stem = path.name
    # id: 0-based line index (questions_located.jsonl's "line"); source: 1-based line
    assert [d.doc_id for d in docs] == [f"{stem}-0", f"{stem}-1", f"{stem}-3", f"{stem}-5"]
    assert [d.source for d in docs] == [f"{path}:1", f"{path}:2", f"{path}:4", f"{path}:6"]
    assert [(p.line, "正文" in p.message) for p in problems] == [(5, True), (7, True)]
    articles = [to_article(d) for d in docs]
    assert [a.date for a, _ in articles] == ["2023-07-28", "2023-08-16", "", "2023-07-19"]
    assert [len(w) for _, w in articles] == [0, 0, 1, 0]  # no year in "07-20 15:29": a warning
    assert [a.title for a, _ in articles] == [
        "7月27日晚，中国驻德国大使馆举行庆祝中国人民解放军建军96周年招待会",
        "英特尔已经为游戏开发者提供了最新的 XeSS 1.2.0 版本",
        "中国国家话剧院首任院长赵有亮因病去世 享年78岁",
        "近日，全国IPv6技术创新和融合应用试点工作推进会在浙江金华召开",
    ]
    for (article, _), line in zip(articles, [SAMPLE_LINES[i] for i in (0, 1, 3, 5)],
                                  strict=True):
        assert article.body == line.split("，正文：", 1)[1].strip()  # the body, whole


def test_news_lines_sniff_and_forced_name(tmp_path: Path) -> None:
    reader = readers.by_name("news-lines")
    assert reader is not None and reader.line_records
    assert reader.sniff("\n".join(SAMPLE_LINES[:2]))
    assert reader.sniff(SAMPLE_LINES[0][:60])  # one line, cut short by the sample
    assert not reader.sniff("一般的文字。\n" + SAMPLE_LINES[0])
    path = _news_file(tmp_path, "news.txt", SAMPLE_LINES[:2])
    [whole] = load_file(path)  # .txt says text: one article
    assert isinstance(whole, RawDoc) and whole.kind == "text"
    assert len(load_file(path, fmt="news-lines")) == 2


@pytest.mark.parametrize(("dateline", "iso"), [
    ("[ 2023-07-28 16：40 ] ", "2023-07-28"),
    ("2023-08-16 18:24:57", "2023-08-16"),
    ("[              2023/07/20  16:08              ]", "2023-07-20"),
    ("202307/21 07:57:00", "2023-07-21"),
    ("202307/1915:55:52", "2023-07-19"),
    ("发布时间：2023-07-26 08:46:02", "2023-07-26"),
    ("http://www.gd.chinanews.com\xa0\xa0\xa0\xa02023年05月22日 10:33\xa0\xa0\xa0\xa0"
     "来源：中新网广东", "2023-05-22"),
    ("2023/07/26 ", "2023-07-26"),
    ("07-20 15:29", ""),
    ("08/05", ""),
    ("/", ""),
    ("", ""),
    ("2023-02-30", ""),
])
def test_dateline_dates(dateline: str, iso: str) -> None:
    assert dateline_date(dateline) == iso


def test_derived_titles_are_short_and_come_from_the_text() -> None:
    assert derive_title("原标题：当地选票已是囊中物？夏威夷火灾但拜登在度假") == (
        "当地选票已是囊中物")
    assert derive_title("【环球时报驻韩国特约记者 林森】韩国国家报勋部24日表示，删除相关信息。"
                        ) == "韩国国家报勋部24日表示，删除相关信息"
    long = ("近日一则新闻迅速冲上热搜本想庆祝孩子高考考了高分家长们组了个局聚会"
            "却因聚众赌博被行政拘留")
    assert derive_title(long) == long[:40] + "…"
    assert derive_title("") == ""


def test_real_crud_rag_file_first_50_lines(tmp_path: Path) -> None:
    """The shared CRUD-RAG file, read in place: every one of its first 50 lines is an article
    whose id is file-line, and the located questions on those lines point at the right text."""
    folder = Settings().benchmarks_dir / "crud-rag"
    real = folder / NEWS_FILE
    assert real.is_file(), f"{real} is part of ../shared in CI"
    with real.open(encoding="utf-8") as f:
        head = [next(f).rstrip("\n") for _ in range(50)]
    reader = readers.detect(head[0][:4000])
    assert reader is not None and reader.name == "news-lines"
    sample = tmp_path / NEWS_FILE  # the same name, so the same ids; never in the repository
    sample.write_text("\n".join(head) + "\n", encoding="utf-8")
    assert [p for p in iter_files([tmp_path]) if isinstance(p, Path)] == [sample]
    docs = load_file(sample)
    assert all(isinstance(d, RawDoc) for d in docs) and len(docs) == 50
    articles = {d.doc_id: to_article(d)[0] for d in docs if isinstance(d, RawDoc)}
    assert list(articles) == [f"{NEWS_FILE}-{i}" for i in range(50)]
    for i, article in enumerate(articles.values()):
        assert article.body and article.body in head[i]
        assert 0 < len(article.title) <= 41 and article.source == f"{sample}:{i + 1}"
    assert sum(bool(a.date) for a in articles.values()) >= 40
    located = [json.loads(line) for line in (folder / "questions_located.jsonl").read_text(
        encoding="utf-8").splitlines()]
    hits = [q for q in located if q["file"] == NEWS_FILE and q["line"] < 50
            and q["answer"] != "无法推断"]
    for q in hits:
        assert q["answer"][:4] in articles[f"{NEWS_FILE}-{q['line']}"].body, q
