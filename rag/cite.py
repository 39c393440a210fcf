"""Citation verification: markers checked against the shown passages, quotes located exactly."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.dates import annotate_relative_dates
from rag.lang import CJK
from rag.prompt import refusal
from rag.schema import Citation, Draft, Passage
from rag.text import Span, fold, split_sentences

MARKER = re.compile(r"[\[【［]\s*(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\s*[\]】］]")
_CLAIM_END = re.compile(r"[。！？!?；;\n]|\.(?=\s|$)")
_DIGITS = re.compile(r"\d+")
_LATIN_NAME = re.compile(r"\b[A-Z][A-Za-z]+(?:[ .'-][A-Z][A-Za-z]+)*\b|\b[A-Z]{2,}\b")
_QUOTED = re.compile(r"[「『“\"]([^」』”\"]{5,})[」』”\"]")
MIN_CJK_OVERLAP = 0.3


@dataclass(frozen=True)
class Verified:
    """The answer after verification; `notes` say what was removed and why."""

    text: str
    citations: tuple[Citation, ...]
    refused: bool
    notes: tuple[str, ...] = ()


def verify(draft: Draft, passages: Sequence[Passage], lang: str) -> Verified:
    """Keep only markers that point at a passage the answerer was shown and that supports
    their claim; renumber them 1..n in order of appearance; an answer left with no valid
    citation becomes a refusal."""
    if draft.refused or not draft.text.strip():
        return Verified(refusal(lang), (), True)
    shown = passages[: draft.shown] if draft.shown is not None else passages
    text = draft.text
    notes: list[str] = []
    renumber: dict[int, int] = {}
    claims_by_passage: dict[int, list[str]] = {}
    pieces: list[str] = []
    last = 0
    for m in MARKER.finditer(text):
        claim = _claim_before(text, m.start())
        kept = []
        for n in (int(x) for x in re.findall(r"\d+", m.group(1))):
            reason = _reject_reason(n, claim, shown)
            if reason:
                notes.append(f"[{n}] {reason}")
                continue
            renumber.setdefault(n, len(renumber) + 1)
            claims_by_passage.setdefault(n, []).append(claim)
            kept.append(renumber[n])
        pieces.append(text[last : m.start()].rstrip(" ") if not kept else text[last : m.start()])
        pieces.append("".join(f"[{k}]" for k in dict.fromkeys(kept)))
        last = m.end()
    pieces.append(text[last:])
    if not renumber:
        notes.append("回答沒有可驗證的引用，已改為拒答 (no verifiable citation: answer withheld)")
        return Verified(refusal(lang), (), True, tuple(notes))
    citations = tuple(
        _citation(new, shown[old - 1], claims_by_passage[old])
        for old, new in sorted(renumber.items(), key=lambda kv: kv[1]))
    return Verified("".join(pieces).strip(), citations, False, tuple(notes))


def _claim_before(text: str, pos: int) -> str:
    """The sentence a marker at `pos` closes: markers follow their claim, before or after '。'."""
    head = MARKER.sub("", text[:pos]).rstrip()
    head = head[:-1] if head.endswith(("。", "！", "？", ".", "!", "?")) else head
    ends = list(_CLAIM_END.finditer(head))
    return head[ends[-1].end() :].strip() if ends else head.strip()


def _reject_reason(n: int, claim: str, passages: Sequence[Passage]) -> str:
    if not 1 <= n <= len(passages):
        return f"指向不存在的段落 (no passage {n} was shown)"
    if not supports(passages[n - 1], claim, passages):
        return f"段落 {n} 不支持這句話 (passage {n} does not support: {claim[:40]})"
    return ""


def supports(passage: Passage, claim: str, shown: Sequence[Passage] = ()) -> bool:
    """Cheap support check after Traditional/Simplified folding: the claim's numbers and the
    names it shares with any shown passage must be in this one; a Chinese claim must share
    enough character bigrams with it; quoted text must be verbatim."""
    text = fold(annotate_relative_dates(passage.text, passage.date))
    compact = re.sub(r"\s+", "", text)
    if any(d not in text for d in _DIGITS.findall(fold(claim))):
        return False
    every = fold(" ".join(p.text for p in shown))
    for name in _LATIN_NAME.findall(claim):
        if fold(name) in every and fold(name) not in text:
            return False
    for quoted in _QUOTED.findall(claim):
        if re.sub(r"\s+", "", fold(quoted)) not in compact:
            return False
    grams = _bigrams(fold(claim))
    if len(CJK.findall(claim)) >= 4 and grams:
        return len(grams & _bigrams(text)) / len(grams) >= MIN_CJK_OVERLAP
    # A claim in another language must at least share a number, a name or a quote with it.
    anchors = (_DIGITS.findall(fold(claim)) + [fold(n) for n in _LATIN_NAME.findall(claim)]
               + [fold(q) for q in _QUOTED.findall(claim)])
    return any(a in text for a in anchors)


def _bigrams(text: str) -> set[str]:
    chars = [c for c in text if CJK.match(c)]
    return {a + b for a, b in zip(chars, chars[1:], strict=False)}


def _terms(text: str) -> set[str]:
    folded = fold(text)
    return _bigrams(folded) | set(re.findall(r"[a-z0-9]{2,}", folded))


def best_span(passage: Passage, claims: Sequence[str]) -> Span:
    """The sentence of the passage that shares most terms with the claims (offsets in-passage)."""
    wanted = set().union(*(_terms(c) for c in claims)) if claims else set()
    spans = split_sentences(passage.text) or [Span(passage.text, 0, len(passage.text))]
    return max(spans, key=lambda s: (len(_terms(s.text) & wanted), -s.start))


def _citation(n: int, passage: Passage, claims: Sequence[str]) -> Citation:
    span = best_span(passage, claims)
    return Citation(n=n, article_id=passage.article_id, title=passage.title, date=passage.date,
                    quote=span.text, start=passage.start + span.start,
                    end=passage.start + span.end, chunk_id=passage.chunk_id)
