"""Consistency checks for eval/data/gold.jsonl against the raw corpus (no project imports)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import opencc
import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLD_PATH = ROOT / "eval" / "data" / "gold.jsonl"
DIALOGUES_PATH = ROOT / "eval" / "data" / "dialogues.jsonl"
README_PATH = ROOT / "eval" / "data" / "README.md"

# The split rule, as eval/data/README.md states it on its first line (checked below).
SPLIT_RULE = (
    "split rule: g-items (the first 112) and dialogues: within each category, sorted by id, "
    "0-based even positions are tune and odd positions heldout; h-items are all heldout"
)


def _corpus_dir() -> Path:
    local = Path(__file__).resolve().parents[1] / "data" / "corpus" / "kaohsiung-smart-city"
    if local.is_dir():
        return local
    return Path(__file__).resolve().parents[2] / "shared" / "corpus" / "kaohsiung-smart-city"


CORPUS_DIR = _corpus_dir()

CATEGORIES = {
    "fact",
    "person",
    "date",
    "number",
    "list",
    "place",
    "cross_article",
    "simplified",
    "english",
    "paraphrase",
    "unanswerable",
    "false_premise",
    "keyword",
}
LANGS = {"zh-Hant", "zh-Hans", "en"}
UNANSWERABLE_CATEGORIES = {"unanswerable", "false_premise"}
MIN_PER_CATEGORY = {
    "person": 12,
    "date": 10,
    "number": 8,
    "list": 6,
    "cross_article": 5,
    "simplified": 8,
    "english": 8,
    "paraphrase": 6,
    "unanswerable": 10,
    "false_premise": 5,
    "keyword": 6,
}
MIN_ITEMS = 85
MIN_NOT_ANSWERABLE = 15
# Items written later, by someone who does not build the answerer, as held-out data only.
NEW_PREFIX = "h"
MIN_NEW = 48
MIN_NEW_UNANSWERABLE = 12
MIN_NEW_PER_LANG = {"en": 8, "zh-Hans": 8}
SPLITS = ("tune", "heldout")
FIELDS = {
    "id": str,
    "question": str,
    "lang": str,
    "answerable": bool,
    "key_facts": list,
    "article_ids": list,
    "evidence": list,
    "category": str,
    "split": str,
}
REPORTER_PREFIX = "新聞視界時報 記者"
RELATED_MARKER = "相關新聞"


def article_body(path: Path) -> list[str]:
    """Body lines: after the reporter line, before 相關新聞, stripped, captions dropped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    starts = [i for i, ln in enumerate(lines) if ln.strip().startswith(REPORTER_PREFIX)]
    ends = [i for i, ln in enumerate(lines) if ln.strip() == RELATED_MARKER]
    assert starts, f"{path.name}: no reporter line starting with {REPORTER_PREFIX!r}"
    assert ends, f"{path.name}: no {RELATED_MARKER!r} line"
    body = []
    for ln in lines[starts[0] + 1 : ends[0]]:
        s = ln.strip()
        if s and not s.startswith(("(圖/", "圖/")):
            body.append(s)
    return body


def _line_sentences(line: str) -> list[str]:
    """Complete sentences of a body line, each ending at 。！？ (the rest is kept as-is)."""
    return [m.group(0) for m in re.finditer(r"[^。！？]*[。！？]", line)]


def allowed_spans(lines: list[str]) -> set[str]:
    """Whole body lines plus every complete sentence inside them."""
    return set(lines) | {s for ln in lines for s in _line_sentences(ln)}


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def fold(text: str) -> str:
    """NFKC, lower case, Traditional->Simplified, no whitespace: the same steps as
    eval.metrics.fold, restated so that the data checks do not depend on the code they judge."""
    folded = _t2s().convert(unicodedata.normalize("NFKC", text).lower())
    return "".join(ch for ch in folded if not ch.isspace())


def missing_key_facts(key_facts: list[list[str]], evidence: list[str]) -> list[list[str]]:
    """The key-fact groups none of whose alternatives occurs (folded) in the evidence."""
    joined = fold("\n".join(evidence))
    return [group for group in key_facts if not any(fold(alt) in joined for alt in group)]


def parity_split(records: Iterable[dict]) -> dict[str, str]:
    """The split rule: within each category, sorted by id, even positions tune, odd heldout."""
    by_category: dict[str, list[str]] = defaultdict(list)
    for rec in records:
        by_category[rec["category"]].append(rec["id"])
    return {
        rid: SPLITS[pos % 2]
        for ids in by_category.values()
        for pos, rid in enumerate(sorted(ids))
    }


def load_bodies() -> dict[str, list[str]]:
    assert CORPUS_DIR.is_dir(), f"corpus not found at {CORPUS_DIR}"
    found = {p.stem: article_body(p) for p in sorted(CORPUS_DIR.glob("*.txt"))}
    assert len(found) == 5, f"expected 5 articles in {CORPUS_DIR}, found {len(found)}"
    return found


@pytest.fixture(scope="module")
def bodies() -> dict[str, list[str]]:
    return load_bodies()


def evaluation_questions() -> list[str]:
    """Every gold question and every dialogue turn: what no whole-message request (small talk,
    a search, a summary) may take for itself."""
    return ([item["question"] for item in load_jsonl(GOLD_PATH)]
            + [t["question"] for d in load_jsonl(DIALOGUES_PATH) for t in d["turns"]])


def load_jsonl(path: Path) -> list[dict]:
    """One JSON object per line, no blank lines."""
    assert path.is_file(), f"missing {path}"
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        assert line.strip(), f"{path.name} line {n} is blank"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:  # pragma: no cover - message only
            pytest.fail(f"{path.name} line {n} is not valid JSON: {exc}")
        assert isinstance(obj, dict), f"{path.name} line {n} is not a JSON object"
        out.append(obj)
    return out


@pytest.fixture(scope="module")
def items() -> list[dict]:
    return load_jsonl(GOLD_PATH)


def test_item_count(items: list[dict]) -> None:
    assert len(items) >= MIN_ITEMS


def test_ids_unique_and_well_formed(items: list[dict]) -> None:
    ids = [it["id"] for it in items]
    dupes = [i for i, c in Counter(ids).items() if c > 1]
    assert not dupes, f"duplicate ids: {dupes}"
    bad = [i for i in ids if not re.fullmatch(r"[gh]\d{3}", i)]
    assert not bad, f"ids must look like g001 (original) or h001 (held-out writes): {bad}"
    assert ids == sorted(ids), "items must stay in id order (g before h)"


def test_questions_unique(items: list[dict]) -> None:
    seen = Counter(fold(it["question"]) for it in items)
    dupes = [q for q, c in seen.items() if c > 1]
    assert not dupes, f"the same question twice (after folding): {dupes}"


def test_fields_and_types(items: list[dict]) -> None:
    for it in items:
        assert set(it) == set(FIELDS), f"{it.get('id')}: fields {sorted(it)}"
        for name, typ in FIELDS.items():
            assert isinstance(it[name], typ), f"{it['id']}: {name} must be {typ.__name__}"
        assert it["question"].strip(), f"{it['id']}: empty question"
        assert it["lang"] in LANGS, f"{it['id']}: bad lang {it['lang']}"
        assert it["category"] in CATEGORIES, f"{it['id']}: bad category {it['category']}"
        assert it["split"] in SPLITS, f"{it['id']}: bad split {it['split']}"
        for group in it["key_facts"]:
            assert isinstance(group, list) and group, f"{it['id']}: key-fact group must be a list"
            assert all(isinstance(a, str) and a.strip() for a in group), it["id"]
        assert all(isinstance(a, str) for a in it["article_ids"]), it["id"]
        assert all(isinstance(e, str) and e for e in it["evidence"]), it["id"]


def test_category_minimums(items: list[dict]) -> None:
    counts = Counter(it["category"] for it in items)
    short = {c: (counts[c], m) for c, m in MIN_PER_CATEGORY.items() if counts[c] < m}
    assert not short, f"categories below minimum (have, need): {short}"
    not_answerable = sum(1 for it in items if not it["answerable"])
    assert not_answerable >= MIN_NOT_ANSWERABLE


def test_category_language_consistency(items: list[dict]) -> None:
    for it in items:
        if it["category"] == "simplified":
            assert it["lang"] == "zh-Hans", it["id"]
        if it["category"] == "english":
            assert it["lang"] == "en", it["id"]


def test_answerable_flag_matches_category(items: list[dict]) -> None:
    for it in items:
        expected = it["category"] not in UNANSWERABLE_CATEGORIES
        assert it["answerable"] is expected, f"{it['id']}: answerable={it['answerable']}"


def test_answerable_items_have_support(items: list[dict]) -> None:
    for it in items:
        if it["answerable"]:
            assert it["evidence"], f"{it['id']}: answerable item without evidence"
            assert it["article_ids"], f"{it['id']}: answerable item without article_ids"
            assert it["key_facts"], f"{it['id']}: answerable item without key_facts"
        else:
            assert it["evidence"] == [], f"{it['id']}: unanswerable item with evidence"
            assert it["article_ids"] == [], f"{it['id']}: unanswerable item with article_ids"
            assert it["key_facts"] == [], f"{it['id']}: unanswerable item with key_facts"


def test_cross_article_items_span_two_articles(items: list[dict]) -> None:
    for it in items:
        if it["category"] == "cross_article":
            assert len(set(it["article_ids"])) >= 2, f"{it['id']}: needs two articles"


def test_article_ids_exist(items: list[dict], bodies: dict[str, list[str]]) -> None:
    for it in items:
        unknown = [a for a in it["article_ids"] if a not in bodies]
        assert not unknown, f"{it['id']}: unknown article ids {unknown}"


def test_evidence_is_verbatim_body_text(items: list[dict], bodies: dict[str, list[str]]) -> None:
    for it in items:
        per_article = {a: allowed_spans(bodies.get(a, [])) for a in it["article_ids"]}
        allowed = set().union(*per_article.values()) if per_article else set()
        for sent in it["evidence"]:
            assert sent in allowed, (
                f"{it['id']}: evidence is not a whole body line or complete sentence "
                f"of its gold article(s): {sent!r}"
            )
        for art, spans in per_article.items():
            assert any(s in spans for s in it["evidence"]), (
                f"{it['id']}: article {art} is listed but no evidence sentence comes from it"
            )


def test_evidence_never_from_related_news(items: list[dict]) -> None:
    for it in items:
        for sent in it["evidence"]:
            assert RELATED_MARKER not in sent, it["id"]
            assert not sent.startswith(("(圖/", "圖/")), it["id"]


def test_key_facts_occur_in_evidence(items: list[dict]) -> None:
    # Folded, so a group may list its Traditional, Simplified and full-width forms freely.
    for it in items:
        missing = missing_key_facts(it["key_facts"], it["evidence"])
        assert not missing, f"{it['id']}: no alternative of {missing} occurs in the evidence"


def test_split_rule(items: list[dict]) -> None:
    original = [it for it in items if not it["id"].startswith(NEW_PREFIX)]
    expected = parity_split(original)
    expected.update({it["id"]: "heldout" for it in items if it["id"].startswith(NEW_PREFIX)})
    wrong = {it["id"]: it["split"] for it in items if it["split"] != expected[it["id"]]}
    assert not wrong, f"items off the split rule ({SPLIT_RULE}): {wrong}"


def test_split_rule_documented() -> None:
    first = README_PATH.read_text(encoding="utf-8").splitlines()[0]
    assert first == f"<!-- {SPLIT_RULE} -->", f"{README_PATH} must open with the split rule"


def test_both_halves_hold_every_kind(items: list[dict]) -> None:
    for split in SPLITS:
        half = [it for it in items if it["split"] == split]
        assert sum(not it["answerable"] for it in half) >= 8, f"{split}: too few unanswerable"
        assert {it["lang"] for it in half} == LANGS, f"{split}: a language is missing"


def test_new_heldout_minimums(items: list[dict]) -> None:
    new = [it for it in items if it["id"].startswith(NEW_PREFIX)]
    assert len(new) >= MIN_NEW, f"{len(new)} new held-out items, need {MIN_NEW}"
    unanswerable = sum(not it["answerable"] for it in new)
    assert unanswerable >= MIN_NEW_UNANSWERABLE, f"{unanswerable} new unanswerable items"
    langs = Counter(it["lang"] for it in new)
    short = {lang: langs[lang] for lang, m in MIN_NEW_PER_LANG.items() if langs[lang] < m}
    assert not short, f"new items per language below minimum: {short}"
