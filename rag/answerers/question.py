"""What a question asks for: its content words, the answer kind it names, the unit a number
needs, and its parts when it asks two things at once. Pure functions over folded text."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

from rag.lang import CJK, CJK_RUN, Lang, detect_language
from rag.text import both_scripts, fold

# Question-type cues: (question pattern, pattern an answering sentence tends to hold), written in
# Traditional Chinese and matching Simplified text too (`both_scripts`): before, a Simplified
# question's 谁, 几, 什么时候, 哪国 named no kind (CMRC 2018 dev: 698 of 3,219 questions had a
# kind, 1,284 with both scripts).
_CUE_SOURCES: dict[str, tuple[str, str]] = {
    "person": (r"誰|哪位|哪一位|何人|\bwho(?:se|m)?\b",
               r"市長|副市長|處長|局長|郡長|董事長|執行長|總裁|議員|參事|主管|主任|教授|大使"
               r"|理事長|創辦人|部長|代表|[A-Z][a-z]+ [A-Z]"),
    "date": (r"何時|什麼時候|哪一天|哪天|幾月|幾號|哪一年|哪年|日期|\bwhen\b|what date|what year",
             r"\d{4}\s*年|\d{1,2}\s*月|[(（]?\d{1,2}[)）]?\s*日|去年|今年|明年|年底"),
    # 哪幾 asks which ones, not how many: all 16 DRCD + CMRC questions with it want a list
    # (哪幾個站點, 哪幾種語言), none a count; read as 幾 it asked for 個 / 種 + a number.
    "number": (r"多少|(?<!哪)幾|how many|how much|what number|多大",
               r"\d|[一二三四五六七八九十兩百千萬]+\s*(?:個|項|家|座|位|天|年|名|大|億|萬|%)"),
    "list": (r"哪些|有哪|哪幾|which|what are|list|包括", r"、|及|與|和|,"),
    "place": (r"哪裡|哪裏|哪個城市|哪個國家|哪國|在哪(?![一幾]?[天年月])|何處|\bwhere\b",
              r"市|縣|州|國|區|中心|城|港|館"),
}
CUES: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    kind: (re.compile(both_scripts(ask), re.I), re.compile(both_scripts(answer)))
    for kind, (ask, answer) in _CUE_SOURCES.items()}
# Folded (Simplified) words that carry no content of their own in a question.
STOP_WORDS = frozenset(
    "什么 甚么 哪些 哪里 哪个 哪位 谁 何时 多少 几 是 的 了 在 与 和 及 有 吗 呢 请问 "
    "为何 如何 怎么 怎样 哪 哪一 一 这次 这 该 那 那个 由 从 为 于 对 被 将 还 也 都 "
    "又 所 之 其 并 而 或 以 把 给 到 向 时 时候 一项 一种 分别 主要 目前 已 曾 是否 "
    "有没有 报导 报道 文章 提到 中 以及 这项 两则 后来 请 除了 之外 以外 此外 通过 透过 经由 "
    "藉由".split())
_ASKS = re.compile(r"[哪几谁]|什么|甚么|多少|何")
_NUM = r"(?:\d[\d,.]*|[一二两三四五六七八九十百千万亿〇零]+|首)"  # 首個, 首次: the first
_UNIT_ASKED = re.compile(
    r"(?:(?<!哪)几|多少|第几)\s*([天位岁年次个项家座名人大笔元%]|公里|公尺|小时|分钟|新台币|台币|美元|钱)")
# "Which country" (哪國人, 哪一個國家, 國籍): the answer names a country.
# Not 哪個國王 (a king) or 哪個國際酒店集團 (international): of the 228 DRCD + CMRC questions with
# 哪(一)(個)國, those 6 are the only ones not asking for a country.
_COUNTRY_ASKED = re.compile(both_scripts(
    r"哪(?:一)?(?:個)?國(?![王際])|什麼國家|何國|國籍|\bwhich country|\bwhat country"
    r"|nationality"), re.I)
_DIGITS = re.compile(r"\d[\d.,]*")
_MONEY = frozenset({"元", "新台币", "台币", "美元", "钱"})
# An amount of money: "30億元", "新台幣30億", "1,000萬美元".
_AMOUNT = re.compile(r"(?:\d[\d,.]*|[一二两三四五六七八九十百千万亿〇零]+)"
                     r"\s*(?:[千万亿]\s*)?(?:元|美元)|(?:新台币|台币|美元)\s*\d")
_MEASURE = re.compile(r"[一两二三四五六七八九十]?[个位所家座项种次条名月年天间]")
_NAME_FLAGS = frozenset({"ns", "nr", "nrt", "nrfg", "nt", "nz", "eng"})
_PLACE_END = re.compile(r".[城郡州县]$")  # 檳城, 橘郡: jieba tags them as plain nouns
_PUNCT = re.compile(r"[?？!！。，,、；;：:「」『』“”\"'()（）]")
_PART_BREAK = re.compile(r"[？?]|[，,]\s*(?:以及|又|另外|还有)|以及")


@dataclass(frozen=True)
class Query:
    """A question taken apart for matching; every word is folded (Simplified, lower case)."""

    text: str
    words: tuple[str, ...]  # content words, question words and stop words removed
    categories: frozenset[str]  # nouns right after a question word (哪個國家 -> 国家)
    units: tuple[str, ...]  # 幾天 -> 天: the answer is a number with this unit
    names: tuple[str, ...]  # places, people, organisations the question is about
    kinds: tuple[str, ...]  # keys of CUES the question matches
    english: bool
    senses: tuple[tuple[str, ...], ...] = ()  # per word, what else may stand for it
    needs_country: bool = False  # the answering sentence must name a country (thesaurus.widen)
    # Who counts as someone new for 誰 (`new_name`): jieba person names of this many characters
    # or more that are not common words (jieba tags 高雄 and 智慧 names), and these role nouns
    # (数学家, 总统). thesaurus.widen sets all three.
    name_chars: int = 3
    person_words: frozenset[str] = frozenset()
    common_words: frozenset[str] = frozenset()
    # The extractive answerer's check (ExtractiveAnswerer.query sets it; the learned models
    # were trained without it): the question's years and amounts must be in the answering
    # sentence or next to it, and a 多少 answer needs an amount there (evidence._typed).
    numbers_nearby: bool = False
    # The extractive answerer's too: a word the shown text lacks counts through a part of it
    # only when each of its 2+-character pieces is shown (evidence.resolve).
    whole_parts: bool = False
    # The extractive answerer's too: per word, a factor on its IDF in coverage and in the
    # missing share (rag/answerers/word_weights.py: an answer seldom repeats 多久 or 原因);
    # () = every word fully.
    weights: tuple[float, ...] = ()
    # The extractive answerer's too: per word, a factor on its IDF in the missing share only,
    # replacing `weights` there (WordRates.missing_weight: how much its absence says the
    # articles lack the answer; 打算, 一共 little); () = `weights`.
    missing_weights: tuple[float, ...] = ()
    # The extractive answerer's too: an asked 國家 that no shown passage says is present in a
    # text naming a country (evidence.COUNTRY_FORM).
    country_instances: bool = False

    @property
    def numbers(self) -> tuple[str, ...]:
        """The question's years and amounts as written in digits (2019, 15)."""
        return tuple(w for w in self.words if _DIGITS.fullmatch(w))

    @property
    def asks_country(self) -> bool:
        return _COUNTRY_ASKED.search(self.text) is not None

    def alternatives(self) -> dict[str, tuple[str, ...]]:
        """Each word with the forms that count as it in text (an English word's Chinese)."""
        return {w: (w, *extra) for w, extra in zip(self.words, self.senses or
                                                   [()] * len(self.words), strict=True)}

    def cue(self, sentence: str) -> bool:
        """True when the (unfolded) sentence holds what the question type asks for."""
        return any(CUES[k][1].search(sentence) for k in self.kinds)

    def unit_ok(self, folded_sentence: str) -> bool:
        return all(_AMOUNT.search(folded_sentence) if u in _MONEY
                   else re.search(_NUM + r"\s*" + re.escape(u), folded_sentence)
                   for u in self.units)


def analyse(question: str, lang: Lang | None = None) -> Query:
    """`lang` is the question's language as the Assistant decided it (detected when None)."""
    english = (lang or detect_language(question)) == "en"
    kinds = tuple(k for k, (ask, _) in CUES.items() if ask.search(question))
    folded = fold(_PUNCT.sub(" ", question))
    if english:
        return _english(question, kinds)
    words, categories, names = _content_words(folded)
    units = tuple(m.group(1) for m in _UNIT_ASKED.finditer(folded))
    return Query(question, words, categories, units, names, kinds, False)


def _content_words(folded: str) -> tuple[tuple[str, ...], frozenset[str], tuple[str, ...]]:
    words: list[str] = []
    names: list[str] = []
    categories: set[str] = set()
    after_ask = False
    for word, flag in pos_cut(folded):
        word = word.strip()
        if not word:
            continue
        if _ASKS.search(word):
            after_ask = True
            continue
        if word in STOP_WORDS or (after_ask and _MEASURE.fullmatch(word)):
            continue  # 哪一所, 哪一月: the measure word belongs to the question word
        cjk = CJK.search(word) is not None
        if (cjk and len(word) >= 2) or re.fullmatch(r"[a-z0-9][a-z0-9.'-]*", word):
            words.append(word)
            if after_ask and cjk and flag.startswith("n"):
                categories.add(word)
            elif not cjk or _PLACE_END.search(word) or flag == "ns" or (
                    flag in _NAME_FLAGS and len(word) >= 3):  # jieba tags 智慧 as a name
                names.append(word)
            after_ask = False
    return tuple(dict.fromkeys(words)), frozenset(categories), tuple(dict.fromkeys(names))


def _person_sized(name: str) -> bool:
    """A Latin-script person's name is two to four capitalised words (Matt Mahan, Andreas
    Röttger); five or more are a title: Smart City Expo World Congress answered 那次是誰帶隊？"""
    return len(re.split(r"[ -]", name)) <= 4


def new_name(sentence: str, query: Query) -> bool:
    """True when the sentence names a person the question does not (a 誰 question's answer),
    by name or, for a widened query, by role; an English question's words count in their
    Chinese senses too."""
    senses = query.senses if query.english else ()  # a Chinese word's synonyms name nobody
    folded_q = " ".join([fold(query.text), *(a for alts in senses for a in alts)])
    latin = re.findall(r"[A-Z][a-z\u00c0-\u024f]+(?:[ -][A-Z][a-z\u00c0-\u024f]+)+", sentence)
    if any(fold(name) not in folded_q for name in latin if _person_sized(name)):
        return True
    return any((flag.startswith("nr") and len(w) >= query.name_chars
                and w not in query.common_words or w in query.person_words)
               and w not in folded_q for w, flag in pos_cut(fold(sentence)))


def _english(question: str, kinds: tuple[str, ...]) -> Query:
    """Words with their CC-CEDICT senses; names are the words CC-CEDICT knows as names. The
    question's Chinese words ("What is 燈塔計畫?", a follow-up's carried Chinese topic) are
    content words as in a Chinese question, matched as they are."""
    from rag.lexicon import read_english

    glosses = read_english(question)
    chinese = " ".join(CJK_RUN.findall(fold(question)))  # its words and names are all CJK
    words, _, names = _content_words(chinese) if chinese else ((), frozenset(), ())
    return Query(question, tuple(g.word for g in glosses) + words, frozenset(), (),
                 tuple(g.word for g in glosses if g.name) + names, kinds, True,
                 tuple(g.senses for g in glosses) + ((),) * len(words))


def keywords(question: str) -> str:
    """The question as a keyword query (林欽榮在檳城和哪位行政議員交流？ -> 林欽榮 檳城 行政 議員
    交流): the words the analyser keeps as content words, in the question's own script; the
    question itself when none is left. Measures how the answerer takes searches typed as
    keywords (`train.validate --keywords`, `rag eval --dataset corpus-keywords`)."""
    folded = fold(question)
    kept, words, at = set(analyse(question).words), [], 0
    for word, _ in pos_cut(folded):
        if word.strip() in kept:
            same = len(folded) == len(question)  # fold maps CJK character to character
            words.append(question[at:at + len(word)] if same else word)
        at += len(word)
    return " ".join(dict.fromkeys(words)) or question


def split_parts(question: str, lang: Lang | None = None) -> list[str]:
    """The sub-questions of a question that asks two things ("…是何時？…獲得什麼獎項？");
    a part without a content word of its own joins the part before it."""
    pieces = [p.strip(" ，,") for p in _PART_BREAK.split(question) if p.strip(" ，,?？")]
    parts: list[str] = []
    for piece in pieces:
        if parts and len(analyse(piece, lang).words) < 2:
            parts[-1] = f"{parts[-1]}，{piece}"
        else:
            parts.append(piece)
    return parts or [question]


@lru_cache(maxsize=4096)
def pos_cut(folded: str) -> tuple[tuple[str, str], ...]:
    """jieba words with part-of-speech flags; jieba's dictionary is Simplified, as `fold` is."""
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    return tuple((p.word, p.flag) for p in jieba.posseg.lcut(folded))


@lru_cache(maxsize=4096)
def word_tag(word: str) -> str:
    """jieba's part-of-speech flag of a folded word on its own ("v" for 打算, "d" for 曾经);
    "multi" when jieba cuts it into several words."""
    cut = pos_cut(word)
    return cut[0][1] if len(cut) == 1 else "multi"


@lru_cache(maxsize=4096)
def pieces(word: str) -> tuple[str, ...]:
    """The folded word cut into smaller jieba words, the most likely way that is not the word
    itself: 日本大使馆 -> 日本, 大使馆; 搜狐公司 -> 搜狐, 公司; 习近平 -> 习, 近, 平."""
    if len(word) < 2:
        return (word,) if word else ()
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.dt
    tokenizer.check_initialized()
    dag = tokenizer.get_DAG(word)
    dag[0] = [end for end in dag[0] if end != len(word) - 1] or [0]
    route: dict[int, tuple[float, int]] = {}
    tokenizer.calc(word, dag, route)
    out, i = [], 0
    while i < len(word):
        end = route[i][1] + 1
        out.append(word[i:end])
        i = end
    return tuple(out)
