"""`cmrc-test`: CMRC 2018 dev + trial questions of the articles held out from training."""

from __future__ import annotations

from eval.datasets.split import TestSplit

CMRC_TEST = TestSplit(
    name="cmrc-test", description="CMRC 2018 dev+trial, test split by article (never trained on)",
    dataset="cmrc", collection="train-cmrc", records_file="cmrc_paragraphs.jsonl")
