"""Cleaning of the news-page format: metadata, exact bodies, chrome never reaching the index."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CORPUS, make_settings

from ingest.clean import clean_news, looks_like_news_page, strip_controls, to_article
from ingest.load import RawDoc, load_file
from rag.config import Settings
from rag.dates import parse_date
from rag.manifest import Manifest
from rag.schema import Article

EXPECTED = Path(__file__).parent / "expected"
OUTLET = "新聞視界時報"
CHROME = ("投資理財", "A- A A+", "點擊時代網頁設計", "相關新聞")

# article_id -> (title, ISO date, reporter)
META = {
    "000_09d82b08e27ce1d6": (
        "智慧城市牽起國際夥伴情誼,高雄迎接歐盟 IURC 代表團,共創永續與數位治理新篇章",
        "2026-02-07", "李翌淳"),
    "001_29e2c6b1fde0e3f0": (
        "高雄點亮主權 AI 燈塔——智慧治理創新模式榮獲國際肯定", "2025-12-30", "張儷寶"),
    "002_d576b6d6b89d97c5": (
        "高雄市長陳其邁帶隊赴美交流,展現智慧城市願景", "2025-03-22", "李翌淳"),
    "003_78186f8d2590a0a8": (
        "高雄與橘郡締結姊妹市,開啟台美智慧城市合作新篇章", "2025-04-16", "李翌淳"),
    "004_450bdcc5c9fbd5dc": (
        "高雄與檳城攜手共創智慧綠色未來,深化雙邊合作關係", "2024-10-19", "王秉程"),
}
# One in-body section heading per article: headings are content and must stay.
HEADINGS = {
    "000_09d82b08e27ce1d6": "從巴塞隆納出發,高雄正式站上國際智慧城市舞台",
    "001_29e2c6b1fde0e3f0": "城市級規劃上線 公私協力共築AI基盤",
    "002_d576b6d6b89d97c5": "結語:打造高雄成為AI治理領航城市",
    "003_78186f8d2590a0a8": None,  # this article has no section headings
    "004_450bdcc5c9fbd5dc": "共同願景:打造綠色智慧城市",
}
# The last body line of each article: nothing before 相關新聞 may be lost, nothing after kept.
LAST_LINES = {
    "000_09d82b08e27ce1d6": "與歐洲及亞太城市共同研擬智慧城市治理解方,深化國際合作,",
    "001_29e2c6b1fde0e3f0": "正逐步成為全球智慧城市建設的重要參考典範",
    "002_d576b6d6b89d97c5": "未來,高雄將繼續在全球AI產業鏈中發揮重要作用",
    "003_78186f8d2590a0a8": "未來必將為兩地市民帶來更多實質的合作成果與共同發展的機會。",
    "004_450bdcc5c9fbd5dc": "高雄市政府感謝檳城議員及團隊的熱情接待",
}


def _article(article_id: str) -> tuple[Article, list[str]]:
    [doc] = load_file(CORPUS / f"{article_id}.txt")
    assert isinstance(doc, RawDoc)
    return to_article(doc)


def test_corpus_has_the_five_files() -> None:
    assert sorted(p.stem for p in CORPUS.glob("*.txt")) == sorted(META)


@pytest.mark.parametrize("article_id", sorted(META))
def test_metadata(article_id: str) -> None:
    article, warnings = _article(article_id)
    title, date, reporter = META[article_id]
    assert article.article_id == article_id
    assert article.title == title
    assert article.date == date
    assert article.reporter == reporter
    assert article.outlet == OUTLET
    assert article.source == str(CORPUS / f"{article_id}.txt")
    assert warnings == []


@pytest.mark.parametrize("article_id", sorted(META))
def test_body_matches_expected_file(article_id: str) -> None:
    article, _ = _article(article_id)
    expected = (EXPECTED / f"{article_id}.txt").read_text(encoding="utf-8")
    assert article.body + "\n" == expected


@pytest.mark.parametrize("article_id", sorted(META))
def test_body_has_no_chrome(article_id: str) -> None:
    article, _ = _article(article_id)
    lines = article.body.split("\n")
    for marker in CHROME:
        assert marker not in article.body
    assert article.title not in lines  # the repeated title under the header image
    assert not any(line.startswith(("圖/", "(圖/", "（圖/")) for line in lines)
    assert all(line.strip() and line == line.strip() for line in lines)  # no nbsp-only lines
    assert "\xa0" not in article.body and "\u3000" not in article.body
    assert not any(line.startswith("發布日期") for line in lines)
    assert not any("記者" in line and line.endswith("報導") for line in lines)
    heading = HEADINGS[article_id]
    if heading is not None:
        assert heading in lines
    assert LAST_LINES[article_id] in lines[-1]


def test_related_news_cut_even_when_first_teaser_shares_words() -> None:
    text = "\n".join([
        "投資理財", "標題一", "發布日期:1/2/2025", "A- A A+", "新聞視界時報 記者 王小明 整理報導",
        "第一段內文。", "  相關新聞  ", "別的新聞標題", "1/1/2025",
    ])
    article = clean_news(text, "x")
    assert article.title == "標題一"
    assert article.body == "第一段內文。"
    assert article.date == "2025-01-02"
    assert (article.reporter, article.outlet) == ("王小明", "新聞視界時報")


def test_indexed_chunks_carry_no_chrome(indexed: Settings) -> None:
    from rag import store

    manifest = Manifest(indexed.manifest_path)
    try:
        rows = list(manifest.chunk_rows())
    finally:
        manifest.close()
    documents = store.read_collection(indexed).get(include=["documents"])["documents"]
    assert len(rows) == len(documents) > 0
    for text in [r[3] for r in rows] + documents:
        for marker in ("相關新聞", "點擊時代網頁設計", "A- A A+", "投資理財"):
            assert marker not in text


def _without_date_line(article_id: str) -> str:
    text = (CORPUS / f"{article_id}.txt").read_text(encoding="utf-8")
    kept = [line for line in text.splitlines() if "發布日期" not in line]
    assert len(kept) < len(text.splitlines())
    return "\n".join(kept)


def test_news_page_without_date_cleans_with_empty_date() -> None:
    article_id = "004_450bdcc5c9fbd5dc"
    text = _without_date_line(article_id)
    assert looks_like_news_page(text)  # "A- A A+" still marks the format
    article, warnings = to_article(RawDoc(doc_id=article_id, kind="text", text=text,
                                                source="x.txt"))
    assert article.date == ""
    assert article.title == META[article_id][0]
    assert article.reporter == META[article_id][2]
    assert article.body + "\n" == (EXPECTED / f"{article_id}.txt").read_text(encoding="utf-8")
    assert len(warnings) == 1 and "x.txt" in warnings[0] and "no date" in warnings[0]


def test_file_without_date_ingests_with_warning(tmp_path: Path, embedder: object) -> None:
    from ingest.index import Ingestor

    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / "nodate.txt"
    path.write_text("沒有日期的短文\n高雄市推動智慧交通，提升公共安全。\n", encoding="utf-8")
    settings = make_settings(tmp_path / "rag")
    summary = Ingestor(settings, embedder=embedder, progress=False).run(  # type: ignore[arg-type]
        [folder])
    assert summary.ok and summary.added == ["nodate"]
    assert len(summary.warnings) == 1
    assert str(path) in summary.warnings[0] and "no date" in summary.warnings[0]
    manifest = Manifest(settings.manifest_path)
    try:
        article = manifest.article("nodate")
    finally:
        manifest.close()
    assert article is not None
    assert (article.title, article.date, article.body) == (
        "沒有日期的短文", "", "高雄市推動智慧交通，提升公共安全。")


@pytest.mark.parametrize(("value", "expected"), [
    ("2/7/2026", "2026-02-07"),          # month/day/year, as the news site writes
    ("12/30/2025", "2025-12-30"),
    ("10/19/2024", "2024-10-19"),
    ("  4/16/2025 ", "2025-04-16"),
    ("2026-02-07", "2026-02-07"),
    ("2026/2/7", "2026-02-07"),
    ("2026-02-07T08:30:00Z", "2026-02-07"),
    ("2026-02-07T08:30:00+08:00", "2026-02-07"),
    ("2026年2月7日", "2026-02-07"),
    ("2026 年 2 月 7 日", "2026-02-07"),
    ("民國 115年2月7日", "2026-02-07"),
    ("民國115年2月7日", "2026-02-07"),
    ("", ""),
    ("   ", ""),
    ("garbage", ""),
    ("明天", ""),
    ("13/45/2026", ""),                  # no such month/day
    ("2/30/2026", ""),                   # no February 30th
])
def test_parse_date(value: str, expected: str) -> None:
    assert parse_date(value) == expected


# ---------------------------------------------------------------- control characters

HOSTILE = ("\x1b[2J\x1b]0;pwned\x07\x1b[31m紅字\x1b[0m\u202e反轉\u202c\u2066隔離\u2069"
           "\x07\x7f\x9b1m\x00\x08")


def test_strip_controls_removes_escapes_and_keeps_text() -> None:
    assert strip_controls(HOSTILE) == "紅字反轉隔離"
    assert strip_controls("甲\t乙\n丙") == "甲\t乙\n丙"  # tab and newline are text
    assert strip_controls("甲\r\n乙\r丙\x0c丁\x85戊") == "甲\n乙\n丙\n丁\n戊"  # lines stay lines
    assert strip_controls("\x1b]0;unterminated title") == "0;unterminated title"
    plain = "高雄市政府。"
    assert strip_controls(plain) is plain


def test_control_characters_never_reach_the_article(tmp_path: Path) -> None:
    path = tmp_path / "hostile.txt"
    hostile = HOSTILE.replace("\x00", "")  # a NUL byte makes a file binary, not text
    path.write_text(f"標題{hostile}\n\n第一句\x1b[1m粗體\x1b[0m。\n{hostile}\n第二句\u202e。\n",
                    encoding="utf-8")
    [doc] = load_file(path)
    assert isinstance(doc, RawDoc)
    article, _ = to_article(doc)
    assert article.title == "標題紅字反轉隔離"
    assert article.body == "第一句粗體。\n紅字反轉隔離\n第二句。"


def test_control_characters_removed_from_records_and_html(tmp_path: Path) -> None:
    record = RawDoc(doc_id="r1", kind="record", text="", source="x.jsonl:1", record={
        "title": f"標題{HOSTILE}", "text": "內文\x1b[2J。\r\n第二行\x00。",
        "author": "王\x1b[5m小明", "source": "\u202e社", "url": "https://example.org/\x07a",
        "date": "2025-04-15\x1b[0m"})
    article, _ = to_article(record)
    assert (article.title, article.body, article.reporter, article.outlet, article.url,
            article.date) == ("標題紅字反轉隔離", "內文。\n第二行。", "王小明", "社",
                              "https://example.org/a", "2025-04-15")
    html = RawDoc(doc_id="p", kind="html", source="p.html",
                  text="<html><body><article><h1>標&#27;[2J題</h1><p>內&#x202e;文。</p>"
                  "</article></body></html>")
    article, _ = to_article(html)
    assert (article.title, article.body) == ("標題", "內文。")


def test_cr_only_file_keeps_its_lines(tmp_path: Path) -> None:
    path = tmp_path / "mac.txt"
    path.write_bytes("舊式換行的標題\r第一句。\r第二句。\r".encode())
    [doc] = load_file(path)
    assert isinstance(doc, RawDoc)
    article, _ = to_article(doc)
    assert (article.title, article.body) == ("舊式換行的標題", "第一句。\n第二句。")


def test_record_id_with_escapes_is_cleaned(tmp_path: Path) -> None:
    path = tmp_path / "ids.jsonl"
    path.write_text('{"id": "a\\u001b[2Jb", "text": "內文。"}\n', encoding="utf-8")
    [doc] = load_file(path)
    assert isinstance(doc, RawDoc) and doc.doc_id == "ab"
