"""Reading input files: decoding (UTF-8/BOM, Big5/CP950, UTF-16) and splitting into documents."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
RECORD_SUFFIXES = {".jsonl", ".json", ".ndjson"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | RECORD_SUFFIXES


@dataclass(frozen=True)
class RawDoc:
    """One document before cleaning: file text, or one JSON record."""

    doc_id: str
    kind: str  # "text" | "markdown" | "html" | "record"
    text: str
    source: str
    encoding: str = "utf-8"
    record: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """An input that was skipped, with where it is and why."""

    source: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.message}"


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path | Problem]:
    """Files under the given paths (folders recursively, sorted), or a Problem per bad path."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.suffix.lower() in SUPPORTED and not child.name.startswith("."):
                    yield child
        elif path.is_file():
            yield path
        else:
            yield Problem(str(path), "找不到檔案或資料夾 (no such file or folder)")


def load_file(path: Path) -> list[RawDoc | Problem]:
    """Decode one file and return its documents; never raises for bad content."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        return [Problem(str(path), f"不支援的格式 {suffix or '(無副檔名)'} (supported: "
                        + ", ".join(sorted(SUPPORTED)) + ")")]
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [Problem(str(path), f"無法讀取 (cannot read): {exc.strerror}")]
    try:
        text, encoding = decode(data)
    except DecodeError as exc:
        return [Problem(str(path), exc.message, exc.line)]
    if not text.strip():
        return [Problem(str(path), "空檔案 (empty file)")]
    if suffix in RECORD_SUFFIXES:
        return list(_records(path, text, encoding))
    kind = "html" if suffix in HTML_SUFFIXES else "markdown" if suffix != ".txt" else "text"
    return [RawDoc(path.stem, kind, text, str(path), encoding)]


class DecodeError(ValueError):
    """Bytes that are no text in a supported encoding; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message, self.line = message, line


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding); Big5/CP950 and UTF-16 are detected, not guessed. Raises DecodeError."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data[3:], "utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(data, "utf-16")
    utf16 = _utf16_without_bom(data)
    if utf16:
        return _strict(data, utf16)
    if b"\x00" in data[:8192]:
        raise DecodeError("二進位檔，不是文字 (binary file, not text)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    line = data[: utf8_error.start].count(b"\n") + 1
    if not _mostly_utf8(data):
        for encoding in _legacy_candidates(data):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                continue
    raise DecodeError(f"無法解碼的位元組，位移 {utf8_error.start} (undecodable bytes at byte "
                      f"{utf8_error.start}: not UTF-8, Big5 or UTF-16)", line)


def _mostly_utf8(data: bytes) -> bool:
    """UTF-8 with a few corrupt bytes must be reported, not silently decoded as Big5 mojibake."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 0x2E7F)
    return good >= 10 and bad * 20 < good


def _strict(data: bytes, encoding: str) -> tuple[str, str]:
    try:
        return data.decode(encoding).lstrip("\ufeff"), encoding
    except UnicodeDecodeError as exc:
        raise DecodeError(f"無法以 {encoding} 解碼，位移 {exc.start} "
                          f"(undecodable {encoding} bytes at {exc.start})") from exc


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 without a BOM: NUL bytes appear, and one byte order decodes to readable text."""
    sample = data[:4096]
    if b"\x00" not in sample or len(data) % 2:
        return None
    sample = sample[: len(sample) // 2 * 2]
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        readable = sum(1 for ch in text if ch.isprintable() or ch in "\r\n\t")
        if readable >= 0.97 * len(text) and _cjk_or_ascii(text):
            return encoding
    return None


def _cjk_or_ascii(text: str) -> bool:
    common = sum(1 for ch in text if ord(ch) < 0x80 or 0x3000 <= ord(ch) <= 0x9FFF
                 or 0xFF00 <= ord(ch) <= 0xFFEF or ch == "\xa0")
    return common >= 0.9 * len(text)


def _legacy_candidates(data: bytes) -> list[str]:
    """Taiwanese files are usually Big5/CP950; GB18030 only when charset-normalizer prefers it."""
    from charset_normalizer import from_bytes

    best = from_bytes(data[:65536], cp_isolation=["cp950", "big5hkscs", "gb18030"]).best()
    if best is not None and best.encoding == "gb18030":
        return ["gb18030", "cp950", "big5hkscs"]
    return ["cp950", "big5hkscs", "gb18030"]


def _records(path: Path, text: str, encoding: str) -> Iterator[RawDoc | Problem]:
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Problem(str(path), f"不是有效的 JSON (invalid JSON): {exc.msg}", exc.lineno)
            return
        items = data.get("records", data.get("data", [data])) if isinstance(data, dict) else data
        if not isinstance(items, list):
            yield Problem(str(path), "JSON 應為紀錄的清單 (expected a list of records)")
            return
        for n, item in enumerate(items, start=1):
            yield _record(path, item, encoding, index=n, line=None)
        return
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Problem(str(path), f"此行不是 JSON (not JSON): {exc.msg}", line_no)
            continue
        yield _record(path, item, encoding, index=line_no, line=line_no)


def _record(path: Path, item: Any, encoding: str, index: int, line: int | None) -> RawDoc | Problem:
    where = f"record {index}" if line is None else f"line {line}"
    if not isinstance(item, dict):
        return Problem(str(path), f"紀錄不是物件 (record is not an object, {where})", line)
    text = item.get("text", item.get("content"))
    if not isinstance(text, str) or not text.strip():
        return Problem(str(path), f"紀錄缺少 text/content 欄位 (record has no text, {where})", line)
    doc_id = str(item.get("id") or f"{path.stem}-{index}")
    source = f"{path}:{line}" if line else f"{path}#{index}"
    return RawDoc(doc_id, "record", text, source, encoding, record=dict(item))
