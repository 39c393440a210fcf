"""`rag eval --dataset dialogues` (eval/datasets/dialogues.py) and `rag eval import-feedback`
(eval/feedback.py): dialogues read turn by turn, each turn asked with the answers before it
(and the articles they came from), a small real run through the shared report path; thumbs-down
feedback turned into candidate gold items for review."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eval.dataset import GoldItem
from eval.datasets import DATASETS
from eval.datasets.dialogues import DIALOGUES_PATH, FIRST, ask_dialogue, load_dialogues
from eval.errors import GoldDataError
from eval.feedback import candidates, write_candidates
from eval.gate import load_thresholds
from rag.app.cli import main
from rag.errors import InputError
from rag.schema import Answer, Citation

IURC = "000_09d82b08e27ce1d6"


def test_the_shipped_dialogues_load_as_turns() -> None:
    dialogues = load_dialogues()
    assert len(dialogues) >= 25 and DATASETS["dialogues"].has_splits
    turns = [t for d in dialogues for t in d]
    assert turns[0].id == "d001.1" and turns[1].id == "d001.2"
    assert all(d[0].category == FIRST and d[0].answerable for d in dialogues)
    assert all(t.category != FIRST for d in dialogues for t in d[1:])
    assert {t.split for t in turns} == {"tune", "heldout"}
    assert any(not t.answerable for t in turns)  # follow-ups that must be refused


def test_a_malformed_dialogue_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "d.jsonl"
    bad.write_text(DIALOGUES_PATH.read_text(encoding="utf-8").splitlines()[0] + "\n{\"id\": 1}\n",
                   encoding="utf-8")
    with pytest.raises(GoldDataError, match=f"{bad}:2"):
        load_dialogues(bad)


class Recorder:
    """Answers every turn citing one article; records the history it was given."""

    def __init__(self) -> None:
        self.histories: list[list[dict[str, Any]]] = []

    def ask(self, question: str, history: list[dict[str, Any]]) -> Answer:
        self.histories.append(history)
        citation = Citation(n=1, article_id=IURC, title="t", date="", quote="q", start=0, end=1)
        return Answer(question=question, text="答[1]", refused=False, citations=(citation,))


def test_each_turn_is_asked_with_the_answers_before_it() -> None:
    turns = [GoldItem(id=f"d.{n}", question=q, answerable=True) for n, q in
             enumerate(["歐盟IURC代表團哪天到高雄？", "那是誰帶隊的？", "還有誰陪同？"], start=1)]
    recorder = Recorder()
    results = ask_dialogue(recorder, turns)  # type: ignore[arg-type]
    assert [len(h) for h in recorder.histories] == [0, 2, 4]
    assert recorder.histories[2][3] == {"role": "assistant", "content": "答[1]",
                                        "refused": False, "article_ids": [IURC]}
    assert [r.item.id for r in results] == ["d.1", "d.2", "d.3"]


def test_the_gate_has_bounds_for_the_dialogues() -> None:
    bounds = load_thresholds(datasets=DATASETS)["dialogues"]
    assert {"heldout.key_fact_accuracy", "heldout.answered_unanswerable",
            "tune.key_fact_accuracy"} <= set(bounds)


@pytest.mark.slow
def test_a_small_dialogues_run_reports_turns_by_split(cli_env: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["eval", "--dataset", "dialogues", "--limit", "2", "--out", str(out),
                 "--no-gate", "--answerer", "extractive"]) == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["dataset"] == "dialogues" and report["n_items"] == 6  # d001, d002: 3 turns
    assert {"first", "followup"} == set(report["by_category"])
    assert "key_fact_accuracy" in report["overall"] and set(report["splits"]) == {"tune",
                                                                                "heldout"}


# --------------------------------------------------------------------------- import-feedback
def _record(rating: str, question: str, refused: bool = False, **extra: Any) -> dict[str, Any]:
    return {"id": extra.pop("id", question), "rating": rating, "question": question,
            "answer": "抱歉" if refused else "答", "refused": refused,
            "citations": [{"article_id": IURC, "quote": "q"}], "comment": "", **extra}


def test_thumbs_down_become_candidates_for_review() -> None:
    records = [_record("down", "預算多少？", refused=True, comment="應該有"),
               _record("up", "好問題"), _record("down", "預算多少？", id="again"),
               _record("down", "已在題庫？")]
    items = candidates(records, known={"已在题库?"})  # folded, as the gold set is
    assert [i["question"] for i in items] == ["預算多少？"]
    item = items[0]
    assert item["id"].startswith("fb-") and item["article_ids"] == [IURC]
    assert item["key_facts"] == [] and item["evidence"] == [] and item["split"] == "heldout"
    assert item["review"]["comment"] == "應該有" and item["review"]["refused"] is True


def test_import_feedback_writes_candidates_and_fails_clearly(
        cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = cli_env / "feedback.jsonl"  # the default place: under the data folder
    source.parent.mkdir(parents=True)
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        _record("down", "預算多少？", comment="a"), _record("down", "預算多少？", comment="b")]),
        encoding="utf-8")
    out = tmp_path / "c.jsonl"
    assert main(["eval", "import-feedback", "--out", str(out)]) == 0
    (item,) = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert item["review"]["comment"] == "b"  # the latest record of an id wins
    assert "wrote 1 candidate items" in capsys.readouterr().out
    assert main(["eval", "import-feedback", "--feedback", str(tmp_path / "none.jsonl")]) == 2
    assert "Feedback file not found" in capsys.readouterr().err
    with pytest.raises(InputError):
        write_candidates(tmp_path / "none.jsonl", out)
