"""`drcd-test`: DRCD dev questions of the articles held out from training (test split)."""

from __future__ import annotations

from eval.datasets.split import TestSplit

DRCD_TEST = TestSplit(
    name="drcd-test", description="DRCD dev, test split by article (never trained on)",
    dataset="drcd", collection="train-drcd", records_file="drcd_paragraphs.jsonl")
