"""Loading: encodings (UTF-8/BOM, Big5, UTF-16), bad files as Problems, JSONL/JSON/MD/HTML."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

import pytest
from conftest import CORPUS, make_settings

from ingest.clean import to_article
from ingest.load import DecodeError, Problem, RawDoc, decode, iter_files, load_file
from rag.config import Settings
from rag.schema import Article

# 003 is one of the articles that Big5 can encode (000 has "ö", 001 has "廍").
ARTICLE = CORPUS / "003_78186f8d2590a0a8.txt"
GOOD_SENTENCES = [
    "高雄市政府於4月15日與美國紐約州橘郡正式締結為姊妹市。",
    "橘郡位於美國紐約州，是該州第五大行政區，並且擁有著名的西點軍校。",
    "雙方對未來的合作展現了高度興趣，這也為締結姊妹市奠定了良好基礎。",
]


def _clean(path: Path) -> tuple[Article, str]:
    [doc] = load_file(path)
    assert isinstance(doc, RawDoc), doc
    article, _ = to_article(doc)
    return article, doc.encoding


@pytest.fixture(scope="module")
def original() -> Article:
    article, encoding = _clean(ARTICLE)
    assert encoding == "utf-8" and article.date == "2025-04-16"
    return article


def _write(tmp_path: Path, folder: str, data: bytes) -> Path:
    path = tmp_path / folder / ARTICLE.name  # same file name: same article id
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    return path


def _text() -> str:
    return ARTICLE.read_text(encoding="utf-8")


@pytest.mark.parametrize(("label", "encode", "encoding"), [
    ("big5", lambda t: t.replace("\xa0", " ").encode("cp950"), "cp950"),
    ("utf16-le-bom", lambda t: b"\xff\xfe" + t.encode("utf-16-le"), "utf-16"),
    ("utf16-be-bom", lambda t: b"\xfe\xff" + t.encode("utf-16-be"), "utf-16"),
    ("utf16-le", lambda t: t.encode("utf-16-le"), "utf-16-le"),
    ("utf16-be", lambda t: t.encode("utf-16-be"), "utf-16-be"),
    ("utf8-bom", lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"), "utf-8"),
    ("utf8-crlf", lambda t: t.replace("\n", "\r\n").encode("utf-8"), "utf-8"),
])
def test_encodings_decode_to_the_same_article(tmp_path: Path, original: Article, label: str,
                                              encode: object, encoding: str) -> None:
    data = encode(_text())  # type: ignore[operator]
    path = _write(tmp_path, label, data)
    article, used = _clean(path)
    assert used == encoding
    assert article == dataclasses.replace(original, source=str(path))
    assert "\ufeff" not in article.title and "\r" not in article.body


def test_big5_of_short_text_is_not_mistaken(tmp_path: Path) -> None:
    text = "高雄智慧城市\n高雄市推動智慧交通與智慧醫療，提升城市治理效率。\n"
    path = tmp_path / "short.txt"
    path.write_bytes(text.encode("cp950"))
    [doc] = load_file(path)
    assert isinstance(doc, RawDoc) and doc.encoding == "cp950" and doc.text == text


def test_decode_reports_instead_of_guessing() -> None:
    assert decode("高雄".encode()) == ("高雄", "utf-8")
    with pytest.raises(DecodeError, match="binary"):
        decode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    files = {
        "empty": folder / "empty.txt",
        "blank": folder / "blank.txt",
        "binary": folder / "binary.txt",
        "png": folder / "picture.md",
        "corrupt": folder / "corrupt.txt",
    }
    files["empty"].write_bytes(b"")
    files["blank"].write_bytes(" \n\xa0\n\u3000\n".encode())
    files["binary"].write_bytes(bytes(range(256)) * 8)
    files["png"].write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(256))
    data = _text().encode("utf-8")
    cut = data.index("橘郡位於".encode())  # on line 28 of the file
    files["corrupt"].write_bytes(data[:cut] + b"\xff\xfe\x80" + data[cut:])
    return files


def test_bad_files_are_problems_with_path(tmp_path: Path) -> None:
    files = _bad_files(tmp_path)
    for name, path in files.items():
        result = load_file(path)
        assert len(result) == 1 and isinstance(result[0], Problem), name
        problem = result[0]
        assert problem.source == str(path)
        assert str(path) in str(problem)
    assert "empty" in load_file(files["empty"])[0].message  # type: ignore[union-attr]
    assert "empty" in load_file(files["blank"])[0].message  # type: ignore[union-attr]
    assert "binary" in load_file(files["binary"])[0].message  # type: ignore[union-attr]
    assert "binary" in load_file(files["png"])[0].message  # type: ignore[union-attr]


def test_corrupt_utf8_names_the_line(tmp_path: Path) -> None:
    path = _bad_files(tmp_path)["corrupt"]
    [problem] = load_file(path)
    assert isinstance(problem, Problem)
    line = _text().encode()[: _text().encode().index("橘郡位於".encode())].count(b"\n") + 1
    assert "undecodable" in problem.message  # not silently decoded as Big5 mojibake
    assert problem.line == line
    assert str(problem).startswith(f"{path}:{line}: ")


def test_unsupported_and_missing_paths(tmp_path: Path) -> None:
    odd = tmp_path / "data.csv"
    odd.write_text("a,b\n", encoding="utf-8")
    [problem] = load_file(odd)
    assert isinstance(problem, Problem) and ".csv" in problem.message
    missing = tmp_path / "nope"
    found = list(iter_files([missing]))
    assert len(found) == 1 and isinstance(found[0], Problem) and found[0].source == str(missing)


def test_folders_are_walked_sorted_skipping_hidden_and_unsupported(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    for name in ("b/z.txt", "a.md", ".hidden.txt", "notes.csv", "b/a.jsonl", "c.HTML"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_files([tmp_path])
             if isinstance(p, Path)]
    assert found == ["a.md", "b/a.jsonl", "b/z.txt", "c.HTML"]


# ---------------------------------------------------------------- records, Markdown, HTML

def _jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "records.jsonl"
    lines = [
        json.dumps({"id": "r1", "title": "第一則", "text": GOOD_SENTENCES[0], "date": "2025/4/15",
                    "url": "https://example.org/r1", "author": "王小明", "source": "測試社"},
                   ensure_ascii=False),
        "{this is not json",
        json.dumps({"id": "r3", "title": "沒有內文"}, ensure_ascii=False),
        "",
        json.dumps({"title": "第五則", "content": GOOD_SENTENCES[1]}, ensure_ascii=False),
        json.dumps(["not", "an", "object"]),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl_bad_lines_are_problems_with_file_and_line(tmp_path: Path) -> None:
    path = _jsonl(tmp_path)
    result = load_file(path)
    docs = [r for r in result if isinstance(r, RawDoc)]
    problems = [r for r in result if isinstance(r, Problem)]
    assert [d.doc_id for d in docs] == ["r1", "records-5"]
    assert [d.source for d in docs] == [f"{path}:1", f"{path}:5"]
    assert [(p.source, p.line) for p in problems] == [(str(path), 2), (str(path), 3),
                                                       (str(path), 6)]
    assert str(problems[0]).startswith(f"{path}:2: ")
    assert "text" in problems[1].message
    article, warnings = to_article(docs[0])
    assert article == Article(article_id="r1", title="第一則", body=GOOD_SENTENCES[0],
                              date="2025-04-15", reporter="王小明", outlet="測試社",
                              source=f"{path}:1", url="https://example.org/r1")
    assert warnings == []
    article, warnings = to_article(docs[1])
    assert (article.title, article.body, article.date) == ("第五則", GOOD_SENTENCES[1], "")
    assert len(warnings) == 1


def test_json_list_and_object_of_records(tmp_path: Path) -> None:
    listing = tmp_path / "list.json"
    listing.write_text(json.dumps([
        {"id": "a", "title": "甲", "text": GOOD_SENTENCES[0]},
        {"id": "b", "title": "乙", "text": GOOD_SENTENCES[1], "date": "2025-04-16"},
        {"id": "c"},
    ], ensure_ascii=False), encoding="utf-8")
    result = load_file(listing)
    assert [r.doc_id for r in result if isinstance(r, RawDoc)] == ["a", "b"]
    [problem] = [r for r in result if isinstance(r, Problem)]
    assert problem.source == str(listing) and "record 3" in problem.message
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"records": [{"id": "w", "text": GOOD_SENTENCES[2]}]},
                                  ensure_ascii=False), encoding="utf-8")
    [doc] = load_file(wrapped)
    assert isinstance(doc, RawDoc) and doc.doc_id == "w" and doc.source == f"{wrapped}#1"
    broken = tmp_path / "broken.json"
    broken.write_text('[{"id": "x",\n "text": }]', encoding="utf-8")
    [bad] = load_file(broken)
    assert isinstance(bad, Problem) and bad.line == 2


def test_markdown(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text("# 高雄智慧城市\n\n## 交通\n\n高雄推動智慧交通。\n\n- 輕軌延伸至新興發展區。\n",
                    encoding="utf-8")
    article, _ = _clean(path)
    assert article.title == "高雄智慧城市"
    assert article.body == "交通\n高雄推動智慧交通。\n- 輕軌延伸至新興發展區。"


def test_plain_text_first_short_line_is_title(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text("高雄智慧城市\n\n" + "\n".join(GOOD_SENTENCES) + "\n", encoding="utf-8")
    [doc] = load_file(path)
    assert isinstance(doc, RawDoc)
    article, warnings = to_article(doc)
    assert article.title == "高雄智慧城市" and article.body == "\n".join(GOOD_SENTENCES)
    assert article.date == "" and len(warnings) == 1


HTML = """<!doctype html>
<html lang="zh-Hant"><head><meta charset="utf-8">
<title>高雄與橘郡締結姊妹市 | 新聞網</title>
<meta property="article:published_time" content="2025-04-16T08:00:00+08:00">
<script>window.tracker = "追蹤程式碼";</script>
<style>.ad { color: red }</style>
</head><body>
<header><nav><ul><li>首頁</li><li>投資理財</li><li>訂閱電子報</li></ul></nav></header>
<div class="banner">點我領取優惠</div>
<article>
  <h1>高雄與橘郡締結姊妹市</h1>
  <figure><img src="photo.jpg" alt="簽約"><figcaption>圖/高雄市政府 簽約儀式</figcaption></figure>
  <p>高雄市政府於4月15日與美國紐約州橘郡正式締結為姊妹市。</p>
  <h2>智慧城市合作</h2>
  <p>雙方將在智慧城市發展、<b>數位治理</b>等領域深化合作。</p>
  <script>showAd("買房就找我們")</script>
  <ul><li>第一項：智慧交通。</li></ul>
  <button>分享到臉書</button>
</article>
<aside><h3>熱門新聞</h3><p>別的新聞標題</p></aside>
<footer><p>版權所有 © 新聞網</p></footer>
</body></html>
"""


def test_html_keeps_main_text_and_drops_chrome(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(HTML, encoding="utf-8")
    [doc] = load_file(path)
    assert isinstance(doc, RawDoc) and doc.kind == "html"
    article, warnings = to_article(doc)
    assert warnings == []
    assert article.title == "高雄與橘郡締結姊妹市"
    assert article.date == "2025-04-16"
    assert article.body.split("\n") == [
        "高雄市政府於4月15日與美國紐約州橘郡正式締結為姊妹市。",
        "智慧城市合作",
        "雙方將在智慧城市發展、 數位治理 等領域深化合作。",
        "第一項：智慧交通。",
    ]
    for chrome in ("追蹤", "投資理財", "首頁", "訂閱", "優惠", "圖/", "買房", "分享", "熱門",
                   "別的新聞", "版權", ".ad", "color"):
        assert chrome not in article.body, chrome


# ---------------------------------------------------------------- the CLI on bad inputs


def test_cli_skips_bad_files_and_exits_1(tmp_path: Path, cli_env: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from rag.app.cli import main
    from rag.manifest import Manifest

    files = _bad_files(tmp_path)
    folder = files["empty"].parent
    (folder / "good.txt").write_text("好的文章\n" + GOOD_SENTENCES[2] + "\n", encoding="utf-8")
    records = _jsonl(folder)
    code = main(["ingest", "--quiet", str(folder)])
    out, err = capsys.readouterr()
    assert code == 1
    failed = [line for line in err.splitlines() if line.startswith("失敗 failed: ")]
    assert len(failed) == len(files) + 3  # five bad files, three bad JSONL lines
    for path in files.values():
        assert any(str(path) in line for line in failed), path
    for line_no in (2, 3, 6):
        assert any(f"{records}:{line_no}: " in line for line in failed)
    assert "Traceback" not in err
    summary = out.strip().splitlines()[-1]
    assert re.search(r"新增 added 3, .* 失敗 failed 8; ", summary), summary
    manifest = Manifest(make_settings(cli_env).manifest_path)
    try:
        assert set(manifest.entries()) == {"good", "r1", "records-5"}
    finally:
        manifest.close()


# ---------------------------------------------------------------- hostile and careless input


def _good(folder: Path, name: str = "good.txt") -> Path:
    path = folder / name
    path.write_text("好的文章\n" + GOOD_SENTENCES[2] + "\n", encoding="utf-8")
    return path


def test_non_utf8_file_name_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    good = _good(folder)
    bad = Path(os.fsdecode(bytes(folder) + b"/\xff\xfe.txt"))
    bad.write_text("檔名是 Big5 的文章\n" + GOOD_SENTENCES[0] + "\n", encoding="utf-8")
    found = list(iter_files([folder]))
    problems = [p for p in found if isinstance(p, Problem)]
    assert [p for p in found if isinstance(p, Path)] == [good]
    [problem] = problems
    assert problem.source == f"{folder}/\\xff\\xfe.txt"  # printable and storable
    assert "UTF-8" in problem.message and "rename" in problem.message
    str(problem).encode("utf-8")  # printing it cannot fail
    [direct] = load_file(bad)
    assert isinstance(direct, Problem) and direct.source == problem.source


def test_control_characters_in_a_file_name_are_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "a\x1b[2Jb.txt"
    path.write_text("標題\n內文。\n", encoding="utf-8")
    [problem] = list(iter_files([tmp_path]))
    assert isinstance(problem, Problem) and "\x1b" not in problem.source
    assert "control" in problem.message


def test_ingest_with_a_non_utf8_file_name_keeps_the_rest(tmp_path: Path, embedder: object) -> None:
    from ingest.index import Ingestor

    folder = tmp_path / "in"
    folder.mkdir()
    _good(folder)
    Path(os.fsdecode(bytes(folder) + b"/\xb7s\xbbD.txt")).write_text(  # "新聞" in Big5
        "標題\n" + GOOD_SENTENCES[1] + "\n", encoding="utf-8")
    summary = Ingestor(make_settings(tmp_path / "rag"), embedder=embedder,  # type: ignore[arg-type]
                       progress=False).run([folder])
    assert summary.added == ["good"]
    assert len(summary.failed) == 1 and not summary.ok


def test_unreadable_folder_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "in"
    locked = folder / "locked"
    locked.mkdir(parents=True)
    _good(folder)
    _good(locked, "secret.txt")
    real_scandir = os.scandir

    def scandir(path: object = ".") -> object:  # tests run as root: chmod 000 would not stop it
        if Path(str(path)) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    found = list(iter_files([folder]))
    assert [p.name for p in found if isinstance(p, Path)] == ["good.txt"]
    [problem] = [p for p in found if isinstance(p, Problem)]
    assert problem.source == str(locked) and "Permission denied" in problem.message
    assert "cannot read folder" in problem.message


def test_unreadable_file_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = _good(tmp_path, "locked.txt")
    records = tmp_path / "locked.jsonl"
    records.write_text('{"id": "a", "text": "內文。"}\n', encoding="utf-8")
    real_open = Path.open

    def open_(self: Path, *args: object, **kwargs: object) -> object:
        if self in (locked, records):
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", open_)
    for path in (locked, records):
        [problem] = load_file(path)
        assert isinstance(problem, Problem) and "Permission denied" in problem.message
    nameless = tmp_path / "NOTES"  # no suffix: its content must be read to choose a format
    nameless.write_text("x", encoding="utf-8")
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: (_ for _ in ()).throw(
        PermissionError(13, "Permission denied", str(self))))
    problems = [p for p in iter_files([tmp_path]) if isinstance(p, Problem)]
    assert [p.source for p in problems] == [str(nameless)]


def test_cli_reports_an_unreadable_folder_and_exits_1(
        tmp_path: Path, cli_env: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from rag.app.cli import main

    folder = tmp_path / "in"
    (folder / "locked").mkdir(parents=True)
    _good(folder)
    real_scandir = os.scandir

    def scandir(path: object = ".") -> object:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    code = main(["ingest", "--quiet", str(folder)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "失敗 failed 1" in out.strip().splitlines()[-1]
    assert any(str(folder / "locked") in line for line in err.splitlines())


@pytest.mark.parametrize(("record", "field", "kind"), [
    ({"id": "a", "title": ["甲", "乙"], "text": "內文。"}, "title", "a list"),
    ({"id": "a", "title": {"zh": "甲"}, "text": "內文。"}, "title", "an object"),
    ({"id": {"n": 1}, "title": "甲", "text": "內文。"}, "id", "an object"),
    ({"id": [1, 2], "title": "甲", "text": "內文。"}, "id", "a list"),
    ({"id": True, "title": "甲", "text": "內文。"}, "id", "true"),
    ({"id": "a", "author": ["王", "李"], "text": "內文。"}, "author", "a list"),
])
def test_records_with_structured_title_or_id_are_problems(tmp_path: Path, record: dict[str, object],
                                                          field: str, kind: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    [problem] = load_file(path)
    assert isinstance(problem, Problem) and problem.line == 1
    assert f"'{field}'" in problem.message and kind in problem.message


def test_numeric_ids_are_text_on_purpose(tmp_path: Path) -> None:
    path = tmp_path / "ids.json"
    path.write_text(json.dumps([{"id": 12, "text": "一。"}, {"id": 0, "text": "二。"},
                                {"id": 1.5, "title": 2024, "text": "三。"}]), encoding="utf-8")
    docs = load_file(path)
    assert [d.doc_id for d in docs if isinstance(d, RawDoc)] == ["12", "0", "1.5"]
    assert to_article(docs[2])[0].title == "2024"  # type: ignore[arg-type]


def test_file_over_the_size_cap_is_refused_without_reading_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.txt"
    path.write_text("標題\n" + "高雄" * 3000 + "\n", encoding="utf-8")
    size = path.stat().st_size
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read the big file"))
    [problem] = load_file(path, max_bytes=10_000)
    assert isinstance(problem, Problem)
    assert f"{size:,}" in problem.message and "10,000" in problem.message
    assert "RAG_MAX_ARTICLE_BYTES" in problem.message and "上限" in problem.message
    listing = tmp_path / "many.json"
    listing.write_text(json.dumps([{"text": "高雄" * 100}] * 50, ensure_ascii=False),
                       encoding="utf-8")
    [problem] = load_file(listing, max_bytes=10_000)
    assert isinstance(problem, Problem) and ".jsonl" in problem.message


def test_default_cap_is_the_setting() -> None:
    import inspect

    default = inspect.signature(load_file).parameters["max_bytes"].default
    assert default == Settings().max_article_bytes == 2_000_000


def test_big_news_lines_file_named_txt_suggests_the_line_format(tmp_path: Path) -> None:
    line = "2023-08-16 18:24:57，正文：" + "英特尔发布新版本。" * 50
    path = tmp_path / "news.txt"
    path.write_text("\n".join([line] * 20) + "\n", encoding="utf-8")
    [problem] = load_file(path, max_bytes=5_000)
    assert isinstance(problem, Problem) and "--format news-lines" in problem.message
    assert len(load_file(path, fmt="news-lines", max_bytes=5_000)) == 20


def test_jsonl_line_over_the_cap_is_a_problem_and_the_others_are_read(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    huge = json.dumps({"id": "huge", "text": "長" * 3_000_000}, ensure_ascii=False)
    lines = [json.dumps({"id": "a", "text": GOOD_SENTENCES[0]}, ensure_ascii=False), huge,
             json.dumps({"id": "b", "text": GOOD_SENTENCES[1]}, ensure_ascii=False)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = load_file(path, max_bytes=100_000)
    assert [d.doc_id for d in result if isinstance(d, RawDoc)] == ["a", "b"]
    [problem] = [p for p in result if isinstance(p, Problem)]
    assert problem.line == 2 and f"{len(huge.encode()):,}" in problem.message
    assert "RAG_MAX_ARTICLE_BYTES" in problem.message


@pytest.mark.parametrize(("label", "encode"), [
    ("utf8-bom-crlf", lambda t: b"\xef\xbb\xbf" + t.replace("\n", "\r\n").encode()),
    ("big5", lambda t: t.encode("cp950")),
    ("utf16-bom", lambda t: t.encode("utf-16")),
    ("utf16-le", lambda t: t.encode("utf-16-le")),
])
def test_jsonl_is_streamed_in_every_encoding(tmp_path: Path, label: str, encode: object) -> None:
    text = "".join(json.dumps({"id": f"r{i}", "title": "高雄市政府", "text": s},
                              ensure_ascii=False) + "\n"
                   for i, s in enumerate(GOOD_SENTENCES))
    path = tmp_path / f"{label}.jsonl"
    path.write_bytes(encode(text))  # type: ignore[operator]
    docs = load_file(path)
    assert [d.doc_id for d in docs if isinstance(d, RawDoc)] == ["r0", "r1", "r2"], docs
    assert [to_article(d)[0].body for d in docs if isinstance(d, RawDoc)] == GOOD_SENTENCES


def test_jsonl_corrupt_bytes_lose_only_their_line(tmp_path: Path) -> None:
    good = [json.dumps({"id": f"r{i}", "text": s}, ensure_ascii=False).encode()
            for i, s in enumerate(GOOD_SENTENCES)]
    path = tmp_path / "corrupt.jsonl"
    path.write_bytes(b"\n".join([good[0], good[1][:20] + b"\xff\xfe" + good[1][20:], good[2]]))
    result = load_file(path)
    assert [d.doc_id for d in result if isinstance(d, RawDoc)] == ["r0", "r2"]
    [problem] = [p for p in result if isinstance(p, Problem)]
    assert problem.line == 2 and "undecodable" in problem.message


def test_jsonl_line_separator_inside_a_string_is_text(tmp_path: Path) -> None:
    path = tmp_path / "ls.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "第一句\u2028第二句。"}, ensure_ascii=False)
                    + "\n", encoding="utf-8")
    [doc] = load_file(path)
    assert isinstance(doc, RawDoc) and doc.doc_id == "a"
