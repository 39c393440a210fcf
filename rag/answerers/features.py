"""Features of the shown sentences for the learned answer selector and answerability model.
Pure: passages, the analysed question and the embedding similarities come in; arrays go out."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np

from rag.answerers.evidence import Evidence, gather, resolve
from rag.answerers.question import Query, pos_cut
from rag.schema import Passage
from rag.text import Span, fold

KINDS = ("person", "date", "number", "list", "place")
_NEIGHBOUR = ("own", "bigram", "lcs", "slot", "con_own")
# One row per sentence; the models name the columns they were trained on, so adding a
# feature here never shifts an old model's inputs.
SENTENCE_FEATURES = (
    "own", "near", "ctx", "own_rel", "near_rel",
    "bigram", "bigram_near", "bigram_rel", "lcs", "lcs_rel", "slot_left", "slot_right", "slot",
    "new_number", "new_quantity",
    "con_n", "con_own", "con_near", "con_ctx", "con_conflict", "con_swap", "con_swap_near",
    "sim", "sim_rel", "cue", "unit", "names", "typed",
    "novelty", "length", "position", "rank", "score", "score_rel", "dense", "lexical_rel",
    *(f"asks_{k}" for k in KINDS), "asks_other", "english",
    # the sentences before and after in the same passage (0 at a passage edge): the answer
    # often follows the sentence that restates the question
    *(f"{side}_{f}" for side in ("prev", "next") for f in _NEIGHBOUR),
)
_BEST = ("own", "near", "ctx", "bigram", "lcs", "slot", "new_number", "new_quantity", "con_own",
         "con_near", "con_ctx", "con_conflict", "con_swap", "con_swap_near", "sim", "cue", "unit",
         "names", "typed", "novelty", "rank", "score", "dense")
# One row per question: the best sentence's features, the margins to the runner-up and what
# the shown passages as a whole lack.
ANSWER_FEATURES = (
    "p_best", "p_second", "p_margin", "p_share",
    *(f"best_{f}" for f in _BEST),
    "missing", "bigram_missing", "con_missing", "con_n", "top_dense", "top_score",
    "n_words", *(f"asks_{k}" for k in KINDS), "asks_other", "english",
)

_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_NUMBER = re.compile(r"(?<![\d.])(\d[\d,]*(?:\.\d+)?)(?![\d,])\s*([^\W\d_a-z]?)")
_LATIN = re.compile(r"[a-z][a-z0-9.'&-]*[a-z0-9]|[a-z]")
_QUOTED = re.compile(r"[「『《“\"]([^」』》”\"]{2,30})[」』》”\"]")
_CJK = re.compile(r"[\u3400-\u9fff]")
# Characters a question uses to ask (什么, 哪, 谁, 几, 多少...) carry no evidence of their own.
_ASKING = re.compile(r"什么|甚么|哪[里个些位一年天种]?|谁|几|多少|何[时处人]?|吗|呢|是否|如何"
                     r"|怎[么样]")
_NON_WORD = re.compile(r"[^\w]|_")
_NAME_TAGS = ("nr", "ns", "nt", "nz")


@dataclass(frozen=True, kw_only=True)
class Table:
    """Per-sentence features of one question: rows follow `units`; columns `SENTENCE_FEATURES`."""

    units: list[tuple[int, Span]]  # (1-based passage number, sentence span in the passage)
    matrix: np.ndarray  # float32, (len(units), len(SENTENCE_FEATURES))
    evidence: Evidence  # the word-coverage features they were built from
    missing: dict[str, float]  # question-level: what no shown passage has

    def column(self, name: str) -> np.ndarray:
        return self.matrix[:, SENTENCE_FEATURES.index(name)]


@dataclass(frozen=True)
class Constraint:
    """Something the question pins the answer to: a year, a number (+ unit), a name, a quote."""

    kind: str  # year | number | latin | quoted | name
    value: str  # folded
    unit: str = ""  # the character after a number ("3個" -> 个)


def constraints(query: Query) -> list[Constraint]:
    """Years, numbers with their unit, Latin words, quoted titles and names of the question:
    the evidence must match these, not merely the topic ("2019年" is not "2021年")."""
    folded = fold(query.text)
    found: list[Constraint] = []
    years = set(_YEAR.findall(folded))
    found.extend(Constraint("year", y) for y in sorted(years))
    for m in _NUMBER.finditer(folded):
        value = m.group(1).replace(",", "")
        if value not in years:
            found.append(Constraint("number", value, m.group(2)))
    if not query.english:
        found.extend(Constraint("latin", w) for w in _LATIN.findall(folded) if len(w) >= 2)
    found.extend(Constraint("quoted", q.strip()) for q in _QUOTED.findall(folded))
    names = [n for n in query.names if _CJK.search(n)]
    if not query.english:  # every name jieba tags, two characters too (巴赫, 刘翔)
        names += [w for w, flag in pos_cut(folded)
                  if flag.startswith(_NAME_TAGS) and len(w) >= 2 and _CJK.search(w)]
    found.extend(Constraint("name", n) for n in names)
    seen: set[tuple[str, str]] = set()
    unique = []
    for c in found:
        if (c.kind, c.value) not in seen:
            seen.add((c.kind, c.value))
            unique.append(c)
    return unique


def holds(c: Constraint, folded_text: str) -> bool:
    if c.kind == "number":
        digits = folded_text.replace(",", "")
        return re.search(rf"(?<![\d.]){re.escape(c.value)}(?![\d])", digits) is not None
    if c.kind == "year":
        return re.search(rf"(?<!\d){c.value}(?!\d)", folded_text) is not None
    return c.value in folded_text


def substituted(cons: Sequence[Constraint], question: str, folded_text: str) -> float:
    """1.0 when the text says what the question says around a constraint, but with something
    else in its place ("第二次[靳云鹏]内阁" for "第二次[张作霖]内阁", "获[1964]年" for
    "获[1980]年"): the same statement about another person, place or year."""
    for c in cons:
        if not holds(c, folded_text) and _in_frame(c.value, question, folded_text):
            return 1.0
    return 0.0


def framed_swap(cons: Sequence[Constraint], question: str, folded_sentence: str,
                folded_window: str) -> bool:
    """True when the sentence says the question's words around one of its names with
    something else in its place, and the sentence with its neighbours does not have the name
    (a shown part of it counts: jieba glues a neighbour on, 来高雄): the same statement about
    someone else. The question's characters on both sides ("[靳云鹏]内阁" for
    "第二次[张作霖]内阁"), or on one side with a whole name in the slot ("巴赫的故乡" for
    "韩德尔的故乡"): a name opening a news question is often said otherwise (林欽榮邀請… /
    林副市長誠摯邀請), which `substituted` takes for a swap."""
    return any(c.kind in ("name", "latin", "quoted") and not holds(c, folded_window)
               and resolve(c.value, folded_window, True) not in folded_window
               and _in_frame(c.value, question, folded_sentence, named_one_side=True)
               for c in cons)


def _in_frame(value: str, question: str, text: str, named_one_side: bool = False) -> bool:
    """Whether `text` has the question's characters around `value` (up to two a side, two in
    all) with something else between them; with `named_one_side`, a frame with characters on
    one side only counts when a whole name (jieba ns / nr / nt / nz) stands between."""
    at = question.find(value)
    if at < 0:
        return False
    before = _NON_WORD.sub("", question[:at])[-2:]
    after = _NON_WORD.sub("", question[at + len(value):])[:2]
    for left, right in ((before, after), (before[-1:], after), (before, after[:1]),
                        (before[-1:], after[:1])):
        if len(left) + len(right) < 2:
            continue
        one_sided = named_one_side and not (left and right)
        pattern = re.escape(left) + r"([^，。；,;]{1,8}?)" + re.escape(right)
        if any(m.group(1) != value and (not one_sided or _is_name(m.group(1)))
               for m in re.finditer(pattern, text)):
            return True
    return False


def _is_name(folded: str) -> bool:
    cut = pos_cut(folded)
    return len(cut) == 1 and cut[0][1].startswith(_NAME_TAGS)


def conflict(cons: Sequence[Constraint], folded_text: str) -> float:
    """1.0 when the text gives another year, or another number with the same unit, instead of
    the asked one: the sign of a near miss (the 2019 figure for a 2021 question)."""
    for c in cons:
        if c.kind == "year":
            years = set(_YEAR.findall(folded_text))
            if years and c.value not in years:
                return 1.0
        elif c.kind == "number" and c.unit:
            same_unit = {m.group(1).replace(",", "") for m in _NUMBER.finditer(folded_text)
                         if m.group(2) == c.unit}
            if same_unit and c.value not in same_unit:
                return 1.0
    return 0.0


def question_bigrams(query: Query) -> list[str]:
    """Character bigrams of the question's content (asking words and punctuation removed);
    for an English question, of its words' Chinese senses' first forms."""
    if query.english:
        return list(dict.fromkeys(b for alts in query.alternatives().values()
                                  for b in _bigrams(alts[1] if len(alts) > 1 else alts[0])))
    text = _ASKING.sub(" ", fold(query.text))
    return list(dict.fromkeys(_bigrams(text)))


def _bigrams(text: str) -> list[str]:
    return [run[i:i + 2] for run in _NON_WORD.split(text) for i in range(len(run) - 1)]


def _weighted_share(items: Sequence[str], weights: dict[str, float], text: str) -> float:
    total = sum(weights[b] for b in items)
    return sum(weights[b] for b in items if b in text) / total if total else 0.0


def table(query: Query, passages: Sequence[Passage], units: list[tuple[int, Span]],
          sims: Sequence[float]) -> Table:
    """The feature rows of every sentence in `units` (see `evidence.sentence_units`)."""
    evidence = gather(query, passages, units, sims)
    n = len(units)
    folded = [fold(s.text) for _, s in units]
    windows = [" ".join(folded[j] for j in (i - 1, i, i + 1)
                        if 0 <= j < n and units[j][0] == units[i][0]) for i in range(n)]
    contexts = _contexts(passages)
    shown = " ".join(contexts.values())
    bigrams = question_bigrams(query)
    idf = {b: math.log(1 + n / (1 + sum(1 for s in folded if b in s))) for b in bigrams}
    cons = constraints(query)
    q_content = _ASKING.sub("", _NON_WORD.sub("", fold(query.text)))
    ql, qr = _around_ask(query)
    q_folded = fold(query.text)
    q_digits = set(re.findall(r"\d+", fold(query.text)))
    kinds = [1.0 if k in query.kinds else 0.0 for k in KINDS]
    top = max((p.score for p in passages), default=0.0) or 1.0
    lex_top = max((p.scores.get("lexical", 0.0) for p in passages), default=0.0) or 1.0
    rows = []
    for i, ((pn, span), c) in enumerate(zip(units, evidence.candidates, strict=True)):
        p = passages[pn - 1]
        ctx = contexts[p.article_id]
        rows.append([
            c.own, c.near, c.ctx, 0.0, 0.0,
            _weighted_share(bigrams, idf, folded[i]), _weighted_share(bigrams, idf, windows[i]),
            0.0, _lcs(q_content, folded[i]), 0.0, *_slot(ql, qr, folded[i]),
            _new_number(folded[i], q_digits),
            _new_quantity(folded[i], q_digits, query.units),
            float(len(cons)), _share(cons, folded[i]), _share(cons, windows[i]),
            _share(cons, ctx), conflict(cons, windows[i]),
            substituted(cons, q_folded, folded[i]), substituted(cons, q_folded, windows[i]),
            c.sim, 0.0, c.cue, c.unit, c.names, float(c.typed),
            _novelty(folded[i], q_content), math.log1p(len(span.text)),
            float(_position(units, i)), float(pn), p.score, p.score / top,
            p.scores.get("dense", 0.0), p.scores.get("lexical", 0.0) / lex_top,
            *kinds, 0.0 if query.kinds else 1.0, float(query.english),
            *[0.0] * (2 * len(_NEIGHBOUR)),
        ])
    matrix = np.asarray(rows, dtype=np.float32).reshape(n, len(SENTENCE_FEATURES))
    for name, base in (("own_rel", "own"), ("near_rel", "near"), ("bigram_rel", "bigram"),
                       ("lcs_rel", "lcs"), ("sim_rel", "sim")):
        col = matrix[:, SENTENCE_FEATURES.index(base)]
        if n:
            matrix[:, SENTENCE_FEATURES.index(name)] = col - col.max()
    _neighbours(matrix, units)
    missing = {"missing": evidence.missing,
               "bigram_missing": 1.0 - _weighted_share(bigrams, idf, shown) if bigrams else 0.0,
               "con_missing": 1.0 - _share(cons, shown) if cons else 0.0}
    return Table(units=units, matrix=matrix, evidence=evidence, missing=missing)


def _neighbours(matrix: np.ndarray, units: list[tuple[int, Span]]) -> None:
    """Fill the prev_* / next_* columns from the rows before and after in the same passage."""
    base = [SENTENCE_FEATURES.index(f) for f in _NEIGHBOUR]
    for side, step in (("prev", -1), ("next", 1)):
        cols = [SENTENCE_FEATURES.index(f"{side}_{f}") for f in _NEIGHBOUR]
        for i in range(len(units)):
            j = i + step
            if 0 <= j < len(units) and units[j][0] == units[i][0]:
                matrix[i, cols] = matrix[j, base]


def answer_row(tab: Table, probs: np.ndarray, best: int, second: int | None,
               passages: Sequence[Passage], query: Query) -> np.ndarray:
    """The answerability model's input for answering with sentence `best` (`second`: the
    runner-up sentence, a different one, or None)."""
    row = tab.matrix[best]
    get = {name: float(row[i]) for i, name in enumerate(SENTENCE_FEATURES)}
    p_best = float(probs[best])
    p_second = float(probs[second]) if second is not None else 0.0
    values = [p_best, p_second, p_best - p_second, p_best / max(float(probs.sum()), 1e-9)]
    values.extend(get[f] for f in _BEST)
    values.extend([tab.missing["missing"], tab.missing["bigram_missing"],
                   tab.missing["con_missing"], get["con_n"],
                   passages[0].scores.get("dense", 0.0) if passages else 0.0,
                   passages[0].score if passages else 0.0, float(len(query.words)),
                   *(get[f"asks_{k}"] for k in KINDS), get["asks_other"], get["english"]])
    return np.asarray(values, dtype=np.float32)


def _contexts(passages: Sequence[Passage]) -> dict[str, str]:
    """Everything shown of each article (title included), folded: a name or a year said in an
    earlier chunk still frames a sentence."""
    shown: dict[str, str] = {}
    for p in passages:
        shown[p.article_id] = shown.get(p.article_id, p.title) + " " + p.text
    return {a: fold(t) for a, t in shown.items()}


def _share(cons: Sequence[Constraint], folded_text: str) -> float:
    if not cons:
        return 1.0
    return sum(1 for c in cons if holds(c, folded_text)) / len(cons)


def _lcs(q_content: str, folded_sentence: str) -> float:
    """Longest run of the question's content that the sentence repeats, as a share of it:
    questions are often the answering sentence with the answer swapped for a question word."""
    if not q_content:
        return 0.0
    m = SequenceMatcher(None, q_content, folded_sentence, autojunk=False)
    return m.find_longest_match(0, len(q_content), 0, len(folded_sentence)).size / len(q_content)


SLOT = 8  # characters of the question's text either side of its question word, at most
_ASK_WORD = re.compile(r"什么|甚么|哪|谁|几|多少|何")


def _around_ask(query: Query) -> tuple[str, str]:
    """The question's content before and after its question word (哪一地區對陶瓷 -> "", 對陶瓷
    with the category dropped): the answering sentence tends to hold both, the answer between."""
    q = _NON_WORD.sub("", fold(query.text))
    m = _ASK_WORD.search(q)
    if not m:
        return q, ""
    left, right = q[:m.start()], _ASKING.sub("", q[m.start():], count=1)
    for category in sorted(query.categories, key=len, reverse=True):
        if right.startswith(category):
            right = right[len(category):]
            break
    return left, right


def _slot(left: str, right: str, sentence: str) -> tuple[float, float, float]:
    """How much of the text right before and right after the question word the sentence has
    (share of SLOT characters), and 1.0 when both are there in order with room between."""
    k_left, end_left = _longest(left, sentence, suffix=True)
    k_right, start_right = _longest(right, sentence, suffix=False)
    if not left:
        k_left, end_left = SLOT, 0
    if not right:
        k_right, start_right = SLOT, len(sentence)
    both = k_left >= 2 and k_right >= 2 and 0 <= start_right - end_left <= 40
    return k_left / SLOT, k_right / SLOT, 1.0 if both else 0.0


def _longest(part: str, sentence: str, suffix: bool) -> tuple[int, int]:
    """The longest piece (up to SLOT characters) of `part`'s end (suffix) or start found in
    the sentence, and where it ends (suffix) or starts in the sentence."""
    for k in range(min(SLOT, len(part)), 0, -1):
        piece = part[-k:] if suffix else part[:k]
        at = sentence.find(piece)
        if at >= 0:
            return k, at + k if suffix else at
    return 0, -1


_QUANTITY = re.compile(r"(?<![\d,.])\d[\d,.]*(?![\d,.])|[一二两三四五六七八九十百千万亿]{2,}")


def _new_quantity(folded_sentence: str, asked: set[str], units: Sequence[str]) -> float:
    """1.0 when the sentence has an amount the question does not: a number that is not a
    year or a date (a population is not "2025年3月"), unless years are what it asks (幾年)."""
    for m in _QUANTITY.finditer(folded_sentence):
        value = m.group(0).replace(",", "")
        after = folded_sentence[m.end():m.end() + 2].lstrip()
        if any(after.startswith(u) for u in units):
            return 1.0
        if value in asked or _YEAR.fullmatch(value) or after[:1] in ("年", "月", "日", "号"):
            continue
        return 1.0
    return 0.0


def _new_number(folded_sentence: str, asked: set[str]) -> float:
    """1.0 when the sentence has a number the question does not (what 多少 asks for)."""
    return 1.0 if any(d not in asked for d in re.findall(r"\d+", folded_sentence)) else 0.0


def _novelty(folded_sentence: str, q_content: str) -> float:
    chars = [ch for ch in folded_sentence if ch.isalnum()]
    if not chars:
        return 0.0
    asked = set(q_content)
    return sum(1 for ch in chars if ch not in asked) / len(chars)


def _position(units: list[tuple[int, Span]], i: int) -> int:
    """0 for a passage's first sentence, 1 for its second, ..."""
    n = units[i][0]
    return sum(1 for j in range(i) if units[j][0] == n)
