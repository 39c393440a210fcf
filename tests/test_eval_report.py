"""The metric table, the report built from it (overall, splits, failures) and --compare."""

from __future__ import annotations

import copy

import pytest
from eval_fixtures import answer, results

from eval.dataset import GoldItem
from eval.item import ItemResult
from eval.metric_table import METRICS, Direction, Input, Metric, available
from eval.report import compare, flat_metrics, markdown, summarize, summary_lines

# --------------------------------------------------------------------------- the table


def test_every_entry_is_described_and_names_are_unique() -> None:
    names = [m.name for m in METRICS]
    assert len(names) == len(set(names))
    assert all(m.description for m in METRICS)
    assert [m.name for m in METRICS if m.lower_is_better] == [
        "answered_unanswerable", "false_refusals", "p50_s", "p95_s"]


def test_metric_needs_exactly_one_function_and_a_dotless_name() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Metric(name="x", description="d")
    with pytest.raises(ValueError, match="exactly one"):
        Metric(name="x", description="d", per_item=lambda r: 1.0, over_set=lambda rs: 1.0)
    with pytest.raises(ValueError, match="no '.'"):
        Metric(name="a.b", description="d", per_item=lambda r: 1.0)
    with pytest.raises(ValueError, match="unique"):
        METRICS.with_(Metric(name="refused", description="d", per_item=lambda r: 1.0))


def test_resolve_flat_names() -> None:
    assert METRICS.resolve("key_fact_accuracy") is METRICS.get("key_fact_accuracy")
    assert METRICS.resolve("heldout.key_fact_accuracy") is METRICS.get("key_fact_accuracy")
    assert METRICS.resolve("latency.answer.p95_s") is METRICS.get("p95_s")
    assert METRICS.resolve("latency.assistant.answer.p50_s") is METRICS.get("p50_s")
    assert METRICS.resolve("p95_s") is None  # a timing needs its stage
    assert METRICS.resolve("latency.answer.key_fact_accuracy") is None
    assert METRICS.resolve("validation.key_fact_accuracy") is None  # not a split
    assert METRICS.resolve("key_fact_acuracy") is None


def test_inputs_decide_which_metrics_apply() -> None:
    r1, _, r3, _ = results()
    assert available(r1) >= {Input.ANSWER, Input.KEY_FACTS, Input.EVIDENCE, Input.ARTICLES}
    assert Input.REFERENCES not in available(r1)
    s1 = METRICS.item_scores(r1)
    assert s1["key_fact_accuracy"] == 1.0 and s1["citation_precision"] == 1.0
    assert "span_f1" not in s1 and "answer_contains_gold" not in s1  # no reference answers
    s3 = METRICS.item_scores(r3)  # unanswerable: only what describes the answer
    assert set(s3) == {"refused", "answer_chars"}


def test_short_answer_metrics_on_a_squad_style_item(monkeypatch: pytest.MonkeyPatch) -> None:
    from eval import metric_table

    # the span is the answerer package's business (rag/answerers/span.py); fix it here
    cut: list[tuple[str, ...]] = []
    monkeypatch.setattr(metric_table, "_span", lambda q, quotes: cut.append(quotes) or "2010年")
    item = GoldItem(id="q1", question="高雄市在哪一年升格？", answerable=True,
                    article_ids=("p1",), answers=("2010年12月", "2010年"))
    right = ItemResult(item=item, ranked_articles=("p2", "p1"), ranked_texts=("x", "y"),
                       answer=answer("高雄市於2010年升格。[1]", cited=("高雄市於2010年升格。",)))
    s = METRICS.item_scores(right)
    assert cut[0] == ("高雄市於2010年升格。",)  # cut from the quotes
    assert s["answer_contains_gold"] == 1.0 and s["span_em"] == 1.0 and s["span_f1"] == 1.0
    assert s["article_hit@1"] == 0.0 and s["article_mrr@10"] == 0.5
    assert "key_fact_accuracy" not in s and "evidence_hit@5" not in s
    refused = ItemResult(item=item, ranked_articles=("p1",), ranked_texts=("y",),
                         answer=answer("無法回答。", refused=True))
    assert METRICS.item_scores(refused)["span_f1"] == 0.0
    retrieved_only = ItemResult(item=item, ranked_articles=("p1",), ranked_texts=("y",))
    assert set(METRICS.item_scores(retrieved_only)) == {
        "article_hit@1", "article_hit@5", "article_hit@10", "article_mrr@10", "article_ndcg@10"}


# --------------------------------------------------------------------------- the report


def test_summarize_overall_refusal_and_failures() -> None:
    report = summarize(results(), splits=True)
    assert (report["n_items"], report["n_answerable"], report["n_answered"]) == (4, 2, 4)
    overall = report["overall"]
    assert overall["key_fact_accuracy"] == 0.5
    assert overall["article_mrr@10"] == 0.75  # ranks 1 and 2
    assert overall["citation_precision"] == 1.0  # g2 cites nothing: not averaged in
    assert overall["citation_recall"] == 0.5
    assert report["refusal"] == {
        "refusal_recall": 0.5, "refusal_precision": 0.5, "answered_unanswerable": 1,
        "false_refusals": 1, "n_refused": 2, "n_unanswerable": 2}
    assert report["answered_unanswerable_ids"] == ["g4"]
    assert [f["id"] for f in report["failures"]] == ["g2", "g4"]
    assert report["by_category"]["person"] == {"n": 1, **METRICS.item_scores(results()[0])}
    assert report["latency"]["retrieve"]["p50_s"] == 0.1
    assert set(report["latency"]["answer"]) == {"p50_s", "p95_s"}


def test_splits_carry_the_same_metric_set() -> None:
    report = summarize(results(), splits=True)
    tune, heldout = report["splits"]["tune"], report["splits"]["heldout"]
    assert (tune["n_items"], heldout["n_items"]) == (2, 2)
    assert tune["overall"]["key_fact_accuracy"] == 1.0
    assert heldout["overall"]["key_fact_accuracy"] == 0.0
    assert (tune["refusal"]["refusal_recall"], heldout["refusal"]["refusal_recall"]) == (0.0, 1.0)
    assert heldout["refusal"]["answered_unanswerable"] == 0
    assert set(tune) == set(heldout) >= {"overall", "refusal"}
    assert "splits" not in summarize(results())  # datasets without splits


def test_a_split_without_items_is_left_out() -> None:
    only_tune = [r for r in results() if r.item.split == "tune"]
    assert list(summarize(only_tune, splits=True)["splits"]) == ["tune"]


def test_every_reported_number_comes_from_the_table() -> None:
    flat = flat_metrics(summarize(results(), splits=True))
    assert flat["key_fact_accuracy"] == 0.5
    assert flat["heldout.key_fact_accuracy"] == 0.0
    assert flat["tune.answered_unanswerable"] == 1
    assert flat["latency.answer.p95_s"] > 0
    unknown = [name for name in flat if METRICS.resolve(name) is None]
    assert not unknown


def test_markdown_and_summary_show_splits_and_describe_metrics() -> None:
    report = summarize(results(), splits=True)
    report["dataset"] = "corpus"
    md = markdown(report)
    assert "## By split" in md and "| heldout |" in md
    assert "`key_fact_accuracy`: answer not refused and holds every key-fact group" in md
    lines = summary_lines(report)
    assert lines[0].startswith("評估 eval corpus: 4 items; key_fact_accuracy=0.500")
    assert any(line.startswith("  heldout: 2 items; key_fact_accuracy=0.000") for line in lines)


# --------------------------------------------------------------------------- --compare


def test_compare_marks_better_and_worse_by_direction() -> None:
    old = summarize(results(), splits=True)
    new = copy.deepcopy(old)
    new["overall"]["key_fact_accuracy"] = 0.75
    new["refusal"]["answered_unanswerable"] = 2
    new["splits"]["heldout"]["overall"]["key_fact_accuracy"] = 0.5
    new["overall"]["refused"] = 0.25
    new["latency"]["answer"]["p95_s"] = 0.1
    lines = compare(old, new)
    assert "key_fact_accuracy: 0.5000 -> 0.7500 (+0.2500, 較好 better)" in lines
    assert "answered_unanswerable: 1.0000 -> 2.0000 (+1.0000, 較差 worse)" in lines
    assert "heldout.key_fact_accuracy: 0.0000 -> 0.5000 (+0.5000, 較好 better)" in lines
    assert "refused: 0.5000 -> 0.2500 (-0.2500)" in lines  # descriptive: no verdict
    assert any(line.startswith("latency.answer.p95_s:") and "better" in line for line in lines)
    assert compare(old, old) == ["沒有指標改變 no metric changed"]


def test_compare_reads_a_report_from_before_the_table() -> None:
    legacy = {"n_items": 1, "n_answerable": 1, "retrieval": {"recall@1": 0.5},
              "overall": {"span_f1": 0.1}}
    new = {"n_items": 1, "n_answerable": 1, "overall": {"span_f1": 0.2, "article_hit@1": 0.5}}
    lines = compare(legacy, new)
    assert "recall@1: 0.5 -> None" in lines
    assert "article_hit@1: None -> 0.5" in lines
    assert "span_f1: 0.1000 -> 0.2000 (+0.1000, 較好 better)" in lines


# --------------------------------------------------------------------------- one new entry


def test_a_toy_metric_is_one_entry_away_from_report_gate_and_compare() -> None:
    from eval.errors import ThresholdsError
    from eval.gate import check, parse_thresholds

    toy = Metric(name="question_chars", description="toy: question length",
                 per_item=lambda r: float(len(r.item.question)), better=Direction.LOWER,
                 summary=True)
    table = METRICS.with_(toy)
    report = summarize(results(), table, splits=True)
    assert report["overall"]["question_chars"] == 2.25  # (2 + 3 + 2 + 2) / 4
    assert report["splits"]["heldout"]["overall"]["question_chars"] == 2.5
    assert "`question_chars`: toy: question length (lower is better)" in markdown(report, table)
    assert "question_chars=2.250" in summary_lines(report, table)[0]

    raw = {"corpus": {"question_chars": 2.0, "heldout": {"question_chars": 3.0}}}
    bounds = parse_thresholds(raw, table)["corpus"]
    assert check(report, bounds, table) == ["question_chars = 2.2500 > 2 (ceiling)"]
    with pytest.raises(ThresholdsError, match="question_chars"):
        parse_thresholds(raw)  # the shipped table does not know it

    shorter = copy.deepcopy(report)
    shorter["overall"]["question_chars"] = 2.0
    assert "question_chars: 2.2500 -> 2.0000 (-0.2500, 較好 better)" in compare(
        report, shorter, table)
