"""CRUD-RAG news lines: one article per line, `<dateline>，正文：<body>`, in files without suffix.

Ids: `<file stem>-<0-based line index>`, so that the `file` and `line` of CRUD-RAG's
`questions_located.jsonl` name an article directly (file documents_dup_part_1_part_1, line 0 ->
article documents_dup_part_1_part_1-0); the source is `<path>:<1-based line>`, as editors and
every other Problem count lines. The data has no titles: the title is derived from the body (its
first sentence after any 原标题 or news dateline, at most TITLE_CHARS characters); the body is
kept whole, dateline and original-title text included.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from ingest.readers.base import Problem, RawDoc

MARKER = "，正文："
MAX_DATELINE = 200  # longest dateline in the three shared files: 93 characters (URL + outlet)
TITLE_CHARS = 40
# Datelines seen: "2023-08-16 18:24:57", "[ 2023-07-28 16：40 ]", "[  2023/07/20  16:08  ]",
# "202307/21 07:57:00", "发布时间：2023-07-26 08:46:02", "… 2023年05月22日 10:33 …";
# "07-20 15:29" and "08/05" have no year and give no date (guessing one would be invented).
_DATE = re.compile(r"((?:19|20)\d\d)\s*[-/.年]?\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_ORIGINAL_TITLE = re.compile(r"\A原[标標][题題]\s*[：:]\s*")
# A news dateline/byline opening the body: 人民网柏林7月28日电 （记者…）, IT之家 8 月 16 日消息，
# 中国消费者报福州讯（记者…）, 【环球时报驻韩国特约记者 …】
_LEAD = re.compile(
    r"\A(?:【[^】\n]{0,40}】"
    r"|[^，。！？\n]{0,24}?(?:\d{1,2}\s*月\s*\d{1,2}\s*日\s*)?(?:电|讯|消息|报道)"
    r"(?=[\s，,（(：:【]|\Z)\s*(?:[（(][^）)\n]{0,30}[）)])?)[\s，,：:]*")
_TITLE_END = re.compile(r"[。！？!?；;\n]|\s{2,}|【|[（(]记者|本报讯")
_CLAUSE_END = re.compile(r"[，,、：:]")


class NewsLinesReader:
    name = "news-lines"
    suffixes: frozenset[str] = frozenset()  # CRUD-RAG's files have none: found by sniff
    line_records = True

    def sniff(self, head: str) -> bool:
        lines = head.split("\n")
        complete = lines[:-1] or lines  # the last line of a sample may be cut short
        found = [line for line in complete if line.strip()][:3]
        return bool(found) and all(_split(line) is not None for line in found)

    def read(self, path: Path, text: str, encoding: str,
             first_line: int = 1) -> Iterator[RawDoc | Problem]:
        for line_no, line in enumerate(text.split("\n"), start=first_line):
            if line.strip():
                yield _article(path, line_no, line.rstrip("\r"), encoding)


READER = NewsLinesReader()


def _split(line: str) -> tuple[str, str] | None:
    """(dateline, body) of a line, or None when it has no `，正文：` near its start."""
    head, sep, body = line.partition(MARKER)
    if not sep or len(head) > MAX_DATELINE:
        return None
    return head, body


def _article(path: Path, line_no: int, line: str, encoding: str) -> RawDoc | Problem:
    parts = _split(line)
    if parts is None:
        return Problem(str(path), "此行不是「日期，正文：內文」格式；若不是 CRUD-RAG "
                       "新聞檔，請改用其他 --format (line does not read '<date>，正文：<text>'; "
                       "if this is not a CRUD-RAG news file, choose another --format)", line_no)
    dateline, body = parts
    body = body.strip()
    if not body:
        return Problem(str(path), "「正文：」之後沒有內文 (no article text after 正文：)", line_no)
    doc_id = f"{path.stem}-{line_no - 1}"
    record = {"id": doc_id, "title": derive_title(body) or doc_id, "text": body,
              "date": dateline_date(dateline)}
    return RawDoc(doc_id=doc_id, kind="record", text=body, source=f"{path}:{line_no}",
                  encoding=encoding, record=record)


def dateline_date(dateline: str) -> str:
    """ISO date of a dateline ('[ 2023-07-28 16：40 ]' -> '2023-07-28'); '' without a year."""
    m = _DATE.search(unicodedata.normalize("NFKC", dateline))
    if not m:
        return ""
    try:
        return date(*(int(g) for g in m.groups())).isoformat()
    except ValueError:
        return ""


def derive_title(body: str) -> str:
    """The body's first sentence, after an 原标题： prefix or a news dateline, cut at a clause
    mark (or with an ellipsis) to at most TITLE_CHARS characters."""
    text = body.strip()
    lead = _ORIGINAL_TITLE.match(text) or _LEAD.match(text)
    if lead:
        text = text[lead.end():]
    end = _TITLE_END.search(text, 1)
    title = (text[: end.start()] if end else text).strip()
    if len(title) <= TITLE_CHARS:
        return title
    cuts = [m.start() for m in _CLAUSE_END.finditer(title, 0, TITLE_CHARS + 1)]
    if cuts and cuts[-1] >= 8:
        return title[: cuts[-1]]
    return title[:TITLE_CHARS] + "…"
