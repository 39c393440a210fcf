"""Citation verification: every claim of a draft needs a marker to a shown passage that supports
it (its numbers with their units, its names, quotes and negation); links, images, HTML and
control characters go unless the cited passage holds them; quotes are located exactly. One pass
over the draft, which is capped."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rag.dates import annotate_relative_dates
from rag.lang import CJK, CJK_CLASS, CJK_RUN
from rag.prompt import refusal
from rag.safety import TERMINAL_ESCAPE, looks_like_instruction
from rag.schema import Citation, Draft, Passage
from rag.text import Span, fold, split_sentences

MARKER = re.compile(r"[\[【［]\s*(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\s*[\]】］]")
# An LLM answer is bounded by RAG_LLM_MAX_TOKENS (512 tokens, ~1,000 characters) and an extractive
# one is a few sentences; past this a draft is cut at a sentence end, with a note. Verifying the
# longest draft takes about 1 s when every claim is reworded (bench/verify.py: jieba's tagger
# is most of it), 0.1 s when quoted.
MAX_DRAFT_CHARS = 8_000
MIN_CJK_OVERLAP = 0.3

_CLAIM_END = re.compile(r"[。！？!?；;\n]|\.(?=\s|$)")
_ENDS = ("。", "！", "？", ".", "!", "?", "；", ";")
_WORDY = re.compile(rf"[0-9A-Za-z{CJK_CLASS}]")
_LATIN_WORD = re.compile(r"\b[A-Za-z]{2,}\b")
_LATIN_NAME = re.compile(r"\b[A-Z][A-Za-z]+(?:[ .'-][A-Z][A-Za-z]+)*\b|\b[A-Z]{2,}\b")
_QUOTED = re.compile(r"[「『“\"]([^」』”\"]{5,})[」』”\"]")

# ------------------------------------------------------------------ active content in a draft
# Never legitimate in an answer, removed before anything else: terminal escape sequences and
# controls (C0 but newline and tab, DEL, C1, bidi overrides), markdown images (a request to any
# URL the moment a renderer shows them), script/style blocks and HTML comments.
_ALWAYS = re.compile(
    rf"{TERMINAL_ESCAPE}|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
    r"|!\[[^\]\n]{0,300}\]\([^)\n]{0,2000}\)"
    r"|<(script|style|iframe|object)\b[^>]{0,500}>.{0,20000}?</\1\s*>|<!--.{0,20000}?-->",
    re.IGNORECASE | re.DOTALL)
# Kept only when the cited passage holds them verbatim: links (their text stays), URLs,
# e-mail addresses, bare domain names, HTML tags.
_LINK = re.compile(r"\[([^\[\]\n]{1,300})\]\(([^()\s]{1,2000})\)")
_ACTIVE = re.compile(
    r"(?:https?|ftp|file|javascript|data|vbscript|mailto):[^\s<>\"'()\[\]「」『』（）]+"
    r"|www\.[^\s<>\"'()\[\]「」『』（）]+"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\b(?:[a-z0-9-]+\.)+(?:com|net|org|info|biz|gov|edu|int|io|co|ai|tw|cn|hk|jp|kr|sg|my|us"
    r"|uk|eu|de|fr|ru|cc|to|ly|xyz|top|site|online|link|click|app|dev|me|help|live|shop|club|vip"
    r"|win|pro|example)\b(?:/[^\s<>\"'()\[\]]*)?"
    r"|\b(?:[a-z0-9-]+\.)+[a-z]{2,24}/[^\s<>\"'()\[\]]*"  # any other domain with a path
    r"|</?[a-z][^<>\n]{0,500}>",
    re.IGNORECASE | re.ASCII)
_TRAILING = ".,;:!?"
_EMPTY_PARENS = re.compile(r"\(\s*\)|（\s*）")

# ------------------------------------------------------------------ meaning
# Quantities: a number and the unit or measure word right after it (folded). 「300家」 is not
# 「300人」 and 「8月」 not 「9月」; a paraphrase may drop a unit (「2025加入」), not change it.
_UNITS = ("%年月日号时点分秒天周岁家人名位个件项座间次届元块万亿千百倍条所台辆架艘场层楼公米里吨斤"
          "张本部份种类队国州县户栋亩度成")
_NUMBER = re.compile(rf"(\d+(?:,\d{{3}})*(?:\.\d+)?)\s*(?:多|余|几)?\s*([{_UNITS}])?")
_CN_NUMBER = re.compile(rf"([零〇一二两三四五六七八九十百千万亿]{{2,}}|[十百千万亿])"
                        rf"\s*(?:多|余)?\s*([{_UNITS[1:]}])")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
_MONTH_WORD = "|".join(_MONTHS) + "|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
_EN_MONTH = re.compile(rf"\b({_MONTH_WORD})\b\.?\s*\d|\d\s*(?:st|nd|rd|th)?\s+(?:of\s+)?"
                       rf"({_MONTH_WORD})\b")
# Negation cues (folded), and words that hold one without negating anything.
_NEGATION = re.compile(r"[没未非无不勿毋]|否认|拒绝"
                       r"|\b(?:not|no|never|none|nobody|nothing|neither|nor|without|cannot"
                       r"|denied|denies|deny|refused|refuses)\b|n't\b")
_NOT_NEGATION = re.compile(
    "未来|未必|非常|非凡|非洲|除非|是非|莫非|不仅|不但|不断|不少|不同|不过|不久|不论|不管|不只"
    "|不禁|不妨|不时|不错|不得不|不可或缺|差不多|了不起|无论|无数|无限|无线|无人机|无障碍|毫无疑问")
# Opposites: a claim with one of a pair against a passage with the other contradicts it.
_OPPOSITES = (("增加", "减少"), ("上升", "下降"), ("上涨", "下跌"), ("提高", "降低"),
              ("增长", "衰退"), ("成功", "失败"), ("加入", "退出"), ("同意", "反对"),
              ("支持", "反对"), ("通过", "否决"), ("承认", "否认"), ("接受", "拒绝"),
              ("最高", "最低"), ("最大", "最小"), ("最多", "最少"), ("扩大", "缩小"),
              ("获利", "亏损"), ("胜诉", "败诉"), ("increase", "decrease"), ("rise", "fall"),
              ("joined", "left"), ("won", "lost"), ("highest", "lowest"), ("largest", "smallest"))
_CLAUSE_END = re.compile(r"[，,；;：:。！？!?\n]")


@dataclass(frozen=True)
class Verified:
    """The answer after verification; `notes` say what was removed and why."""

    text: str
    citations: tuple[Citation, ...]
    refused: bool
    notes: tuple[str, ...] = ()


# ------------------------------------------------------------------ the draft, parsed


@dataclass
class _Clause:
    """Text closed by a group of adjacent markers; the text after a sentence's last marker
    belongs to the last clause (「A[1]，B。」: [1] must support A and B)."""

    text: str
    numbers: list[int]
    accepted: list[int] = field(default_factory=list)


@dataclass
class _Sentence:
    pieces: list[str | int]  # text, or the index of the clause a marker closes
    clauses: list[_Clause]
    ended: bool  # closed by sentence-ending punctuation (a cut stream's last one is not)
    dangling: str = ""  # words after the last marker of an unfinished sentence (「…[1]，而且」)

    @property
    def text(self) -> str:
        return "".join(p for p in self.pieces if isinstance(p, str))


def _segments(text: str) -> Iterator[tuple[str, bool] | tuple[int, ...]]:
    """Text runs, each ending at a sentence end or not, and marker groups, in order."""
    pos = 0
    for m in MARKER.finditer(text):
        yield from _runs(text[pos:m.start()])
        yield tuple(int(x) for x in re.findall(r"\d+", m.group(1)))
        pos = m.end()
    yield from _runs(text[pos:])


def _runs(text: str) -> Iterator[tuple[str, bool]]:
    last = 0
    for m in _CLAIM_END.finditer(text):
        yield text[last:m.end()], True
        last = m.end()
    if last < len(text):
        yield text[last:], False


def parse(text: str) -> list[_Sentence]:
    """Sentences with their clauses; a marker right after a sentence end (「A。[2]」) belongs
    to that sentence. Linear in the text."""
    sentences: list[_Sentence] = []
    current = _Sentence([], [], False)
    buffer = ""  # text of the clause being read
    closed = False
    for seg in _segments(text):
        if isinstance(seg[0], int):  # a marker group
            numbers = [int(n) for n in seg]
            if current.clauses and not _WORDY.search(buffer):
                current.clauses[-1].numbers.extend(numbers)  # 「A[1][2]」, 「A[1]。[2]」
            else:
                current.clauses.append(_Clause(buffer, numbers))
            current.pieces.append(len(current.clauses) - 1)
            buffer = ""
            continue
        run, ends = seg
        if closed and _WORDY.search(run):
            _close(sentences, current, buffer)
            current, buffer = _Sentence([], [], False), ""
        current.pieces.append(run)
        buffer += run
        closed = ends or (closed and not run.strip())
        current.ended = current.ended or ends
    _close(sentences, current, buffer)
    return sentences


def _close(sentences: list[_Sentence], sentence: _Sentence, tail: str) -> None:
    if not sentence.pieces:
        return
    if sentence.clauses and not sentence.ended and _WORDY.search(tail):
        last = max(i for i, p in enumerate(sentence.pieces) if isinstance(p, int))
        sentence.pieces = sentence.pieces[: last + 1]
        sentence.dangling = tail
    elif sentence.clauses and tail:
        sentence.clauses[-1].text += tail
    sentences.append(sentence)


# ------------------------------------------------------------------ verification


def verify(draft: Draft, passages: Sequence[Passage], lang: str) -> Verified:
    """Keep only the sentences whose every claim carries a marker pointing at a passage the
    answerer was shown that supports it; renumber the markers 1..n in order of appearance;
    an answer left with no valid citation becomes a refusal."""
    if draft.refused or not draft.text.strip():
        return Verified(refusal(lang), (), True)
    shown = passages[: draft.shown] if draft.shown is not None else passages
    notes: list[str] = []
    text = _cap(draft.text, notes)
    cleaned = _ALWAYS.sub("", text)
    if cleaned != text:
        notes.append("已移除控制字元、圖片或程式碼 (removed control characters, images or scripts)")
    sources = _Sources(shown)
    sentences = parse(cleaned)
    for sentence in sentences:
        for clause in sentence.clauses:
            _judge(clause, sources, notes)
    kept = _kept(sentences, sources, notes)
    if not any(c.accepted for s in kept for c in s.clauses):
        notes.append("回答沒有可驗證的引用，已改為拒答 (no verifiable citation: answer withheld)")
        return Verified(refusal(lang), (), True, tuple(dict.fromkeys(notes)))
    answer, order, quotes = _render(kept, sources, notes)
    citations = tuple(_citation(new, shown[key[0] - 1], quotes[key])
                      for key, new in sorted(order.items(), key=lambda kv: kv[1]))
    return Verified(answer, citations, False, tuple(dict.fromkeys(notes)))


def _cap(text: str, notes: list[str]) -> str:
    if len(text) <= MAX_DRAFT_CHARS:
        return text
    head = text[:MAX_DRAFT_CHARS]
    ends = [m.end() for m in _CLAIM_END.finditer(head, MAX_DRAFT_CHARS // 2)]
    notes.append(f"回答過長，只驗證前 {MAX_DRAFT_CHARS} 字 (draft over {MAX_DRAFT_CHARS} "
                 "characters: the rest was dropped)")
    return head[: ends[-1]] if ends else head


def _judge(clause: _Clause, sources: _Sources, notes: list[str]) -> None:
    """Accept each marker number whose passage supports the clause's claim."""
    claim = _claim_text(clause.text)
    for n in dict.fromkeys(clause.numbers):
        reason = sources.problem(n, claim)
        if reason:
            notes.append(f"[{n}] {reason}")
        else:
            clause.accepted.append(n)


def _claim_text(text: str) -> str:
    """The claim a clause makes: without links, URLs, tags or edge punctuation."""
    text = _LINK.sub(lambda m: m.group(1), text)
    return _ACTIVE.sub(" ", text).strip().strip("。！？.!?；;，,、 ")


def _kept(sentences: list[_Sentence], sources: _Sources, notes: list[str]) -> list[_Sentence]:
    """Sentences that stay: every clause supported; an unmarked one only when it makes no
    claim (「是的。」) or repeats a cited passage verbatim (a short answer before its quote)."""
    cited = [n for s in sentences for c in s.clauses for n in c.accepted]
    kept = []
    for i, s in enumerate(sentences):
        text = _claim_text(s.text)
        if s.dangling:
            notes.append(f"已刪除未完成的句子 (dropped an unfinished clause: {s.dangling[:40]})")
        if s.clauses:
            if all(c.accepted for c in s.clauses):
                kept.append(s)
            else:
                notes.append(f"已刪除無依據的句子 (dropped an unsupported sentence: {text[:40]})")
        elif not text or sources.verbatim_in_any(text, cited):
            kept.append(s)
        elif looks_like_instruction(text):
            notes.append(f"已刪除像指令的句子 (dropped an instruction-like sentence: {text[:40]})")
        elif _is_claim(text):
            notes.append(f"已刪除沒有引用的句子 (dropped a sentence without a citation: "
                         f"{text[:40]})")
        elif i == len(sentences) - 1 and not s.ended:
            notes.append(f"已刪除未完成的句子 (dropped an unfinished sentence: {text[:40]})")
        else:
            kept.append(s)
    return kept


def _is_claim(text: str) -> bool:
    """Anything that could state a fact: a number, four Chinese characters, three words."""
    return (any(c.isdigit() for c in text) or len(CJK.findall(text)) >= 4
            or len(_LATIN_WORD.findall(text)) >= 3)


def _render(kept: list[_Sentence], sources: _Sources, notes: list[str]
            ) -> tuple[str, dict[tuple[int, int], int], dict[tuple[int, int], Span]]:
    """The answer text with markers renumbered by first appearance, active content kept only
    where a cited passage holds it verbatim; each new number's passage and quoted sentence.
    A number is one sentence of one passage: two claims quoting two sentences of the same
    passage get two numbers, so every marker opens the sentence it stands for (when a number
    stood for a passage, its quote was the one sentence nearest all its claims, and the other
    claim's sentence was quoted nowhere)."""
    order: dict[tuple[int, int], int] = {}
    quotes: dict[tuple[int, int], Span] = {}
    out: list[str] = []
    for s in kept:
        allowed = [n for c in s.clauses for n in c.accepted]

        def holds(text: str, numbers: list[int] = allowed) -> bool:
            return sources.holds(text, numbers)

        for piece in s.pieces:
            if isinstance(piece, str):
                out.append(_scrub(piece, holds, notes))
                continue
            clause = s.clauses[piece]
            marks = []
            for n in clause.accepted:
                span = best_span(sources.shown[n - 1], [_claim_text(clause.text)])
                key = (n, span.start)
                if key not in order:
                    order[key] = len(order) + 1
                    quotes[key] = span
                marks.append(order[key])
            out.append("".join(f"[{m}]" for m in dict.fromkeys(marks)))
            clause.accepted = []  # a clause closed by two marker pieces shows its numbers once
    return "".join(out).strip(), order, quotes


def _scrub(text: str, holds: Callable[[str], bool], notes: list[str]) -> str:
    """Links become their text; URLs, addresses, domains and tags go unless `holds` them."""
    def link(m: re.Match[str]) -> str:
        url = m.group(2)
        if holds(url):
            return f"{m.group(1)} {url}"
        notes.append(f"已移除連結 (removed a link to {url[:60]})")
        return m.group(1)

    def active(m: re.Match[str]) -> str:
        found = m.group()
        core = found.rstrip(_TRAILING)
        if holds(core):
            return found
        notes.append(f"已移除連結、網址或標籤 (removed a link, address or tag: {core[:60]})")
        return found[len(core):]

    return _EMPTY_PARENS.sub("", _ACTIVE.sub(active, _LINK.sub(link, text)))


# ------------------------------------------------------------------ support


@dataclass
class _Source:
    """A shown passage prepared once: folded (relative dates resolved) and measured."""

    passage: Passage
    text: str
    compact: str
    clauses: list[str]
    numbers: set[str]
    quantities: set[tuple[str, str]]

    @classmethod
    def of(cls, passage: Passage) -> _Source:
        text = fold(annotate_relative_dates(passage.text, passage.date))
        numbers, quantities = _quantities(text)
        return cls(passage, text, re.sub(r"\s+", "", text),
                   [c for c in _CLAUSE_END.split(text) if c.strip()], numbers, quantities)


class _Sources:
    """The passages a draft may cite, each prepared on first use."""

    def __init__(self, shown: Sequence[Passage]) -> None:
        self.shown = shown
        self._prepared: dict[int, _Source] = {}
        self._every = ""

    def get(self, n: int) -> _Source:
        if n not in self._prepared:
            self._prepared[n] = _Source.of(self.shown[n - 1])
        return self._prepared[n]

    @property
    def every(self) -> str:
        if not self._every:
            self._every = fold(" ".join(p.text for p in self.shown))
        return self._every

    def problem(self, n: int, claim: str) -> str:
        if not 1 <= n <= len(self.shown):
            return f"指向不存在的段落 (no passage {n} was shown)"
        reason = _problem(self.get(n), claim, self)
        return f"段落 {n} 不支持這句話：{reason} (passage {n} does not support: {claim[:40]})" \
            if reason else ""

    def holds(self, text: str, numbers: Sequence[int]) -> bool:
        """True when one of these passages holds `text` verbatim."""
        return bool(text) and any(text in self.shown[n - 1].text for n in numbers
                                  if 1 <= n <= len(self.shown))

    def verbatim_in_any(self, text: str, numbers: Sequence[int]) -> bool:
        compact = re.sub(r"\s+", "", fold(text))
        return bool(compact) and any(compact in self.get(n).compact for n in set(numbers))


def supports(passage: Passage, claim: str, shown: Sequence[Passage] = ()) -> bool:
    """True when the passage supports the claim (see `_problem`)."""
    return not _problem(_Source.of(passage), claim, _Sources(shown))


def _problem(source: _Source, claim: str, sources: _Sources) -> str:
    """Why the passage does not support the claim, or "" when it does. A claim the passage
    holds verbatim (after Traditional/Simplified folding) is supported; otherwise its numbers
    with their units, its names and quotes must be in the passage, a Chinese claim must share
    enough character bigrams with it, and no clause may flip the negation of the passage clause
    it restates."""
    if looks_like_instruction(claim):
        return "像是指令 (instruction-like)"
    folded = fold(claim)
    compact = re.sub(r"\s+", "", folded)
    if compact and compact in source.compact:
        return ""
    numbers, quantities = _quantities(folded)
    if not numbers <= source.numbers or not quantities <= source.quantities:
        return "數字、日期或單位不符 (numbers, dates or units differ)"
    for name in _LATIN_NAME.findall(claim):
        if fold(name) in sources.every and fold(name) not in source.text:
            return f"名稱不符 (name {name} is from another passage)"
    for name in _person_names(folded):
        if not _placed(name, folded, source):
            return f"人名不符 (name {name} not said here)"
    for quoted in _QUOTED.findall(claim):
        if re.sub(r"\s+", "", fold(quoted)) not in source.compact:
            return "引文不在段落中 (the quote is not in the passage)"
    if not _overlaps(claim, folded, source):
        return "內容不符 (too little in common)"
    return _contradiction(folded, source)


def _overlaps(claim: str, folded: str, source: _Source) -> bool:
    grams = _bigrams(folded)
    if len(CJK.findall(folded)) >= 4 and grams:
        return len(grams & _bigrams(source.text)) / len(grams) >= MIN_CJK_OVERLAP
    # A claim in another language must at least share a number, a name or a quote with it.
    anchors = [*_quantities(folded)[0], *(fold(n) for n in _LATIN_NAME.findall(claim)),
               *(fold(q) for q in _QUOTED.findall(claim))]
    return any(a in source.text for a in anchors)


def _contradiction(folded: str, source: _Source) -> str:
    """A clause of the claim whose negation (or an opposite word) disagrees with the passage
    clause it restates: 「並未獲邀加入」 against 「正式獲邀加入」."""
    for clause in _CLAUSE_END.split(folded):
        match = _restated(clause, source)
        if match is None:
            continue
        if _negated(clause) != _negated(match):
            return "否定與段落相反 (negation differs from the passage)"
        for a, b in _OPPOSITES:
            for x, y in ((a, b), (b, a)):
                if x in clause and y in match and x not in match:
                    return f"與段落相反 ({x} vs {y})"
    return ""


def _restated(clause: str, source: _Source) -> str | None:
    """The passage clause a claim clause restates: most shared bigrams (at least two, and 40%
    of the shorter clause's) or, for a clause without Chinese, most shared numbers and names."""
    grams = _run_bigrams(clause)
    if len(grams) >= 2:
        best = max(source.clauses, key=lambda c: len(grams & _run_bigrams(c)), default="")
        shared = len(grams & _run_bigrams(best))
        return best if shared >= 2 and shared >= 0.4 * min(len(grams), len(
            _run_bigrams(best))) else None
    anchors = set(_quantities(clause)[0]) | set(re.findall(r"[a-z][a-z0-9]{2,}", clause))
    if not anchors:
        return None
    best = max(source.clauses, key=lambda c: sum(a in c for a in anchors), default="")
    return best if any(a in best for a in anchors) else None


def _negated(text: str) -> bool:
    return _NEGATION.search(_NOT_NEGATION.sub("", text)) is not None


def _placed(name: str, claim: str, source: _Source) -> bool:
    """The name is in the passage, in a clause that shares a word with the claim besides the
    name itself (「方美錸率領代表團」 is not said by 「…林欽榮率領代表團…，與…方美錸…交流」)."""
    if name not in source.text:
        return False
    around = _run_bigrams(claim.replace(name, "\0"))
    return any(name in c and around & _run_bigrams(c.replace(name, "\0"))
               for c in source.clauses)


@lru_cache(maxsize=4096)
def _person_names(folded: str) -> tuple[str, ...]:
    """Chinese person names in a (folded) claim, by jieba's part-of-speech tagger."""
    if len(CJK.findall(folded)) < 2:
        return ()
    return tuple(w.word for w in _posseg().cut(folded)
                 if w.flag == "nr" and len(w.word) >= 2 and CJK.fullmatch(w.word[0]))


@lru_cache(maxsize=1)
def _posseg() -> Any:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)
    return jieba.posseg


def _quantities(folded: str) -> tuple[set[str], set[tuple[str, str]]]:
    """The numbers of a folded text and its (number, unit) pairs: a Chinese character or % right
    after a number, Chinese numerals before a measure word, the months of ISO dates and of
    English month names."""
    numbers: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for m in _NUMBER.finditer(folded):
        value = _norm(m.group(1))
        numbers.add(value)
        if m.group(2):
            pairs.add((value, m.group(2)))
    for m in _CN_NUMBER.finditer(folded):
        read = _chinese_number(m.group(1))
        if read is not None:
            numbers.add(str(read))
            pairs.add((str(read), m.group(2)))
    for m in _ISO_DATE.finditer(folded):
        pairs.update({(_norm(m.group(1)), "年"), (_norm(m.group(2)), "月"),
                      (_norm(m.group(3)), "日")})
    for m in _EN_MONTH.finditer(folded):
        word = (m.group(1) or m.group(2))[:3]
        pairs.add((str([w[:3] for w in _MONTHS].index(word) + 1), "月"))
    return numbers, pairs


def _norm(number: str) -> str:
    number = number.replace(",", "")
    whole, dot, frac = number.partition(".")
    return (whole.lstrip("0") or "0") + (dot + frac if frac.strip("0") else "")


_DIGIT = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_SMALL = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}


def _chinese_number(text: str) -> int | None:
    """三百 -> 300, 十二 -> 12, 二〇二五 -> 2025; None when it does not read as one number."""
    if all(c in _DIGIT for c in text):  # digit by digit, as years are written
        return int("".join(str(_DIGIT[c]) for c in text))
    total = section = digit = 0
    for c in text:
        if c in _DIGIT:
            digit = _DIGIT[c]
        elif c in _SMALL:
            section += (digit or 1) * _SMALL[c]
            digit = 0
        elif c in _BIG:
            total += (section + digit) * _BIG[c]
            section = digit = 0
        else:
            return None
    return total + section + digit


def _bigrams(text: str) -> set[str]:
    chars = [c for c in text if CJK.match(c)]
    return {a + b for a, b in zip(chars, chars[1:], strict=False)}


def _run_bigrams(text: str) -> set[str]:
    """Bigrams inside runs of Chinese characters only (none across a gap)."""
    return {run[i:i + 2] for run in CJK_RUN.findall(text) for i in range(len(run) - 1)}


def _terms(text: str) -> set[str]:
    folded = fold(text)
    return _bigrams(folded) | set(re.findall(r"[a-z0-9]{2,}", folded))


def best_span(passage: Passage, claims: Sequence[str]) -> Span:
    """The sentence of the passage that shares most terms with the claims (offsets in-passage)."""
    wanted = set().union(*(_terms(c) for c in claims)) if claims else set()
    spans = split_sentences(passage.text) or [Span(passage.text, 0, len(passage.text))]
    return max(spans, key=lambda s: (len(_terms(s.text) & wanted), -s.start))


def _citation(n: int, passage: Passage, span: Span) -> Citation:
    return Citation(n=n, article_id=passage.article_id, title=passage.title, date=passage.date,
                    quote=span.text, start=passage.start + span.start,
                    end=passage.start + span.end, chunk_id=passage.chunk_id)
