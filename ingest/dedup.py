"""Near-duplicate detection for syndicated news: shingles, MinHash-LSH bands, exact Jaccard."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from rag.text import fold

SHINGLE = 5
N_PERM = 64
BANDS = 16  # 16 bands x 4 rows: a pair at Jaccard 0.9 shares a band with probability ~1.0
# MinHash reads at most this many shingles (~20,000 characters of text: every news article
# whole); a 2 MB article has ~550,000 and its full 64 x n matrices took ~500 MB (8 GiB at 50 MB)
MINHASH_SHINGLES = 20_000
_MERSENNE = np.uint64((1 << 61) - 1)
_rng = np.random.default_rng(20240519)
_A = _rng.integers(1, (1 << 61) - 1, size=N_PERM, dtype=np.uint64)
_B = _rng.integers(0, (1 << 61) - 1, size=N_PERM, dtype=np.uint64)
_NOISE = re.compile(r"[\W_]+")


def shingles(text: str, n: int = SHINGLE) -> set[int]:
    """Hashed character n-grams of the folded text, punctuation and spaces removed."""
    s = _NOISE.sub("", fold(text))
    if len(s) <= n:
        return {_h(s)} if s else set()
    return {_h(s[i : i + n]) for i in range(len(s) - n + 1)}


def _h(s: str) -> int:
    return int.from_bytes(hashlib.blake2b(s.encode(), digest_size=7).digest(), "little")


def jaccard(a: set[int], b: set[int]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def minhash_sample(sh: set[int], cap: int = MINHASH_SHINGLES) -> np.ndarray:
    """The shingles MinHash reads: all of them, or the `cap` smallest hash values when there
    are more (a deterministic bottom-k sample: two near-duplicate articles keep nearly the same
    sample, so their band keys still meet)."""
    x = np.fromiter(sh, dtype=np.uint64, count=len(sh))
    if len(x) > cap:
        x = np.partition(x, cap - 1)[:cap]
    return x


def band_keys(sh: set[int]) -> list[str]:
    """LSH band keys of the MinHash signature; articles sharing a key are candidates."""
    if not sh:
        return []
    x = minhash_sample(sh)
    # (a*x + b) mod p with uint64 wrap-around is fine as a hash family for this purpose;
    # the N_PERM x len(x) matrix is at most 64 x 20,000 x 8 bytes = 10 MB
    sig = ((np.outer(_A, x) + _B[:, None]) % _MERSENNE).min(axis=1)
    rows = N_PERM // BANDS
    return [f"{i}:{_digest(sig[i * rows:(i + 1) * rows].tobytes())}" for i in range(BANDS)]


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=8).hexdigest()
