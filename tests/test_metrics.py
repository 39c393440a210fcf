"""Unit tests for eval.metrics with hand-computed expectations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eval.metrics import (
    char_em,
    char_f1,
    citation_precision,
    citation_recall_item,
    evidence_hit_at_k,
    evidence_reciprocal_rank,
    fold,
    hit_at_k,
    key_fact_accuracy,
    max_over_refs,
    mean,
    ndcg_at_k,
    percentile,
    reciprocal_rank,
    refusal_scores,
)

# --------------------------------------------------------------------------- fold


def test_fold_traditional_to_simplified() -> None:
    assert fold("高雄與橘郡締結姊妹市") == "高雄与橘郡缔结姊妹市"


def test_fold_nfkc_fullwidth_digits_letters_and_punct() -> None:
    assert fold("２０２５年８月") == "2025年8月"
    assert fold("ＮＶＩＤＩＡ") == "nvidia"
    assert fold("（ＩＵＲＣ）") == "(iurc)"


def test_fold_lowercases_and_removes_all_whitespace() -> None:
    assert fold("Linker  Vision\t\n") == "linkervision"
    assert fold("超過 50 項") == "超过50项"
    assert fold("A\u3000B\u00a0C") == "abc"  # ideographic space and NBSP


def test_fold_empty_and_idempotent() -> None:
    assert fold("") == ""
    once = fold("智慧城市 ＡＩ 燈塔")
    assert fold(once) == once


def test_fold_rejects_non_string() -> None:
    with pytest.raises(ValueError, match="str"):
        fold(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- hit / RR


def test_hit_at_k_basic() -> None:
    ranked = ["a", "b", "c", "d"]
    assert hit_at_k(ranked, {"c"}, 3) == 1.0
    assert hit_at_k(ranked, {"c"}, 2) == 0.0
    assert hit_at_k(ranked, {"x", "a"}, 1) == 1.0
    assert hit_at_k(ranked, ["d"], 10) == 1.0  # k larger than the list


def test_hit_at_k_empty_inputs() -> None:
    assert hit_at_k([], {"a"}, 5) == 0.0
    assert hit_at_k(["a"], set(), 5) == 0.0


@pytest.mark.parametrize("k", [0, -1])
def test_hit_at_k_bad_k(k: int) -> None:
    with pytest.raises(ValueError, match="k must be >= 1"):
        hit_at_k(["a"], {"a"}, k)


def test_bad_k_type_and_bare_string() -> None:
    with pytest.raises(ValueError, match="int"):
        hit_at_k(["a"], {"a"}, 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="wrap it in a list"):
        hit_at_k("abc", {"a"}, 3)


def test_reciprocal_rank() -> None:
    ranked = ["a", "b", "c", "d"]
    assert reciprocal_rank(ranked, {"a"}) == 1.0
    assert reciprocal_rank(ranked, {"c", "d"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked, {"d"}, k=3) == 0.0  # first hit beyond the cut-off
    assert reciprocal_rank(ranked, {"z"}) == 0.0
    assert reciprocal_rank([], {"a"}) == 0.0
    assert reciprocal_rank(ranked, set()) == 0.0
    with pytest.raises(ValueError):
        reciprocal_rank(ranked, {"a"}, k=0)


# --------------------------------------------------------------------------- nDCG


def test_ndcg_hand_computed() -> None:
    # ranked a b c d, relevant {b, d}, k=4
    # DCG  = 1/log2(3) + 1/log2(5) = 0.6309298 + 0.4306766 = 1.0616063
    # IDCG = 1/log2(2) + 1/log2(3) = 1 + 0.6309298        = 1.6309298
    # nDCG = 1.0616063 / 1.6309298                          = 0.6509209
    assert ndcg_at_k(["a", "b", "c", "d"], {"b", "d"}, k=4) == pytest.approx(0.6509209, abs=1e-6)


def test_ndcg_cutoff_and_ideal_over_min_gold_k() -> None:
    # k=2: only "b" at rank 2 counts -> DCG = 1/log2(3); IDCG over min(2, 2) = 2 positions.
    expected = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(["a", "b", "c", "d"], {"b", "d"}, k=2) == pytest.approx(expected)
    assert expected == pytest.approx(0.3868528, abs=1e-6)
    # 3 gold ids but k=1 -> ideal has one slot; a hit at rank 1 is perfect.
    assert ndcg_at_k(["a", "x"], {"a", "b", "c"}, k=1) == pytest.approx(1.0)


def test_ndcg_perfect_zero_and_empty() -> None:
    assert ndcg_at_k(["a", "b", "c"], {"a", "b"}, k=3) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "y"], {"a"}, k=2) == 0.0
    assert ndcg_at_k(["a"], set(), k=5) == 0.0
    assert ndcg_at_k([], {"a"}, k=5) == 0.0


def test_ndcg_single_relevant_at_rank_two() -> None:
    # DCG = 1/log2(3); IDCG = 1 -> 0.6309298
    assert ndcg_at_k(["x", "a"], {"a"}, k=10) == pytest.approx(0.6309298, abs=1e-6)


def test_ndcg_duplicates_do_not_exceed_one() -> None:
    # the repeated "a" earns nothing: DCG = 1, IDCG = 1
    assert ndcg_at_k(["a", "a", "a"], {"a"}, k=3) == pytest.approx(1.0)
    # a, a, b with gold {a, b}: DCG = 1 + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3)
    assert ndcg_at_k(["a", "a", "b"], {"a", "b"}, k=3) == pytest.approx(
        1.5 / (1 + 1 / math.log2(3))
    )


# --------------------------------------------------------------------------- evidence


EVIDENCE = ["高雄市於2025年8月正式獲邀加入歐盟 IURC 計畫,象徵城市治理成果獲得國際肯定。"]


def test_evidence_hit_folds_script_width_and_spacing() -> None:
    passages = [
        "無關的段落。",
        # Simplified, full-width digits, different spacing: still contains the evidence.
        "前文。高雄市于２０２５年８月正式获邀加入欧盟IURC计划,象征城市治理成果获得国际肯定。后文",
    ]
    assert evidence_hit_at_k(passages, EVIDENCE, 1) == 0.0
    assert evidence_hit_at_k(passages, EVIDENCE, 2) == 1.0
    assert evidence_reciprocal_rank(passages, EVIDENCE) == pytest.approx(0.5)
    assert evidence_reciprocal_rank(passages, EVIDENCE, k=1) == 0.0


def test_evidence_partial_sentence_is_not_a_hit() -> None:
    passages = ["高雄市於2025年8月正式獲邀加入歐盟 IURC 計畫"]  # truncated evidence
    assert evidence_hit_at_k(passages, EVIDENCE, 5) == 0.0


def test_evidence_any_of_several_sentences() -> None:
    ev = ["句子甲。", "句子乙。"]
    assert evidence_hit_at_k(["xx句子乙。yy"], ev, 1) == 1.0


def test_evidence_empty_cases() -> None:
    assert evidence_hit_at_k([], EVIDENCE, 3) == 0.0
    assert evidence_hit_at_k(["anything"], [], 3) == 0.0
    assert evidence_hit_at_k(["anything"], ["", "  "], 3) == 0.0  # blank evidence ignored
    assert evidence_reciprocal_rank(["anything"], [], 3) == 0.0
    with pytest.raises(ValueError, match="k must be >= 1"):
        evidence_hit_at_k(["a"], ["a"], 0)
    with pytest.raises(ValueError, match="wrap it in a list"):
        evidence_hit_at_k(["a"], "a", 1)


# --------------------------------------------------------------------------- key facts


def test_key_fact_accuracy_traditional_vs_simplified() -> None:
    facts = [["張硯卿"], ["行政暨國際處長"]]
    assert key_fact_accuracy("答案是行政暨国际处长张砚卿。", facts) is True
    assert key_fact_accuracy("答案是張硯卿。", facts) is False  # second group missing


def test_key_fact_accuracy_simplified_fact_traditional_answer() -> None:
    assert key_fact_accuracy("高雄與橘郡透過視訊會議簽署。", [["视讯会议"]]) is True


def test_key_fact_accuracy_fullwidth_digits_and_spaces() -> None:
    assert key_fact_accuracy("超過３００家跨國公司", [["300家", "300"]]) is True
    assert key_fact_accuracy("超過 50 項智慧應用", [["50項"]]) is True
    assert key_fact_accuracy("In August 2025.", [["2025年8月", "august 2025"]]) is True


def test_key_fact_accuracy_alternatives_and_groups() -> None:
    facts = [["Barcelona", "巴塞隆納"], ["Hamburg", "漢堡"]]
    assert key_fact_accuracy("巴塞隆纳与汉堡", facts) is True
    assert key_fact_accuracy("barcelona only", facts) is False


def test_key_fact_accuracy_empty_and_malformed() -> None:
    assert key_fact_accuracy("任何答案", []) is False
    assert key_fact_accuracy("", [["x"]]) is False
    assert key_fact_accuracy("x", [["", "x"]]) is True  # blank alternative ignored
    assert key_fact_accuracy("x", [[""]]) is False
    with pytest.raises(ValueError, match="at least one accepted alternative"):
        key_fact_accuracy("x", [[]])
    with pytest.raises(ValueError, match="list of alternatives"):
        key_fact_accuracy("x", ["x"])  # type: ignore[list-item]


# --------------------------------------------------------------------------- F1 / EM


def test_char_f1_hand_computed() -> None:
    # pred 高雄市 (3 chars), ref 高雄 (2 chars): overlap 2, P = 2/3, R = 1, F1 = 0.8
    assert char_f1("高雄市", "高雄") == pytest.approx(0.8)
    # pred 陳其邁市長 vs ref 陈其迈: folded overlap 3, P = 3/5, R = 1 -> F1 = 0.75
    assert char_f1("陳其邁市長", "陈其迈") == pytest.approx(0.75)


def test_char_f1_bag_of_characters_counts_multiplicity() -> None:
    # pred 哈哈哈 vs ref 哈哈: overlap min(3, 2) = 2; P = 2/3, R = 1 -> 0.8
    assert char_f1("哈哈哈", "哈哈") == pytest.approx(0.8)
    # order does not matter
    assert char_f1("雄高", "高雄") == pytest.approx(1.0)


def test_char_f1_ignores_punctuation_width_and_space() -> None:
    assert char_f1("「2025年8月」。", "２０２５年 ８月") == pytest.approx(1.0)
    assert char_f1("A,B!", "a b") == pytest.approx(1.0)


def test_char_f1_no_overlap_and_empty() -> None:
    assert char_f1("甲", "乙") == 0.0
    assert char_f1("", "") == 1.0
    assert char_f1("。", "") == 1.0  # both empty after removing punctuation
    assert char_f1("", "乙") == 0.0
    assert char_f1("甲", "") == 0.0


def test_char_em() -> None:
    assert char_em("高雄市。", "高雄市") == 1.0
    assert char_em("高雄市", "高雄") == 0.0
    assert char_em("臺灣", "台湾") == 1.0
    assert char_em("", "") == 1.0


def test_max_over_refs() -> None:
    assert max_over_refs(char_f1, "高雄市", ["台北", "高雄", "高雄市"]) == pytest.approx(1.0)
    assert max_over_refs(char_f1, "高雄市", ["台北", "高雄"]) == pytest.approx(0.8)
    assert max_over_refs(char_em, "x", ["y"]) == 0.0
    with pytest.raises(ValueError, match="at least one reference"):
        max_over_refs(char_f1, "x", [])
    with pytest.raises(ValueError, match="wrap it in a list"):
        max_over_refs(char_f1, "x", "xyz")


# --------------------------------------------------------------------------- citations


def test_citation_precision() -> None:
    ev = ["句子甲。"]
    cited = ["前句子甲。後", "無關", "也無關", "句子甲。"]
    assert citation_precision(cited, ev) == pytest.approx(0.5)
    assert citation_precision(cited, ev, supported=[False, True, False, False]) == pytest.approx(
        0.75
    )
    assert citation_precision([], ev) is None
    assert citation_precision(["無關"], []) == 0.0
    assert citation_precision(["無關"], [], supported=[True]) == 1.0


def test_citation_precision_folds_text() -> None:
    assert citation_precision(["这是句子甲。"], ["這是句子甲。"]) == 1.0


def test_citation_precision_supported_length_mismatch() -> None:
    with pytest.raises(ValueError, match="one flag per cited passage"):
        citation_precision(["a", "b"], ["a"], supported=[True])


def test_citation_recall_item() -> None:
    ev = ["句子甲。", "句子乙。"]
    assert citation_recall_item(["無關", "xx句子乙。"], ev) is True
    assert citation_recall_item(["無關"], ev) is False
    assert citation_recall_item([], ev) is False
    assert citation_recall_item(["句子甲。"], []) is False


# --------------------------------------------------------------------------- refusals


def test_refusal_scores_hand_computed() -> None:
    # (answerable, refused)
    items = [
        (False, True),  # correct refusal (TP)
        (False, True),  # TP
        (False, False),  # answered an unanswerable question
        (True, True),  # false refusal
        (True, False),
        (True, False),
    ]
    s = refusal_scores(items)
    assert s["refusal_precision"] == pytest.approx(2 / 3)  # 2 TP / 3 refused
    assert s["refusal_recall"] == pytest.approx(2 / 3)  # 2 TP / 3 unanswerable
    assert s["answered_unanswerable"] == 1
    assert s["false_refusals"] == 1
    assert s["n_refused"] == 3
    assert s["n_unanswerable"] == 3


def test_refusal_scores_zero_denominators() -> None:
    s = refusal_scores([(True, False), (True, False)])
    assert s["refusal_precision"] is None
    assert s["refusal_recall"] is None
    assert s["answered_unanswerable"] == 0
    assert s["false_refusals"] == 0
    empty = refusal_scores([])
    assert empty["refusal_precision"] is None and empty["refusal_recall"] is None


def test_refusal_scores_only_unanswerable_never_refused() -> None:
    s = refusal_scores([(False, False)])
    assert s["refusal_precision"] is None
    assert s["refusal_recall"] == 0.0
    assert s["answered_unanswerable"] == 1


def test_refusal_scores_bad_item() -> None:
    with pytest.raises(ValueError, match="pair"):
        refusal_scores([(True,)])  # type: ignore[list-item]


# --------------------------------------------------------------------------- aggregation


def test_percentile_hand_computed() -> None:
    xs = [10.0, 20.0, 30.0, 40.0]
    # h = 3 * 0.5 = 1.5 -> 20 + 0.5 * (30 - 20) = 25
    assert percentile(xs, 50) == pytest.approx(25.0)
    # h = 3 * 0.95 = 2.85 -> 30 + 0.85 * 10 = 38.5
    assert percentile(xs, 95) == pytest.approx(38.5)
    assert percentile(xs, 0) == 10.0
    assert percentile(xs, 100) == 40.0
    assert percentile([40.0, 10.0, 30.0, 20.0], 50) == pytest.approx(25.0)  # unsorted input
    assert percentile([7.0], 99) == 7.0


@pytest.mark.parametrize("p", [0, 12.5, 50, 90, 95, 99, 100])
def test_percentile_matches_numpy(p: float) -> None:
    xs = [3.2, 1.0, 8.5, 4.4, 4.4, 10.0, 0.1]
    assert percentile(xs, p) == pytest.approx(float(np.percentile(xs, p)))


def test_percentile_errors() -> None:
    with pytest.raises(ValueError, match="empty"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"\[0, 100\]"):
        percentile([1.0], 101)
    with pytest.raises(ValueError, match=r"\[0, 100\]"):
        percentile([1.0], -1)
    with pytest.raises(ValueError, match=r"\[0, 100\]"):
        percentile([1.0], float("nan"))


def test_mean() -> None:
    assert mean([1.0, 2.0, 4.0]) == pytest.approx(7 / 3)
    assert mean([5]) == 5.0
    assert mean([]) is None
