"""`dialogues`: multi-turn conversations (eval/data/dialogues.jsonl), asked turn by turn.

Each turn is scored as one item (id `d003.2`: dialogue d003, turn 2) through the shared metric
table: key facts for answerable turns, refusal metrics over all turns (a refused follow-up must be
refused). The history a turn sees is what the UI passes: the earlier questions and the
assistant's answers with the articles they cited (rag/followup.py), never the gold answers.
First turns are category `first`; follow-ups keep their dialogue's category. `--limit N` keeps
the first N dialogues; `--source FILE` reads another dialogues JSONL file.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.dataset import GoldItem
from eval.datasets.base import Outcome, RunOptions, ingest_collection
from eval.errors import GoldDataError
from eval.item import ItemResult
from eval.runner import progress_bar
from rag.config import Settings, shipped_corpus_dir
from rag.followup import history_of

if TYPE_CHECKING:
    from rag.assistant import Assistant

DIALOGUES_PATH = Path(__file__).resolve().parents[1] / "data" / "dialogues.jsonl"
FIRST = "first"  # the category of every first turn (it has no history to carry)


def load_dialogues(path: Path = DIALOGUES_PATH) -> list[list[GoldItem]]:
    """Each dialogue as its turns, in order; GoldDataError names the file and line."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(_dialogue(json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise GoldDataError(
                f"{path}:{n}: 對話格式不正確（{exc}）。 Malformed dialogue ({exc}); each line "
                "needs id, lang, category, split and turns with question, answerable, "
                "key_facts, article_ids, evidence (eval/data/README.md).") from exc
        except GoldDataError as exc:
            raise GoldDataError(f"{path}:{n}: {exc}") from exc
    return out


def _dialogue(raw: dict[str, Any]) -> list[GoldItem]:
    return [GoldItem(
        id=f"{raw['id']}.{n}", question=t["question"], answerable=bool(t["answerable"]),
        key_facts=tuple(tuple(g) for g in t["key_facts"]), article_ids=tuple(t["article_ids"]),
        evidence=tuple(t["evidence"]), category=FIRST if n == 1 else raw["category"],
        lang=raw.get("lang", "zh-Hant"), split=raw["split"])
        for n, t in enumerate(raw["turns"], start=1)]


def ask_dialogue(assistant: Assistant, turns: list[GoldItem]) -> list[ItemResult]:
    """Ask the turns in order, each with the answers before it as history."""
    results: list[ItemResult] = []
    for item in turns:
        history = history_of([r.answer for r in results if r.answer is not None])
        started = time.perf_counter()
        answer = assistant.ask(item.question, history)
        seconds = {"answer": time.perf_counter() - started,
                   **{f"assistant.{stage}": s for stage, s in answer.timings.items()}}
        results.append(ItemResult(
            item=item, answer=answer, seconds=seconds,
            ranked_articles=tuple(dict.fromkeys(p.article_id for p in answer.passages)),
            ranked_texts=tuple(p.text for p in answer.passages)))
    return results


class DialoguesDataset:
    name = "dialogues"
    description = "multi-turn dialogues with elliptical follow-ups on the shipped corpus (CI gate)"
    has_splits = True
    collection = "eval-corpus"  # the same articles as `corpus`: one ingest serves both

    def run(self, settings: Settings, options: RunOptions) -> Outcome:
        from rag.assistant import Assistant

        path = options.source or DIALOGUES_PATH
        if not path.is_file():
            raise GoldDataError(f"找不到對話檔：{path}。 Dialogues file not found: {path}; pass "
                                "an existing JSONL file or leave --source out.")
        dialogues = load_dialogues(path)
        if options.limit:
            dialogues = dialogues[: options.limit]
        settings = settings.with_(collection=self.collection)
        ingest_collection([shipped_corpus_dir()], settings, progress=False)
        assistant = Assistant(settings, answerer=options.answerer)
        results: list[ItemResult] = []
        with progress_bar(len(dialogues), desc=self.name) as bar:
            for turns in dialogues:
                results.extend(ask_dialogue(assistant, turns))
                bar.update(1)
        return Outcome(results, assistant.label)


DIALOGUES = DialoguesDataset()
