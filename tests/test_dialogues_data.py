"""Consistency checks for eval/data/dialogues.jsonl against the raw corpus (no project imports)."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from test_gold_data import (
    DIALOGUES_PATH,
    LANGS,
    SPLIT_RULE,
    SPLITS,
    allowed_spans,
    fold,
    load_bodies,
    load_jsonl,
    missing_key_facts,
    parity_split,
)

FIELDS = {"id": str, "lang": str, "category": str, "turns": list, "split": str}
TURN_FIELDS = {
    "question": str,
    "answerable": bool,
    "key_facts": list,
    "article_ids": list,
    "evidence": list,
}
CATEGORIES = {"followup", "switch_entity", "refused_followup", "cross_article", "topic_switch"}
MIN_DIALOGUES = 45
MIN_REFUSED_FOLLOWUPS = 6
MIN_PER_LANG = {"en": 5, "zh-Hans": 4}
MIN_PER_CATEGORY = {
    "followup": 8,
    "switch_entity": 5,
    "refused_followup": 6,
    "cross_article": 2,
    "topic_switch": 12,
}
# Elliptical follow-ups are short (那橘郡呢？, When?); enough of them must be.
SHORT_FOLLOWUP_CHARS = 10
MIN_SHORT_FOLLOWUPS = 12


@pytest.fixture(scope="module")
def bodies() -> dict[str, list[str]]:
    return load_bodies()


@pytest.fixture(scope="module")
def dialogues() -> list[dict]:
    return load_jsonl(DIALOGUES_PATH)


def _turns(dialogues: list[dict]) -> list[tuple[str, dict]]:
    """Every turn with a label like d003.2 (dialogue id, 1-based turn)."""
    return [(f"{d['id']}.{n}", t) for d in dialogues for n, t in enumerate(d["turns"], start=1)]


def _followups(dialogues: list[dict]) -> list[dict]:
    return [t for d in dialogues for t in d["turns"][1:]]


def test_ids_unique_and_ordered(dialogues: list[dict]) -> None:
    ids = [d["id"] for d in dialogues]
    assert all(re.fullmatch(r"d\d{3}", i) for i in ids), f"ids must look like d001: {ids}"
    dupes = [i for i, c in Counter(ids).items() if c > 1]
    assert not dupes, f"duplicate ids: {dupes}"
    assert ids == sorted(ids), "dialogues must stay in id order"


def test_fields_and_types(dialogues: list[dict]) -> None:
    for d in dialogues:
        assert set(d) == set(FIELDS), f"{d.get('id')}: fields {sorted(d)}"
        for name, typ in FIELDS.items():
            assert isinstance(d[name], typ), f"{d['id']}: {name} must be {typ.__name__}"
        assert d["lang"] in LANGS, f"{d['id']}: bad lang {d['lang']}"
        assert d["category"] in CATEGORIES, f"{d['id']}: bad category {d['category']}"
        assert d["split"] in SPLITS, f"{d['id']}: bad split {d['split']}"
        assert 2 <= len(d["turns"]) <= 3, f"{d['id']}: a dialogue has 2 or 3 turns"
    for label, t in _turns(dialogues):
        assert set(t) == set(TURN_FIELDS), f"{label}: fields {sorted(t)}"
        for name, typ in TURN_FIELDS.items():
            assert isinstance(t[name], typ), f"{label}: {name} must be {typ.__name__}"
        assert t["question"].strip(), f"{label}: empty question"
        for group in t["key_facts"]:
            assert isinstance(group, list) and group, f"{label}: key-fact group must be a list"
            assert all(isinstance(a, str) and a.strip() for a in group), label


def test_first_turn_is_answerable(dialogues: list[dict]) -> None:
    # A follow-up needs a topic to carry, so every dialogue opens with an answered question.
    unanswered = [d["id"] for d in dialogues if not d["turns"][0]["answerable"]]
    assert not unanswered, f"dialogues opening with a refusal: {unanswered}"


def test_turn_support_matches_answerable(dialogues: list[dict]) -> None:
    for label, t in _turns(dialogues):
        fields = (t["key_facts"], t["article_ids"], t["evidence"])
        if t["answerable"]:
            assert all(fields), f"{label}: answerable turn needs key_facts, article_ids, evidence"
        else:
            assert not any(fields), f"{label}: refused turn must have no key facts or evidence"


def test_evidence_is_verbatim_body_text(dialogues: list[dict],
                                        bodies: dict[str, list[str]]) -> None:
    for label, t in _turns(dialogues):
        unknown = [a for a in t["article_ids"] if a not in bodies]
        assert not unknown, f"{label}: unknown article ids {unknown}"
        per_article = {a: allowed_spans(bodies[a]) for a in t["article_ids"]}
        allowed = set().union(*per_article.values()) if per_article else set()
        for sent in t["evidence"]:
            assert sent in allowed, f"{label}: evidence not verbatim body text: {sent!r}"
        for art, spans in per_article.items():
            assert any(s in spans for s in t["evidence"]), f"{label}: no evidence from {art}"


def test_key_facts_occur_in_evidence(dialogues: list[dict]) -> None:
    for label, t in _turns(dialogues):
        missing = missing_key_facts(t["key_facts"], t["evidence"])
        assert not missing, f"{label}: no alternative of {missing} occurs in the evidence"


def test_category_matches_turns(dialogues: list[dict]) -> None:
    for d in dialogues:
        refused = [t for t in d["turns"] if not t["answerable"]]
        if d["category"] == "refused_followup":
            assert refused, f"{d['id']}: a refused_followup dialogue needs a refused turn"
        else:
            assert not refused, f"{d['id']}: only refused_followup dialogues have refused turns"
        if d["category"] == "cross_article":
            articles = {a for t in d["turns"] for a in t["article_ids"]}
            assert len(articles) >= 2, f"{d['id']}: cross_article needs two articles"


def test_split_rule(dialogues: list[dict]) -> None:
    expected = parity_split(dialogues)
    wrong = {d["id"]: d["split"] for d in dialogues if d["split"] != expected[d["id"]]}
    assert not wrong, f"dialogues off the split rule ({SPLIT_RULE}): {wrong}"


def test_questions_unique_within_first_turns(dialogues: list[dict]) -> None:
    firsts = Counter(fold(d["turns"][0]["question"]) for d in dialogues)
    dupes = [q for q, c in firsts.items() if c > 1]
    assert not dupes, f"two dialogues open with the same question: {dupes}"


def test_minimums(dialogues: list[dict]) -> None:
    assert len(dialogues) >= MIN_DIALOGUES, f"{len(dialogues)} dialogues, need {MIN_DIALOGUES}"
    refused = sum(not t["answerable"] for t in _followups(dialogues))
    assert refused >= MIN_REFUSED_FOLLOWUPS, f"{refused} refused follow-ups"
    langs = Counter(d["lang"] for d in dialogues)
    short = {lang: langs[lang] for lang, m in MIN_PER_LANG.items() if langs[lang] < m}
    assert not short, f"dialogues per language below minimum: {short}"
    cats = Counter(d["category"] for d in dialogues)
    few = {c: cats[c] for c, m in MIN_PER_CATEGORY.items() if cats[c] < m}
    assert not few, f"dialogues per category below minimum: {few}"
    for split in SPLITS:
        half = [d for d in dialogues if d["split"] == split]
        assert sum(not t["answerable"] for t in _followups(half)) >= 3, f"{split}: few refusals"


def test_followups_are_elliptical(dialogues: list[dict]) -> None:
    short = [t["question"] for t in _followups(dialogues)
             if len(t["question"]) <= SHORT_FOLLOWUP_CHARS]
    assert len(short) >= MIN_SHORT_FOLLOWUPS, f"only {len(short)} short follow-ups: {short}"
