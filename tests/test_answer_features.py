"""Pure parts of the learned reader: constraint matching, slot features, the feature table,
the JSON model format (checked against scikit-learn) and short-answer span candidates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rag.answerers import features, model, short
from rag.answerers.evidence import sentence_units
from rag.answerers.question import analyse
from rag.errors import ConfigError
from rag.schema import Passage
from rag.text import fold


def passage(text: str, n: int = 0, article: str = "a1", score: float = 1.0) -> Passage:
    return Passage(chunk_id=f"{article}:{n}", article_id=article, title="標題",
                   date="2025-04-16", index=n, text=text, start=n * 1000,
                   end=n * 1000 + len(text), score=score, scores={"dense": 0.8, "lexical": 5.0})


def test_constraints_are_years_numbers_latin_words_quotes_and_names() -> None:
    q = analyse("2021年「智慧城市展」有多少家IBM廠商參加，高雄市出資3億元？")
    found = {(c.kind, c.value) for c in features.constraints(q)}
    assert ("year", "2021") in found and ("number", "3") in found
    assert ("latin", "ibm") in found and ("quoted", "智慧城市展") in found


def test_another_year_or_same_unit_number_is_a_conflict() -> None:
    cons = features.constraints(analyse("2021年高雄的人口有多少？"))
    assert features.conflict(cons, fold("2019年高雄的人口為277萬人")) == 1.0
    assert features.conflict(cons, fold("2021年高雄的人口為274萬人")) == 0.0
    cons = features.constraints(analyse("第3屆論壇在哪裡舉行？"))
    assert features.conflict(cons, fold("第5屆論壇在台北舉行")) == 1.0
    assert features.conflict(cons, fold("論壇在台北舉行")) == 0.0


def test_numbers_match_whole_not_inside_longer_numbers() -> None:
    c = features.Constraint("number", "30")
    assert features.holds(c, "共有30家")
    assert features.holds(c, "共有1,30家") is False
    assert not features.holds(c, "共有300家")


def test_slot_features_find_the_text_around_the_question_word() -> None:
    q = analyse("林老師和陳教授開創了哪一地區對陶瓷的學術研究？")
    left, right = features._around_ask(q)
    assert left.endswith("开创了") and right.startswith("对陶瓷")
    assert features._slot(left, right, fold("林老師和陳教授開創了亞洲對陶瓷的學術研究。")) == \
        (1.0, 1.0, 1.0)
    assert features._slot(left, right, fold("陶瓷是常見的日用器物。"))[2] == 0.0


def test_table_has_one_row_per_sentence_and_named_columns() -> None:
    passages = [passage("高雄市在2025年8月加入IURC計畫。此計畫由歐盟資助。"),
                passage("台北市也有智慧城市計畫。", n=1, article="a2", score=0.5)]
    units = sentence_units(passages)
    q = analyse("高雄何時加入IURC？")
    tab = features.table(q, passages, units, [0.0] * len(units))
    assert tab.matrix.shape == (len(units), len(features.SENTENCE_FEATURES))
    own = tab.column("own")
    assert own[0] == own.max() and tab.column("rank")[-1] == 2.0
    assert tab.column("score_rel")[-1] == pytest.approx(0.5)
    assert tab.column("asks_date")[0] == 1.0 and tab.column("asks_other")[0] == 0.0


def test_answer_row_carries_margins_and_what_is_missing() -> None:
    passages = [passage("高雄市在2025年8月加入IURC計畫。此計畫由歐盟資助。")]
    units = sentence_units(passages)
    q = analyse("高雄何時加入IURC？")
    tab = features.table(q, passages, units, [0.0] * len(units))
    row = features.answer_row(tab, np.array([0.9, 0.2]), 0, 1, passages, q)
    named = dict(zip(features.ANSWER_FEATURES, row, strict=True))
    assert named["p_margin"] == pytest.approx(0.7) and named["best_con_own"] == 1.0
    assert named["missing"] == 0.0


def _fit(kind: str) -> tuple[model.Model, np.ndarray]:
    from train.fit import fit

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    options: dict[str, Any] = {"iterations": 20} if kind == "trees" else {}
    return fit(kind, "toy", ("a", "b", "c"), x, y, seed=0, **options), x


@pytest.mark.parametrize("kind", ["logistic", "trees"])
def test_model_json_round_trip_predicts_like_scikit_learn(kind: str, tmp_path: Path) -> None:
    m, x = _fit(kind)  # fit() itself checks the export against scikit-learn
    model.save(m, tmp_path / "toy.json")
    loaded = model.load("toy", tmp_path)
    assert np.allclose(loaded.predict(x), m.predict(x))
    assert loaded.predict(np.array([[3.0, 0.0, 0.0]]))[0] > 0.5 > \
        loaded.predict(np.array([[-3.0, 0.0, 0.0]]))[0]
    assert loaded.columns(["c", "b", "a"]) == [2, 1, 0]


def test_missing_or_damaged_model_file_says_how_to_rebuild(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="python -m train"):
        model.load("absent", tmp_path)
    (tmp_path / "bad.json").write_text('{"name": "bad"}', encoding="utf-8")
    with pytest.raises(ConfigError, match="python -m train"):
        model.load("bad", tmp_path)


def test_span_candidates_hold_the_answer_and_stay_inside_the_sentence() -> None:
    sentence = "1905年，林老師和陳教授開創了亞洲對陶瓷的學術研究。"
    found = short.spans(analyse("林老師和陳教授開創了哪一地區對陶瓷的學術研究？"), sentence)
    texts = {sentence[a:b] for a, b in found.offsets}
    assert "亞洲" in texts and "1905年" in texts
    assert found.matrix.shape == (len(found.offsets), len(short.SPAN_FEATURES))
    assert all(0 <= a < b <= len(sentence) for a, b in found.offsets)
    assert not any(t.startswith("，") or t.endswith("。") for t in texts)


def test_span_context_reads_the_question_words_around_the_slot_and_the_asked_category() -> None:
    """蘋果公司 sits where the question's 哪個公司 sits: the words right of the slot (設計、開發)
    follow it, it ends with the asked category, and the clause break is outside it."""
    sentence = "麥金塔電腦由蘋果公司設計、開發和銷售，最初定位於家庭市場。"
    found = short.spans(analyse("哪個公司設計、開發了麥金塔電腦？"), sentence)
    rows = {sentence[a:b]: found.matrix[i] for i, (a, b) in enumerate(found.offsets)}
    col = {name: i for i, name in enumerate(short.SPAN_FEATURES)}
    answer, other = rows["蘋果公司"], rows["最初定位於家庭市場"]
    assert answer[col["qr_right"]] > 0.25 and other[col["qr_right"]] == 0.0
    assert answer[col["category_end"]] == 1.0 and other[col["category_end"]] == 0.0
    assert answer[col["cue_before"]] == 1.0  # 由
    assert answer[col["commas"]] == 0.0 and rows["設計、開發和銷售，最初"][col["commas"]] == 1.0
    assert answer[col["ql_left"]] == 0.0  # nothing is asked left of the slot


def test_short_answers_lead_for_dates_numbers_people_places_and_lists() -> None:
    assert short.leads(analyse("高雄何時加入IURC？"))
    assert short.leads(analyse("誰率領代表團？"))
    assert not short.leads(analyse("為什麼高雄要發展智慧城市？"))
