"""Big-article benchmark: seconds and peak memory of reading, cleaning, chunking and MinHash for
one synthetic Chinese article of 0.5 / 1 / 2 MB (the default RAG_MAX_ARTICLE_BYTES is 2 MB).

    python bench/big_article.py                    # prose and run-on articles of 0.5, 1, 2 MB
    python bench/big_article.py --sizes 0.1 0.25   # other sizes (MB)
    python bench/big_article.py --shapes prose     # only the article with sentence punctuation

Each size runs in its own process so that its peak RSS (ru_maxrss) is its own; a size that runs
past --timeout is reported as such. Embedding is left out (it is linear: about 0.14 s per chunk
on 2 cores, see bench/ingest.py); the chunk count shows what it would cost.
Shapes: "prose" = corpus sentences with punctuation and paragraphs; "run-on" = the same text
without any sentence or clause mark and without newlines (the worst case for the chunker).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from inspect import signature
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def synthetic_article(n_bytes: int, shape: str, seed: int = 7) -> str:
    """Sentences of the shipped corpus in a seeded random order, each with a varying number so
    that shingles differ as in real text; `run-on` strips every sentence and clause mark."""
    from rag.config import shipped_corpus_dir
    from rag.text import split_sentences

    sentences = []
    for path in sorted(shipped_corpus_dir().rglob("*.txt")):
        sentences += [s.text for s in split_sentences(path.read_text(encoding="utf-8"))
                      if len(s.text) > 15]
    rng = random.Random(seed)
    alphabet = sorted(set("".join(sentences)))
    lines = ["高雄智慧城市長文測試"]
    size = len(lines[0].encode())
    paragraph: list[str] = []
    while True:
        # one character in four replaced: most 5-character shingles are distinct, as in a
        # long real document (a repeated sample of 300 sentences would flatter MinHash)
        sentence = "".join(rng.choice(alphabet) if rng.random() < 0.25 else ch
                           for ch in rng.choice(sentences))
        if shape == "run-on":
            sentence = re.sub(r"[。！？；!?;，,、：:\s]", "", sentence)
        if size + len(sentence.encode()) + 1 > n_bytes:
            break  # stay within n_bytes: 2 MB is exactly the default cap
        paragraph.append(sentence)
        size += len(sentence.encode()) + (shape == "prose" and len(paragraph) == 5)
        if shape == "prose" and len(paragraph) == 5:
            lines.append("".join(paragraph))
            paragraph = []
    lines.append("".join(paragraph))
    return "\n".join(lines) if shape == "prose" else lines[0] + "\n" + "".join(lines[1:])


def measure_one(n_bytes: int, shape: str) -> dict[str, Any]:
    """One article through load -> clean -> chunk (tiktoken + the embedder's limit) -> MinHash."""
    from ingest import dedup
    from ingest.chunk import chunk_article
    from ingest.clean import to_article
    from ingest.index import passage_text
    from ingest.load import RawDoc, load_file
    from rag.config import Settings
    from rag.embed import get_embedder
    from rag.text import count_tokens

    settings = Settings()
    embedder = get_embedder(settings)
    count_tokens("暖身", settings.tokenizer)  # load both tokenizers before the clock starts
    embedder.fits("暖身")
    text = synthetic_article(n_bytes, shape)
    row: dict[str, Any] = {"shape": shape, "mb": n_bytes / 1e6, "chars": len(text)}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.txt"
        path.write_text(text, encoding="utf-8")
        del text
        base_rss = peak_rss_mib()
        started = time.perf_counter()
        # the cap is the default's 2 MB: larger --sizes are measured with the cap lifted
        lifted = {"max_bytes": n_bytes} if "max_bytes" in signature(load_file).parameters else {}
        [doc] = load_file(path, **lifted)
        assert isinstance(doc, RawDoc), doc
        article, _ = to_article(doc)
        row["clean_s"] = time.perf_counter() - started
        t = time.perf_counter()
        chunks = chunk_article(
            article, settings.chunk_tokens, lambda s: count_tokens(s, settings.tokenizer),
            settings.chunk_overlap_sentences,
            fits=lambda s: embedder.fits(passage_text(article.title, s)))
        row["chunk_s"] = time.perf_counter() - t
        t = time.perf_counter()
        sh = dedup.shingles(article.body)
        dedup.band_keys(sh)
        row["minhash_s"] = time.perf_counter() - t
        row.update(chunks=len(chunks), shingles=len(sh), total_s=time.perf_counter() - started,
                   base_rss_mib=base_rss, peak_rss_mib=peak_rss_mib())
    return row


def run_child(mb: float, shape: str, timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", str(mb), shape]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"shape": shape, "mb": mb, "timeout_s": timeout}
    except subprocess.CalledProcessError as exc:
        return {"shape": shape, "mb": mb, "error": exc.stderr.strip().splitlines()[-1:]}
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def print_row(r: dict[str, Any]) -> None:
    label = f"{r['shape']:<7} {r['mb']:>5.2f} MB"
    if "timeout_s" in r:
        print(f"{label}  not done after {r['timeout_s']:.0f} s", flush=True)
    elif "error" in r:
        print(f"{label}  failed: {r['error']}", flush=True)
    else:
        print(f"{label}  clean {r['clean_s']:6.2f} s  chunk {r['chunk_s']:7.2f} s  "
              f"minhash {r['minhash_s']:5.2f} s  total {r['total_s']:7.2f} s  "
              f"chunks {r['chunks']:>5}  shingles {r['shingles']:>7}  "
              f"peak RSS {r['peak_rss_mib']:5.0f} MiB "
              f"(before the article {r['base_rss_mib']:.0f})", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.5, 1.0, 2.0],
                        help="article sizes in MB (default 0.5 1 2)")
    parser.add_argument("--shapes", nargs="+", default=["prose", "run-on"],
                        choices=["prose", "run-on"])
    parser.add_argument("--timeout", type=float, default=600, help="seconds per size")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure_one(int(float(args.child[0]) * 1e6), args.child[1])))
        return 0
    rows = []
    for shape in args.shapes:
        for mb in args.sizes:
            rows.append(run_child(mb, shape, args.timeout))
            print_row(rows[-1])
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
