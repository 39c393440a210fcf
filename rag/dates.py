"""Dates, in one place: parsing what articles write, ISO checks for filters, the integer form
the indexes filter on, and relative days ('昨(18)日') resolved against the article date."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from rag.errors import InputError

_NUMERIC_DATE = re.compile(r"(\d{1,4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{1,4})")
_CJK_DATE = re.compile(r"(\d{2,4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")


def parse_date(value: str) -> str:
    """ISO 8601 date from 2/7/2026 (month/day/year, as the news site writes), 2026-02-07,
    2026/2/7, 2026年2月7日,民國 115年2月7日 or an ISO timestamp; "" when there is none."""
    value = value.strip()
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    if m := _CJK_DATE.search(value):
        y, mo, d = (int(g) for g in m.groups())
        y = y + 1911 if y < 1000 else y  # 民國 year
        return _iso(y, mo, d)
    if m := _NUMERIC_DATE.search(value):
        a, b, c = (int(g) for g in m.groups())
        return _iso(a, b, c) if a > 31 else _iso(c, a, b)
    return ""


def _iso(year: int, month: int, day: int) -> str:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return ""


def iso_date(value: str | None, label: str = "日期", name: str = "date") -> str | None:
    """A filter bound as strict ISO 8601 (YYYY-MM-DD), None when empty; InputError otherwise
    (a silently ignored bound would answer from articles the user excluded)."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise InputError(f"{label}格式不正確：{text!r}，請用 YYYY-MM-DD（例如 2025-08-01）。 "
                     f"Invalid {name} {text!r}: use YYYY-MM-DD, e.g. 2025-08-01.")


def date_int(iso: str) -> int:
    """'2025-04-16' -> 20250416; '' -> 0."""
    digits = re.sub(r"\D", "", iso or "")[:8]
    return int(digits.ljust(8, "0")) if digits else 0


_RELATIVE = re.compile(r"(昨|今|前|明)\s*[(（]\s*(\d{1,2})\s*[)）]\s*日")
_BARE_DAY = re.compile(r"(?<![\d月])(?:[(（]\s*(\d{1,2})\s*[)）]|(?<=[於于])(\d{1,2}))\s*日")
_OFFSETS = {"昨": -1, "今": 0, "前": -2, "明": 1}


def resolve_day(article_date: str, day: int, hint: str = "") -> str:
    """ISO date of 'day N' near the article date: the latest such day not after it (or 明日)."""
    try:
        base = date.fromisoformat(article_date)
    except ValueError:
        return ""
    if hint in _OFFSETS:
        guess = base + timedelta(days=_OFFSETS[hint])
        if guess.day == day:
            return guess.isoformat()
    for back in range(0, 31):  # "(6)日" in a news story means the most recent 6th
        candidate = base - timedelta(days=back)
        if candidate.day == day:
            return candidate.isoformat()
    return ""


def annotate_relative_dates(text: str, article_date: str) -> str:
    """'昨(18)日' -> '昨(18)日〔2024-10-18〕' given the article date, so nobody has to guess."""
    if not article_date:
        return text

    def relative(m: re.Match[str]) -> str:
        iso = resolve_day(article_date, int(m.group(2)), m.group(1))
        return f"{m.group(0)}〔{iso}〕" if iso else m.group(0)

    def bare(m: re.Match[str]) -> str:
        iso = resolve_day(article_date, int(m.group(1) or m.group(2)))
        return f"{m.group(0)}〔{iso}〕" if iso else m.group(0)

    text = _RELATIVE.sub(relative, text)
    return _BARE_DAY.sub(lambda m: m.group(0) if text[m.end():m.end() + 1] == "〔" else bare(m),
                         text)
