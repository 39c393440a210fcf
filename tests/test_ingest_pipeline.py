"""The ingest's overlap with a remote embedder (`Embedder.remote`, as Ray's is): the next batch is
read and chunked while the previous one embeds, and what is written does not change: the same
chunks as a plain run, input order, and a near-duplicate of an article still in flight caught."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import make_settings
from test_ingest import SENTENCES, SMALL, assert_consistent, write_article

import ingest.index as index
from ingest.index import Ingestor
from rag.embed import Embedder, Wrapper


class Remote(Wrapper):
    """The real model, declared remote; notes the thread each embed() ran on."""

    remote = True

    def __init__(self, inner: Embedder) -> None:
        super().__init__(inner)
        self.threads: list[str] = []

    def embed(self, texts: Sequence[str], is_query: bool = False) -> np.ndarray:
        self.threads.append(threading.current_thread().name)
        return self.inner.embed(texts, is_query)


def test_overlapped_ingest_writes_what_a_plain_one_does(
        tmp_path: Path, embedder: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index, "FLUSH_CHUNKS", 2)  # every article is a batch of its own
    folder = tmp_path / "in"
    original = SENTENCES[40:46]
    write_article(folder, "1-original", "原文", original)
    # read while 1-original is still being embedded: caught against the batch in flight
    write_article(folder, "2-copy", "轉載：原文", [original[0].replace("國內", "國外", 1),
                                                 *original[1:]])
    write_article(folder, "3-other", "另文", SENTENCES[50:56])
    write_article(folder, "4-last", "末篇", SENTENCES[60:64])

    remote = Remote(embedder)
    overlapped = make_settings(tmp_path / "overlapped", chunk_tokens=SMALL)
    summary = Ingestor(overlapped, embedder=remote, progress=False).run([folder])
    assert any(name.startswith("embed") for name in remote.threads), "nothing was overlapped"
    assert summary.ok and summary.added == ["1-original", "3-other", "4-last"]
    assert summary.duplicates == [("2-copy", "1-original")]
    entries, chroma = assert_consistent(overlapped)
    assert entries["2-copy"].duplicate_of == "1-original"

    plain = make_settings(tmp_path / "plain", chunk_tokens=SMALL)
    reference = Ingestor(plain, embedder=embedder, progress=False).run([folder])
    assert (reference.added, reference.duplicates) == (summary.added, summary.duplicates)
    assert sorted(chroma) == sorted(assert_consistent(plain)[1])
