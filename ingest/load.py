"""Reading input files: which files, which reader (ingest/readers), the size cap, decoding."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ingest import readers
from ingest.readers.base import Problem, RawDoc, Reader
from rag.config import Settings
from rag.errors import InputError

__all__ = ["DecodeError", "Problem", "RawDoc", "decode", "format_names", "iter_files",
           "load_file"]

DEFAULT_MAX_BYTES = Settings.max_article_bytes  # RAG_MAX_ARTICLE_BYTES; callers pass theirs
HEAD_BYTES = 8192  # what content detection reads of a file whose suffix says nothing
ENCODING_SAMPLE = 65536  # what the encoding of a streamed (line-format) file is judged on
_CHUNK = 1 << 20  # an over-long line is skipped in pieces of this size, never held whole


def format_names() -> list[str]:
    """The names `load_file(fmt=...)`, `iter_files(fmt=...)` and `rag ingest --format` take."""
    return readers.names()


def iter_files(paths: Iterable[str | Path], fmt: str | None = None) -> Iterator[Path | Problem]:
    """Files under the given paths (folders recursively, sorted), or a Problem per bad path.

    In folders: files whose suffix a format claims, and files without suffix whose content a
    format recognises; with `fmt`, that format's suffixes and files without suffix. Hidden
    files are skipped. Named files are always yielded (load_file judges them)."""
    forced = _named(fmt)
    for raw in paths:
        path = Path(raw)
        problem = bad_name(path)
        if problem is not None:
            yield problem
            continue
        try:
            mode = path.stat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            yield Problem(str(path), "找不到檔案或資料夾 (no such file or folder)")
            continue
        except OSError as exc:
            yield _unreadable(path, exc)
            continue
        if stat.S_ISDIR(mode):
            yield from _walk(path, forced)
        elif stat.S_ISREG(mode):
            yield path
        else:
            yield Problem(str(path), "不是一般檔案 (not a regular file)")


def _walk(folder: Path, forced: Reader | None) -> Iterator[Path | Problem]:
    errors: list[OSError] = []
    files: list[Path] = []
    # os.walk, not Path.rglob: rglob skips a folder it cannot list without a word
    for root, _dirs, names in os.walk(folder, onerror=errors.append):
        files.extend(Path(root, name) for name in names if not name.startswith("."))
    for exc in errors:
        yield _unreadable(Path(exc.filename) if exc.filename else folder, exc, folder=True)
    for path in sorted(files):
        try:
            wanted = path.is_file() and _wanted(path, forced)
        except OSError as exc:  # a file without suffix that cannot be opened to look inside
            yield _unreadable(path, exc)
            continue
        if wanted:
            yield bad_name(path) or path


def _wanted(path: Path, forced: Reader | None) -> bool:
    """Whether a folder walk takes this file (raises OSError when its content is unreadable)."""
    suffix = path.suffix.lower()
    if forced is not None:
        return suffix in forced.suffixes or not suffix
    if readers.by_suffix(suffix) is not None:
        return True
    return not suffix and _sniffed(path) is not None


def load_file(path: Path, fmt: str | None = None,
              max_bytes: int = DEFAULT_MAX_BYTES) -> list[RawDoc | Problem]:
    """Decode one file and return its documents; never raises for bad content.

    The reader is `fmt` when given, else the one claiming the suffix, else the one recognising
    the first bytes. A document over `max_bytes` (Settings.max_article_bytes) is a Problem,
    found from the file size (whole-file formats) or each line's size (line formats) before
    anything big is read."""
    problem = bad_name(path)
    if problem is not None:
        return [problem]
    reader = _named(fmt) or readers.by_suffix(path.suffix)
    try:
        size = path.stat().st_size
        if reader is None:
            reader = _sniffed(path)
        if reader is None:
            return [Problem(str(path), _unsupported(path.suffix))]
        if reader.line_records:
            return list(_read_lines(path, reader, max_bytes))
        if size > max_bytes:
            return [Problem(str(path), _too_big("檔案", "file", size, max_bytes)
                            + _whole_file_hint(path, reader))]
        data = path.read_bytes()
    except OSError as exc:
        return [_unreadable(path, exc)]
    try:
        text, encoding = decode(data)
    except DecodeError as exc:
        return [Problem(str(path), exc.message, exc.line)]
    if not text.strip():
        return [Problem(str(path), "空檔案 (empty file)")]
    return list(reader.read(path, text, encoding))


def bad_name(path: Path) -> Problem | None:
    """A path that cannot be stored or printed as it is: bytes that are not UTF-8 (Python holds
    them as lone surrogates) or control characters. Such a file is reported, not read: a stored
    escaped name would no longer lead back to the file (--prune would drop it)."""
    text = str(path)
    if _shown(path) != text:
        return Problem(_shown(path), "檔名不是有效的 UTF-8，請改名，例如用 convmv "
                       "(file name is not valid UTF-8: rename the file, e.g. with "
                       "`convmv -f big5 -t utf8 --notest FILE`)")
    from ingest.clean import strip_controls

    if strip_controls(text) != text or "\n" in text or "\t" in text:
        shown = text.encode("unicode_escape").decode("ascii")
        return Problem(shown, "檔名含控制字元，請改名 (file name contains control characters: "
                       "rename the file)")
    return None


def _shown(path: Path) -> str:
    """The path as text that can be stored and printed: undecodable bytes as \\xNN escapes."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")
    return str(path)


def _named(fmt: str | None) -> Reader | None:
    if fmt is None:
        return None
    reader = readers.by_name(fmt)
    if reader is None:
        raise InputError(f"不明的格式：{fmt}；可用 {', '.join(readers.names())}。 Unknown format "
                         f"{fmt!r}; use one of: {', '.join(readers.names())}.")
    return reader


def _sniffed(path: Path) -> Reader | None:
    """The reader that recognises the file's first bytes (raises OSError when unreadable)."""
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
    try:
        text, _ = decode(_whole_lines(head, len(head) < HEAD_BYTES))
    except DecodeError:
        return None
    return readers.detect(text)


def _unsupported(suffix: str) -> str:
    formats = ", ".join(readers.names())
    return (f"不支援的格式 {suffix or '(無副檔名)'}，內容也無法辨識；可用 --format 指定 "
            f"(unsupported format {suffix or '(no suffix)'} and the content matches no known "
            f"format; supported suffixes: {', '.join(sorted(readers.suffixes()))}; "
            f"or name the format with --format {{{formats}}})")


def _unreadable(path: Path, exc: OSError, folder: bool = False) -> Problem:
    what = ("無法讀取資料夾", "cannot read folder") if folder else ("無法讀取", "cannot read")
    return Problem(_shown(path), f"{what[0]} ({what[1]}): {exc.strerror or exc}；請檢查權限 "
                   "(check the permissions)")


def _too_big(zh: str, en: str, size: int, max_bytes: int) -> str:
    return (f"{zh}有 {size:,} 位元組，超過單篇文章上限 {max_bytes:,}（設定 RAG_MAX_ARTICLE_BYTES）"
            f"；請分割，或調高上限 ({en} is {size:,} bytes, over the article size cap of "
            f"{max_bytes:,} bytes set by RAG_MAX_ARTICLE_BYTES / max_article_bytes: split it, "
            "or raise the cap)")


def _whole_file_hint(path: Path, reader: Reader) -> str:
    """For a big file read whole: the line format its first lines look like, if any."""
    try:
        with path.open("rb") as f:
            head, _ = decode(_whole_lines(f.read(HEAD_BYTES), False))
    except (OSError, DecodeError):
        return ""
    found = next((r for r in readers.readers().values() if r.line_records and r.sniff(head)),
                 None)
    if found is not None:
        return (f"；開頭像是 {found.name} 格式，可用 --format {found.name} 逐行讀取 (its first "
                f"lines look like {found.name}: --format {found.name} reads one article per "
                "line)")
    if reader.name == "json":
        return ("；改存為每行一筆的 JSONL 即可逐行讀取 (write one record per line as .jsonl: "
                "it is read line by line)")
    return ""


# ---------------------------------------------------------------- streaming line formats


def _read_lines(path: Path, reader: Reader, max_bytes: int) -> Iterator[RawDoc | Problem]:
    """A line format read one line at a time: memory stays within about one article."""
    found = False
    try:
        with path.open("rb") as f:
            head = f.read(ENCODING_SAMPLE)
            f.seek(0)
            try:
                encoding = _stream_encoding(head, len(head) < ENCODING_SAMPLE)
            except DecodeError as exc:
                yield Problem(str(path), exc.message, exc.line)
                return
            for line_no, line in _lines(f, encoding, max_bytes):
                if isinstance(line, _Unread):
                    found = True
                    yield Problem(str(path), line.message, line_no)
                elif line.strip():
                    found = True
                    yield from reader.read(path, line, encoding, first_line=line_no)
    except OSError as exc:
        yield _unreadable(path, exc)
        return
    if not found:
        yield Problem(str(path), "空檔案 (empty file)")


def _stream_encoding(head: bytes, complete: bool) -> str:
    """The encoding of a streamed file, judged on its first bytes; corrupt bytes further on
    are reported on their own line."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8"  # _lines drops the BOM
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in head:  # UTF-16 without BOM, or binary: decode() tells them apart
        return decode(head[: len(head) // 2 * 2] if not complete else head)[1]
    try:
        return decode(_whole_lines(head, complete))[1]
    except DecodeError as exc:
        if exc.binary:
            raise
        return "utf-8"  # mostly UTF-8: the bad lines become Problems, the others are read


def _whole_lines(head: bytes, complete: bool) -> bytes:
    """A sample cut after its last newline, so that no character is cut in half ("\\n" is never
    part of a UTF-8, Big5 or GB18030 multi-byte character)."""
    if complete:
        return head
    cut = head.rfind(b"\n")
    if cut < 0:  # one long line: cut after a byte below 0x40, which no multi-byte character holds
        cut = max(head.rfind(bytes([b])) for b in range(0x40))
    if cut < 0:  # nothing but multi-byte characters: end on a UTF-8 character boundary
        cut = len(head) - 1
        while cut > 0 and 0x80 <= head[cut] < 0xC0:
            cut -= 1
        cut -= 1
    return head[: cut + 1]


def _lines(f: BinaryIO, encoding: str, max_bytes: int) -> Iterator[tuple[int, str | _Unread]]:
    """(1-based line number, the line's text or why it was not read), one line at a time."""
    if encoding.startswith("utf-16"):
        yield from _utf16_lines(f, encoding, max_bytes)
        return
    line_no = 0
    while True:
        raw = f.readline(max_bytes + 3)
        if not raw:
            return
        line_no += 1
        body = raw.rstrip(b"\r\n")
        if line_no == 1:
            body = body.removeprefix(b"\xef\xbb\xbf")
        size = len(body)
        if not raw.endswith(b"\n") and len(raw) == max_bytes + 3:
            size += _skip_rest(f)
        if size > max_bytes:
            yield line_no, _Unread(_too_big("此行", "line", size, max_bytes))
            continue
        try:
            yield line_no, body.decode(encoding)
        except UnicodeDecodeError as exc:
            yield line_no, _Unread(
                f"無法以 {encoding} 解碼，此行位移 {exc.start} (undecodable bytes at byte "
                f"{exc.start} of this line: not {encoding})")


def _utf16_lines(f: BinaryIO, encoding: str,
                 max_bytes: int) -> Iterator[tuple[int, str | _Unread]]:
    text = io.TextIOWrapper(f, encoding=encoding, errors="strict", newline="")
    line_no = 0
    try:
        while True:
            raw = text.readline(max_bytes + 3)
            if not raw:
                return
            line_no += 1
            body = raw.rstrip("\r\n")
            size = len(body.encode("utf-16-le"))
            if not raw.endswith("\n") and len(raw) == max_bytes + 3:
                while (piece := text.readline(_CHUNK)) and not piece.endswith("\n"):
                    size += len(piece.encode("utf-16-le"))
                size += len(piece.encode("utf-16-le"))
            if size > max_bytes:
                yield line_no, _Unread(_too_big("此行", "line", size, max_bytes))
            else:
                yield line_no, body
    except UnicodeDecodeError:
        yield line_no + 1, _Unread(f"無法以 {encoding} 解碼 (undecodable {encoding} bytes)"
                                        "；其後各行未讀 (the rest of the file was not read)")
    finally:
        text.detach()


def _skip_rest(f: BinaryIO) -> int:
    """Bytes skipped up to the end of an over-long line, read in bounded pieces."""
    skipped = 0
    while piece := f.readline(_CHUNK):
        skipped += len(piece.rstrip(b"\r\n"))
        if piece.endswith(b"\n"):
            break
    return skipped


@dataclass(frozen=True)
class _Unread:
    """A line that was not read, and why."""

    message: str


# ---------------------------------------------------------------- decoding


class DecodeError(ValueError):
    """Bytes that are no text in a supported encoding; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None, binary: bool = False) -> None:
        super().__init__(message)
        self.message, self.line, self.binary = message, line, binary


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
        raise DecodeError("二進位檔，不是文字 (binary file, not text)", binary=True)
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
