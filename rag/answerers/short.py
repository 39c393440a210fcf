"""The short answer inside a quoted sentence: every run of jieba words is a candidate span,
scored by a learned model on where it sits against the question's words and what it looks like
(a date for 何時, a name for 誰). Pure given the model."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rag.answerers import model as models
from rag.answerers.features import KINDS
from rag.answerers.model import Model
from rag.answerers.question import Query
from rag.text import fold

MAX_TOKENS = 16  # CMRC answers run long: 90% have at most 36 characters
MAX_CHARS = 40
ANCHOR = 8  # longest anchor measured, in characters
_PUNCT = re.compile(r"[^\w]|_")
_STOP_EDGE = frozenset("的 了 是 在 和 与 及 或 也 都 而 并 被 将 把 对 于 为 以 由 从 等".split())
_ASK = re.compile(r"什么|甚么|哪[里个些位一年天种国所座家条名]?|谁|几|多少|何[时处人地]?")
_DATE = re.compile(r"(?:(?:公元前?|西元前?)?\d{1,4}\s*年)?(?:\s*\d{1,2}\s*月)?"
                   r"(?:\s*\d{1,2}\s*[日号])?|[一二三四五六七八九十〇零百千]+年")
_NUM_UNIT = re.compile(r"(?:约|近|逾|超过)?[\d,.]+\s*[^\W\d_a-z]{0,3}"
                       r"|[一二两三四五六七八九十百千万亿]+[^\W\d_a-z]{0,2}")
_FLAG_GROUPS = {"n": "noun", "v": "verb", "m": "num", "q": "num", "a": "adj", "d": "adj",
                "p": "func", "c": "func", "u": "func", "e": "eng", "x": "other"}
_GROUPS = ("noun", "name", "verb", "num", "adj", "func", "eng", "other")
SPAN_FEATURES = (
    "chars", "tokens", "q_chars", "q_tokens", "left_anchor", "right_anchor", "slot_left",
    "slot_right", "covered", "distance", "is_date", "has_digit", "num_unit", "latin",
    "quoted", "listing", "has_name", "bound_left", "bound_right", "position", "stop_edge",
    "category_after", "unit_in", "type_match", *(f"first_{g}" for g in _GROUPS),
    *(f"last_{g}" for g in _GROUPS), *(f"asks_{k}" for k in KINDS), "asks_other",
    # where the question's words sit around the span (`_context_row`)
    "q_left_window", "q_right_window", "ql_left", "qr_right", "ql_right", "qr_left",
    "words_near", "word_gap_left", "word_gap_right", "words_inside", "has_ask", "ql_chars",
    "qr_chars",
    # what is next to the span and inside it (`_edge_row`)
    "commas", "enumerations", "category_end", "category_char", "cue_before", "naming_before",
    "de_after", "punct_after", *(f"prev_{g}" for g in _GROUPS), *(f"next_{g}" for g in _GROUPS),
)
SHORT_KINDS = frozenset({"date", "number", "person", "place", "list"})
WINDOW = 12  # characters either side of a span read for the question's words
_CUE = frozenset("是 为 名 叫 称 即 于 在 由 到 至 有 约 达 共 位 乃".split())
_NAMING = ("又名", "原名", "简称", "称为", "被称", "名为", "叫做", "俗称", "别称", "担任", "司职")
NAME = "short"  # rag/answerers/models/short.json, written by `rag train`


def shipped() -> Model:
    """The span model shipped in rag/answerers/models/ (read once per process)."""
    return models.load(NAME)


@dataclass(frozen=True)
class Spans:
    """Candidate spans of one sentence, (start, end) offsets, and their feature rows."""

    sentence: str
    offsets: list[tuple[int, int]]
    matrix: np.ndarray  # (len(offsets), len(SPAN_FEATURES))


def leads(query: Query) -> bool:
    """Date, number, person, place and list questions get their short answer first."""
    return any(k in SHORT_KINDS for k in query.kinds)


def spans(query: Query, sentence: str) -> Spans:
    folded = fold(sentence)
    if len(folded) != len(sentence):  # NFKC merged characters: offsets would drift
        folded = sentence.lower()
    tokens = _tokens(folded)
    q = fold(query.text)
    q_content = _ASK.sub(" ", q)
    q_chars = set(_PUNCT.sub("", q_content))
    q_grams = {q_content[i:i + 2] for i in range(len(q_content) - 1)}
    covered = np.zeros(len(folded) + 1, dtype=np.int32)
    for i in range(len(folded) - 1):
        if folded[i:i + 2] in q_grams:
            covered[i] = covered[i + 1] = 1
    cum = np.concatenate([[0], np.cumsum(covered[:len(folded)])])
    hits = np.flatnonzero(covered[:len(folded)])
    ask = _ASK.search(q)
    ql = _PUNCT.sub("", q[:ask.start()]) if ask else ""
    qr = _PUNCT.sub("", q[ask.end():]) if ask else ""
    for category in query.categories:  # 哪一地區對… -> the slot is followed by 對…
        if qr.startswith(category):
            qr = qr[len(category):]
    kinds = [1.0 if k in query.kinds else 0.0 for k in KINDS]
    categories = list(query.categories) + list(query.units)
    context = _Context.of(query, q, q_content, ask, folded, tokens)
    offsets: list[tuple[int, int]] = []
    rows: list[list[float]] = []
    for i, (word_i, flag_i, (s, _)) in enumerate(tokens):
        if _PUNCT.fullmatch(word_i[0]) or not word_i.strip():
            continue
        for j in range(i, min(i + MAX_TOKENS, len(tokens))):
            word_j, flag_j, (_, e) = tokens[j]
            if _end_of_clause(word_j) and j > i:
                break
            if e - s > MAX_CHARS:
                break
            if _PUNCT.fullmatch(word_j[-1]) and not word_j.strip("、·"):
                continue
            if _cuts_number(folded, s, e):  # 於2025|年: never an answer, though its char F1
                continue  # against "2025年" is 0.8
            text = folded[s:e]
            offsets.append((s, e))
            rows.append(_row(text, folded, s, e, j - i + 1, flag_i, flag_j, word_i, word_j, q,
                             q_chars, cum, hits, ql, qr, categories, kinds, bool(query.kinds),
                             query, tokens[i:j + 1])
                        + _context_row(context, s, e) + _edge_row(context, i, j, s, e))
    matrix = np.asarray(rows, dtype=np.float32).reshape(len(rows), len(SPAN_FEATURES))
    return Spans(sentence, offsets, matrix)


def best_span(model: Model, query: Query, sentence: str) -> str:
    """The highest-scored candidate span of `sentence` ("" when it has none)."""
    return scored_span(model, query, sentence)[0]


def scored_span(model: Model, query: Query, sentence: str) -> tuple[str, float]:
    """The highest-scored candidate span and its score (log-odds; -inf when none)."""
    found = spans(query, sentence)
    if not found.offsets:
        return "", -math.inf
    scores = model.raw(found.matrix[:, model.columns(SPAN_FEATURES)])
    i = int(np.argmax(scores))
    s, e = found.offsets[i]
    return sentence[s:e].strip(), float(scores[i])


def _row(text: str, folded: str, s: int, e: int, n_tokens: int, flag_i: str, flag_j: str,
         word_i: str, word_j: str, q: str, q_chars: set[str], cum: np.ndarray,
         hits: np.ndarray, ql: str, qr: str, categories: list[str], kinds: list[float],
         asks: bool, query: Query, toks: list[tuple[str, str, tuple[int, int]]]
         ) -> list[float]:
    alnum = _PUNCT.sub("", text)
    words = [w for w, _, _ in toks if not _PUNCT.fullmatch(w[0])]
    inside = int(cum[e] - cum[s])
    before = hits[hits < s]
    after = hits[hits >= e]
    gap = min(s - int(before[-1]) - 1 if len(before) else 99,
              int(after[0]) - e if len(after) else 99)
    after_text = folded[e:e + 4]
    return [
        math.log1p(len(text)), float(n_tokens),
        sum(1 for ch in alnum if ch in q_chars) / max(len(alnum), 1),
        sum(1 for w in words if w in q) / max(len(words), 1),
        _anchor_left(folded, s, q) / ANCHOR, _anchor_right(folded, e, q) / ANCHOR,
        _suffix_match(folded[:s], ql) / ANCHOR, _prefix_match(folded[e:], qr) / ANCHOR,
        inside / max(e - s, 1), math.log1p(max(gap, 0)),
        1.0 if _DATE.fullmatch(text.strip()) and re.search(r"\d|年", text) else 0.0,
        1.0 if re.search(r"\d", text) else 0.0,
        1.0 if _NUM_UNIT.fullmatch(text.strip()) else 0.0,
        1.0 if re.search(r"[a-z]", text) else 0.0,
        1.0 if s > 0 and folded[s - 1] in "「『《“\"(（" else 0.0,
        1.0 if "、" in text or "和" in words or "及" in words else 0.0,
        1.0 if any(f.startswith(("nr", "ns", "nt", "nz")) for _, f, _ in toks) else 0.0,
        1.0 if s == 0 or _PUNCT.fullmatch(folded[s - 1]) else 0.0,
        1.0 if e >= len(folded) or _PUNCT.fullmatch(folded[e]) else 0.0,
        s / max(len(folded), 1),
        1.0 if word_i in _STOP_EDGE or word_j in _STOP_EDGE else 0.0,
        1.0 if any(after_text.startswith(c[:2]) for c in categories if c) else 0.0,
        1.0 if any(c in text for c in query.units) else 0.0,
        _type_match(query, text, toks),
        *_onehot(flag_i, word_i), *_onehot(flag_j, word_j),
        *kinds, 0.0 if asks else 1.0,
    ]


@dataclass(frozen=True)
class _Context:
    """What every candidate of one sentence is compared with: the question's character pairs
    (all, left and right of its question word), where its content words occur in the
    sentence, and the sentence's words."""

    folded: str
    tokens: list[tuple[str, str, tuple[int, int]]]
    grams: frozenset[str]
    left_grams: frozenset[str]
    right_grams: frozenset[str]
    word_spans: tuple[tuple[int, int], ...]
    has_ask: bool
    left_chars: int
    right_chars: int
    categories: tuple[str, ...]

    @staticmethod
    def of(query: Query, q: str, q_content: str, ask: re.Match[str] | None, folded: str,
           tokens: list[tuple[str, str, tuple[int, int]]]) -> _Context:
        """`q` the folded question, `q_content` it without its question words."""
        left = q[:ask.start()] if ask else q
        right = q[ask.end():] if ask else ""
        found = tuple((m.start(), m.end()) for w in query.words if len(w) >= 2
                      for m in re.finditer(re.escape(w), folded))
        return _Context(folded=folded, tokens=tokens, grams=_grams(q_content),
                        left_grams=_grams(left), right_grams=_grams(right), word_spans=found,
                        has_ask=bool(ask), left_chars=len(left), right_chars=len(right),
                        categories=tuple(c for c in query.categories if c))


@lru_cache(maxsize=8192)  # a sentence's candidates share their windows' edges
def _grams(text: str) -> frozenset[str]:
    text = _PUNCT.sub("", text)
    return frozenset(text[i:i + 2] for i in range(len(text) - 1))


def _share(grams: frozenset[str], window: str) -> float:
    """The share of `grams` found in `window`."""
    return len(grams & _grams(window)) / len(grams) if grams else 0.0


def _context_row(c: _Context, s: int, e: int) -> list[float]:
    """A question names what surrounds its answer: DRCD and CMRC questions keep the sentence's
    words left and right of the asked slot (validation F1 on the gold sentence 0.595 -> 0.610
    with these features alone)."""
    f = c.folded
    near, wide = (f[max(0, s - WINDOW):s], f[e:e + WINDOW]), (f[max(0, s - 2 * WINDOW):s],
                                                           f[e:e + 2 * WINDOW])
    before = [s - b for _, b in c.word_spans if b <= s]
    after = [a - e for a, _ in c.word_spans if a >= e]
    return [
        _share(c.grams, near[0]), _share(c.grams, near[1]),
        _share(c.left_grams, wide[0]), _share(c.right_grams, wide[1]),
        _share(c.left_grams, wide[1]), _share(c.right_grams, wide[0]),
        float(sum(1 for d in before + after if d <= 10)),
        math.log1p(min(before, default=99)), math.log1p(min(after, default=99)),
        float(sum(1 for a, b in c.word_spans if a >= s and b <= e)),
        float(c.has_ask), float(c.left_chars), float(c.right_chars),
    ]


def _edge_row(c: _Context, i: int, j: int, s: int, e: int) -> list[float]:
    """Clause breaks inside the span, the asked category at its end (哪個公司 -> 蘋果公司),
    a naming cue before it (又名, 司職) and the words either side."""
    text = c.folded[s:e]
    prev_word, prev_flag = (c.tokens[i - 1][0], c.tokens[i - 1][1]) if i else ("", "x")
    next_word, next_flag = ((c.tokens[j + 1][0], c.tokens[j + 1][1])
                            if j + 1 < len(c.tokens) else ("", "x"))
    return [
        float(text.count("，") + text.count(",")), float(text.count("、")),
        1.0 if any(text.endswith(k) for k in c.categories) else 0.0,
        1.0 if any(text[-1] in (k[0], k[-1]) for k in c.categories) else 0.0,
        1.0 if prev_word in _CUE else 0.0,
        1.0 if c.folded[max(0, s - 3):s].endswith(_NAMING) else 0.0,
        1.0 if next_word == "的" else 0.0,
        1.0 if next_word in ("，", "。", "、", "；") else 0.0,
        *_onehot(prev_flag, prev_word), *_onehot(next_flag, next_word),
    ]


def _type_match(query: Query, text: str, toks: list[tuple[str, str, tuple[int, int]]]
                ) -> float:
    """1.0 when the span is the kind of thing the question asks for: a date for 何時, an
    amount for 多少, a person's or place's name for 誰 / 哪裡."""
    kinds = set(query.kinds)
    flags = [f for _, f, _ in toks]
    if "date" in kinds and _DATE.fullmatch(text.strip()) and re.search(r"\d|年", text):
        return 1.0
    if "number" in kinds and _NUM_UNIT.fullmatch(text.strip()):
        return 1.0
    if "person" in kinds and flags and all(f.startswith(("nr", "eng")) for f in flags):
        return 1.0
    if "place" in kinds and flags and all(f.startswith(("ns", "nt")) for f in flags):
        return 1.0
    return 0.0


def _cuts_number(folded: str, s: int, e: int) -> bool:
    """True when the span cuts a number or date short (於2025|年8月, 3|0家)."""
    before = folded[s - 1] if s > 0 else ""
    after = folded[e] if e < len(folded) else ""
    last, first = folded[e - 1], folded[s]
    if last.isdigit() and after and (after.isdigit() or after in "年月日号%个位家名人万亿"):
        return True
    return first.isdigit() and before.isdigit()


def _onehot(flag: str, word: str) -> list[float]:
    group = "name" if flag.startswith(("nr", "ns", "nt", "nz")) else (
        "eng" if flag == "eng" else _FLAG_GROUPS.get(flag[:1], "other"))
    return [1.0 if g == group else 0.0 for g in _GROUPS]


def _anchor_left(folded: str, s: int, q: str) -> int:
    k = 0
    while k < ANCHOR and s - k - 1 >= 0 and folded[s - k - 1:s] in q:
        k += 1
    return k


def _anchor_right(folded: str, e: int, q: str) -> int:
    k = 0
    while k < ANCHOR and e + k + 1 <= len(folded) and folded[e:e + k + 1] in q:
        k += 1
    return k


def _suffix_match(text: str, ql: str) -> int:
    k = 0
    while k < min(ANCHOR, len(ql), len(text)) and text[len(text) - k - 1] == ql[len(ql) - k - 1]:
        k += 1
    return k


def _prefix_match(text: str, qr: str) -> int:
    k = 0
    while k < min(ANCHOR, len(qr), len(text)) and text[k] == qr[k]:
        k += 1
    return k


def _end_of_clause(word: str) -> bool:
    return word in ("。", "！", "？", "；", ";", "!", "?")


@lru_cache(maxsize=4096)
def _tokens(folded: str) -> list[tuple[str, str, tuple[int, int]]]:
    """jieba words with flags and offsets (jieba's dictionary is Simplified, as `fold` is)."""
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    out = []
    pos = 0
    for p in jieba.posseg.lcut(folded):
        out.append((p.word, p.flag, (pos, pos + len(p.word))))
        pos += len(p.word)
    return out
