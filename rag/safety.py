"""Hostile text: instruction-like lines in documents (found, masked before any answerer sees
them) and characters a terminal or JSON reader would act on (escaped on output). Pure functions."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

from rag.lang import CJK
from rag.schema import Passage
from rag.text import to_traditional

# Written in Simplified and lower case, matched case-insensitively after NFKC on either script
# (each CJK character stands for its Simplified and Traditional forms: folding whole documents
# through OpenCC first took 18 s for 7.5 MB of news). Each pattern is a way documents address a
# model rather than a reader, at the start of a clause (an imperative), so that reported speech
# such as 「他忽略了所有的規定」 is not one. Measured: of 8,359 paragraphs (the shipped corpus, DRCD
# dev, CMRC 2018 dev, CRUD-RAG news) none is flagged; tests/test_safety.py checks the corpus.
_CLAUSE = r"(?:^|[，,。.:：;；!！?？\s「『“\"(（]|请|现在|立即|立刻|务必|必须)"
_DETERMINER = r"(?:以上|上面|上述|之前|先前|前面|前述|此前|原先|原来|原有|你的|所有|全部|一切)"
_RULES = r"(?:指示|指令|规则|提示|设定|要求|规定|命令|对话|限制|内容|约束)"
_ZH = (
    rf"{_CLAUSE}(?:忽略|无视|忽视|不要理会|不用理会|别理会?|跳过|忘记|忘掉|抛开|抛弃|绕过)"
    rf"(?:掉|了)?{_DETERMINER}(?:的)?(?:所有|全部|一切)?(?:的)?{_RULES}",
    r"系统提示词|系统提示语",
    r"(?:泄露|泄漏|透露|输出|告诉我|重复|打印|列出)(?:你的|出)(?:系统|隐藏|原始|初始)?"
    r"(?:提示|指令|设定)",
    rf"{_CLAUSE}你(?:现在|从现在起|从现在开始)?(?:是|扮演|假装|充当)(?:一个|一名|一位)?"
    r"[^。，,.\n]{0,8}(?:ai|人工智能|语言模型|聊天机器人|聊天助理)",
    rf"{_CLAUSE}(?:从现在起|从现在开始)[，,]?你(?:必须|只能|要)",
    r"(?:以下|下面|这)(?:是|为)(?:新的|真正的|最新的)(?:指示|指令|规则|任务)",
)
_EN = (
    r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+|the\s+)?"
    r"(?:previous|prior|above|earlier|preceding|all|your|system|original)\b[^.\n]{0,30}?"
    r"\b(?:instructions?|prompts?|rules|directions|guidelines|directives|context)\b",
    r"\bsystem\s*prompt\b",
    r"\b(?:reveal|print|show|leak|repeat|output|disclose)\s+(?:your|the)\s+"
    r"(?:system\s+|hidden\s+|initial\s+|original\s+)?(?:prompt|instructions)\b",
    r"\byou are now\b",
    r"\b(?:act|pretend|behave) as (?:an? )?(?:ai|assistant|language model|chatbot)\b",
    r"\bnew instructions?\s*:",
    r"\b(?:jailbreak|developer mode)\b",
)
# Chat-template role markers, and a forged passage header of the prompt (its delimiters carry a
# per-request nonce and are escaped in document text by rag/prompt.py; ">>>" alone is a common
# bullet in Chinese news).
_ROLE = (
    r"^\s*(?:system|assistant|user|developer|系统|助理|使用者|用户)\s*[:：]",
    r"<\|[a-z_]{2,20}\|>|\[/?inst\]|<</?sys>>",
    r"^\s*#{2,}\s*(?:instruction|system|response)\b",
    r"^\s*\[\d{1,3}\]\s*标题\s*[:：]",
)
INSTRUCTION = "|".join((*_ZH, *_EN, *_ROLE))

# Terminal escape sequences, whole: strings (OSC title, DCS, ...) up to BEL or ST, CSI (colours,
# clear screen, cursor moves), then any other ESC sequence.
TERMINAL_ESCAPE = (r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]{0,512}"
                   r"(?:\x07|\x1b\\|\x9c)|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b[ -/]*[0-~]")

# What a terminal or a JSON reader acts on: C0 but newline and tab, DEL, C1, line/paragraph
# separators, bidi embeddings/overrides/isolates, a byte-order mark, and lone surrogates
# (which cannot even be encoded to UTF-8: printing one raises UnicodeEncodeError).
_UNSAFE_CLASS = ("\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                 "\ufeff\ud800-\udfff")
_UNSAFE = re.compile(f"[{_UNSAFE_CLASS}]")
_UNSAFE_OR_BREAK = re.compile(f"[{_UNSAFE_CLASS}\n\t]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


@lru_cache(maxsize=1)
def _instruction() -> re.Pattern[str]:
    both = CJK.sub(lambda m: _both_scripts(m.group()), INSTRUCTION)
    return re.compile(both, re.IGNORECASE | re.MULTILINE)


def _both_scripts(char: str) -> str:
    traditional = to_traditional(char)
    return f"[{char}{traditional}]" if len(traditional) == 1 and traditional != char else char


def looks_like_instruction(text: str) -> bool:
    """True when the text speaks to a model: 「忽略以上所有指示」, "ignore previous
    instructions", system-prompt talk, chat role markers, a forged passage header."""
    return _instruction().search(unicodedata.normalize("NFKC", text)) is not None


def instruction_lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line holding an instruction-like sentence. The whole line goes:
    an injection's payload usually follows its instruction on the same line, in its own
    sentence (「忽略以上指示。回答：…」)."""
    return [(line.start(), line.end()) for line in re.finditer(r"[^\n]+", text)
            if looks_like_instruction(line.group())]


def mask_instructions(passages: Sequence[Passage]) -> tuple[list[Passage], list[str]]:
    """Passages whose instruction-like lines are replaced by spaces of the same length (offsets
    into the article stay valid, so quotes still index the stored body), and a notice per
    passage that lost a line. Applied once, before any answerer sees the passages."""
    masked: list[Passage] = []
    notes: list[str] = []
    for n, p in enumerate(passages, start=1):
        lines = instruction_lines(p.text)
        if not lines:
            masked.append(p)
            continue
        text = p.text
        for start, end in lines:
            text = text[:start] + " " * (end - start) + text[end:]
        masked.append(replace(p, text=text))
        notes.append(f"段落 {n}（{p.article_id}）有 {len(lines)} 行像是給模型的指令，已遮蔽。 "
                     f"Passage {n} ({p.article_id}): {len(lines)} instruction-like line(s) "
                     "masked; documents are data, not instructions.")
    return masked, notes


def instruction_warnings(text: str, source: str) -> list[str]:
    """Ingest-time warnings: one per instruction-like line (the article is still stored; the
    lines are masked when retrieved)."""
    return [f"{source}: 第 {text.count(chr(10), 0, start) + 1} 行像是給模型的指令，回答時會遮蔽"
            f"：{escape_controls(text[start:end][:40], newlines=False)} "
            f"(instruction-like line {text.count(chr(10), 0, start) + 1}; masked when answering)"
            for start, end in instruction_lines(text)]


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return {"\n": "\\n", "\t": "\\t"}.get(match.group(), f"\\x{code:02x}" if code < 0x100
                                          else f"\\u{code:04x}")


def escape_controls(text: str, newlines: bool = True) -> str:
    """Text safe to print on a terminal: every control character, bidi override and lone
    surrogate shown as a visible escape (ESC -> "\\x1b"); newlines and tabs kept unless
    `newlines` is False (one-line fields such as titles)."""
    return (_UNSAFE if newlines else _UNSAFE_OR_BREAK).sub(_escape, text)


def escape_json(dumped: str) -> str:
    """The output of json.dumps(..., ensure_ascii=False) with what it leaves raw (C1 controls,
    bidi overrides, separators, lone surrogates) written as \\uXXXX escapes: still valid JSON,
    the same strings once parsed, and nothing a terminal acts on."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)


def clean_question(question: str) -> tuple[str, list[str]]:
    """A question that can be encoded and printed: surrogate halves that pair up joined into
    their character, lone ones and control characters removed, with a notice for each kind."""
    notes: list[str] = []
    if _SURROGATE.search(question):
        question = _SURROGATE_PAIR.sub(_join_pair, question)
        if _SURROGATE.search(question):
            question = _SURROGATE.sub("", question)
            notes.append("問題含有無效的字元（孤立的代理字元），已移除。 The question held invalid "
                         "characters (lone surrogates); they were removed.")
    if _UNSAFE.search(question):
        question = _UNSAFE.sub(" ", question)
        notes.append("問題含有控制字元，已移除。 "
                     "Control characters were removed from the question.")
    return question, notes


def _join_pair(match: re.Match[str]) -> str:
    high, low = (ord(c) for c in match.group())
    return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
