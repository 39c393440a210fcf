"""Near-duplicate detection: MinHash work is bounded, band keys of near-duplicates still meet."""

from __future__ import annotations

import random

import numpy as np
import pytest

from ingest import dedup
from ingest.dedup import MINHASH_SHINGLES, band_keys, jaccard, minhash_sample, shingles


def _text(n: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(chr(0x4E00 + rng.randrange(3000)) for _ in range(n))


def _edited(text: str, every: int) -> str:
    return "".join("甲" if i % every == 0 else ch for i, ch in enumerate(text))


def test_minhash_reads_a_bounded_deterministic_sample() -> None:
    sh = shingles(_text(60_000, 1))
    assert len(sh) > MINHASH_SHINGLES
    sample = minhash_sample(sh)
    assert len(sample) == MINHASH_SHINGLES
    assert sorted(sample.tolist()) == sorted(sh)[:MINHASH_SHINGLES]  # the smallest hashes
    small = {5, 3, 9}
    assert sorted(minhash_sample(small).tolist()) == [3, 5, 9]  # short articles: all of them


def test_band_keys_hash_at_most_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    widths: list[int] = []
    real_outer = np.outer

    def outer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        widths.append(len(b))
        return real_outer(a, b)

    monkeypatch.setattr(dedup.np, "outer", outer)
    keys = band_keys(shingles(_text(300_000, 2)))  # ~300,000 shingles: 150 MB per matrix before
    assert len(keys) == dedup.BANDS
    assert widths and max(widths) <= MINHASH_SHINGLES


def test_short_articles_keep_their_band_keys() -> None:
    """Below the cap the signature is the full one, so stored band keys stay valid."""
    sh = shingles(_text(3_000, 3))
    x = np.fromiter(sh, dtype=np.uint64)
    sig = ((np.outer(dedup._A, x) + dedup._B[:, None]) % dedup._MERSENNE).min(axis=1)
    rows = dedup.N_PERM // dedup.BANDS
    full = [f"{i}:{dedup._digest(sig[i * rows:(i + 1) * rows].tobytes())}"
            for i in range(dedup.BANDS)]
    assert band_keys(sh) == full


def test_long_near_duplicates_still_share_a_band_and_others_do_not() -> None:
    original = _text(80_000, 4)
    near = _edited(original, 200)  # one character in 200 changed
    other = _text(80_000, 5)
    a, b, c = shingles(original), shingles(near), shingles(other)
    assert jaccard(a, b) > 0.9 and jaccard(a, c) < 0.01
    assert set(band_keys(a)) & set(band_keys(b))
    assert not set(band_keys(a)) & set(band_keys(c))
