"""Chunking: an article body -> runs of whole sentences within a token budget; pure functions."""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.schema import Article, Chunk
from rag.text import Span, split_sentences

Counter = Callable[[str], int]
_CLAUSE_END = re.compile(r"[，,、：:]")


def chunk_article(
    article: Article,
    max_tokens: int,
    count: Counter,
    overlap_sentences: int = 1,
    fits: Callable[[str], bool] | None = None,
) -> list[Chunk]:
    """Greedy packing of sentences up to `max_tokens`; the next chunk repeats the last
    `overlap_sentences` sentences. `fits(text)` is the embedding model's own limit check."""
    if max_tokens < 8:
        raise ValueError(f"chunk size must be at least 8 tokens, got {max_tokens}")
    body = article.body
    units = _units(body, max_tokens, count, fits)
    chunks: list[Chunk] = []
    i = 0
    while i < len(units):
        j = i + 1
        while j < len(units) and _ok(body[units[i].start : units[j].end], max_tokens, count, fits):
            j += 1
        text = body[units[i].start : units[j - 1].end]
        chunks.append(Chunk(article_id=article.article_id, index=len(chunks), text=text,
                            start=units[i].start, end=units[j - 1].end, n_tokens=count(text)))
        if j >= len(units):
            break
        i = max(j - overlap_sentences, i + 1)  # always make progress
        # shrink the overlap until the next chunk can add a new sentence; a chunk that is
        # only the previous chunk's tail would be a duplicate passage
        while i < j and not _ok(body[units[i].start : units[j].end], max_tokens, count, fits):
            i += 1
    return chunks


def _ok(text: str, max_tokens: int, count: Counter, fits: Callable[[str], bool] | None) -> bool:
    return count(text) <= max_tokens and (fits is None or fits(text))


def _units(body: str, max_tokens: int, count: Counter,
           fits: Callable[[str], bool] | None) -> list[Span]:
    """Sentences; a sentence over the limit alone is cut at clause marks, then by tokens."""
    units: list[Span] = []
    for sentence in split_sentences(body):
        if _ok(sentence.text, max_tokens, count, fits):
            units.append(sentence)
        else:
            units.extend(_split_long(body, sentence, max_tokens, count, fits))
    return units


def _split_long(body: str, span: Span, max_tokens: int, count: Counter,
                fits: Callable[[str], bool] | None) -> list[Span]:
    cuts = [span.start + m.end() for m in _CLAUSE_END.finditer(span.text)] + [span.end]
    pieces: list[Span] = []
    start = span.start
    prev = None
    for cut in cuts:
        if prev is not None and not _ok(body[start:cut], max_tokens, count, fits):
            pieces.append(Span(body[start:prev], start, prev))
            start = prev
        prev = cut
    pieces.append(Span(body[start : span.end], start, span.end))
    out: list[Span] = []
    for piece in pieces:
        out.extend(_hard_split(body, piece, max_tokens, count, fits))
    return out


def _hard_split(body: str, span: Span, max_tokens: int, count: Counter,
                fits: Callable[[str], bool] | None) -> list[Span]:
    """Last resort for a clause over the limit: the longest prefixes that fit."""
    if _ok(span.text, max_tokens, count, fits):
        return [span]
    out: list[Span] = []
    start = span.start
    while start < span.end:
        end = _longest_fit(body, start, span.end, max_tokens, count, fits)
        out.append(Span(body[start:end], start, end))
        start = end
    return out


def _longest_fit(body: str, start: int, stop: int, max_tokens: int, count: Counter,
                 fits: Callable[[str], bool] | None) -> int:
    """The largest end <= stop with body[start:end] within the limit (at least start + 1).

    Galloping (widths 1, 2, 4, ... until one fails), then binary search between the last
    width that fitted and the first that did not: each probe costs the length of a piece, not
    of the whole clause. A binary search over the whole clause made a 1 MB article without
    punctuation take 150 s to chunk (quadratic); see bench/big_article.py."""
    lo, width = start + 1, 1
    while True:
        probe = min(start + width, stop)
        if not _ok(body[start:probe], max_tokens, count, fits):
            hi = probe - 1
            break
        lo = probe
        if probe == stop:
            return stop
        width *= 2
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _ok(body[start:mid], max_tokens, count, fits):
            lo = mid
        else:
            hi = mid - 1
    return lo
