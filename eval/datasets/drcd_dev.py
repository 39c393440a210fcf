"""`drcd-dev`: DRCD dev (1,000 paragraphs, 3,524 questions), retrieval over all, answering on N."""

from __future__ import annotations

from eval.datasets.squad import SquadBenchmark

DRCD_DEV = SquadBenchmark(
    name="drcd-dev", description="DRCD dev: retrieval on all questions, answers on --limit N",
    file="drcd/DRCD_dev.json", collection="drcd-dev",
    records_file="drcd_paragraphs.jsonl")  # the name bench/drcd.py writes: one ingest serves both
