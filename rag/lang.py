"""Which language a question is in, and what counts as a CJK character: decided here only, once
per question (by the Assistant), and passed down to retrieval and the answerers.

Japanese: the articles are Chinese and no answerer writes Japanese, but a question with kana is
still told apart ("ja") so that its refusal is one its asker can read: Japanese followed by
English (rag/prompt.py REFUSALS). Retrieval and quoting treat it as Chinese text (its kanji
match the articles' characters); an LLM is asked, as for every language, to answer in the
question's language."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Literal

from rag.text import to_simplified

Lang = Literal["zh-Hant", "zh-Hans", "en", "ja"]
LANGS: tuple[Lang, ...] = ("zh-Hant", "zh-Hans", "en", "ja")

# CJK Unified Ideographs, Extension A and the compatibility block: one range for every module.
CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK = re.compile(f"[{CJK_CLASS}]")
CJK_RUN = re.compile(f"[{CJK_CLASS}]+")
# Characters OpenCC would "convert" to Traditional but that Taiwanese text writes as they are.
_SHARED_FORMS = frozenset("台里面后只干松征范制表准系么冲周志游布才云几")
# Hiragana and katakana (full and half width), but not the prolonged-sound mark alone.
KANA = re.compile("[\u3041-\u309f\u30a1-\u30fa\u30fd-\u30ff\uff66-\uff9d]")
MIN_KANA = 2  # one の in a Chinese question (「高雄の美食」) is a style, not Japanese
# An English question may name its subject in Chinese ("What is 燈塔計畫?"), and a Chinese one
# may name it in English (「Linker Vision的執行長是誰？」, "Smart City Expo World Congress"):
# the question's frame decides. English frame: two of these words; Chinese frame: a Chinese
# question word. None of the 59 mixed-script gold and dialogue questions has two of these.
_EN_FRAME = frozenset(
    "what when who whom whose where which why how is are was were did does do has have had "
    "can could will would the a an of to in on for from about with and tell me please list"
    .split())
_ZH_ASKS = re.compile("什[麼么]|甚[麼么]|何|誰|谁|哪|幾|几|多少|嗎|吗|呢|是否|怎")


def has_cjk(text: str) -> bool:
    return CJK.search(text) is not None


def detect_language(text: str) -> Lang:
    """'ja' when the question has kana, else 'en', 'zh-Hans' or 'zh-Hant'; Traditional unless
    Simplified-only characters outnumber Traditional-only ones."""
    if len(KANA.findall(text)) >= MIN_KANA:
        return "ja"
    cjk = CJK.findall(text)
    if not cjk or _english_frame(text):
        return "en" if re.search(r"[A-Za-z]", text) else "zh-Hant"
    traditional_only = sum(1 for ch in cjk if to_simplified(ch) != ch)
    simplified_only = sum(1 for ch in cjk
                          if ch not in _SHARED_FORMS and _s2t_plain().convert(ch) != ch)
    return "zh-Hans" if simplified_only > traditional_only else "zh-Hant"


def _english_frame(text: str) -> bool:
    """True when an English sentence carries Chinese names: two English frame words, and no
    Chinese question word ("Who is 陳其邁?", not 「《The Art of War》的作者是誰？」)."""
    frame = sum(1 for w in re.findall(r"[A-Za-z]+", text) if w.lower() in _EN_FRAME)
    return frame >= 2 and not _ZH_ASKS.search(text)


@lru_cache(maxsize=1)
def _s2t_plain() -> Any:
    import opencc

    return opencc.OpenCC("s2t")
