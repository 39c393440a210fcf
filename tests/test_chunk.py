"""Chunking: token limits, exact offsets, sentence boundaries, sentence overlap, model limits."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import pytest
from conftest import CORPUS

from ingest.chunk import chunk_article
from ingest.clean import to_article
from ingest.index import passage_text
from ingest.load import RawDoc, load_file
from rag.config import Settings
from rag.manifest import Manifest
from rag.schema import Article, Chunk
from rag.text import Span, count_tokens, split_sentences


@cache
def corpus_articles() -> tuple[Article, ...]:
    out = []
    for path in sorted(CORPUS.glob("*.txt")):
        [doc] = load_file(path)
        assert isinstance(doc, RawDoc)
        out.append(to_article(doc)[0])
    return tuple(out)


def tokens(text: str) -> int:
    return count_tokens(text, "o200k_base")


def units_in(chunk: Chunk, spans: list[Span]) -> list[Span]:
    return [s for s in spans if chunk.start <= s.start and s.end <= chunk.end]


def check_exact(article: Article, chunks: list[Chunk], limit: int,
                count: Callable[[str], int] = tokens, stripped: bool = True) -> None:
    assert chunks, "every non-empty body gives at least one chunk"
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert c.article_id == article.article_id
        assert c.chunk_id == f"{article.article_id}#{c.index}"
        assert article.body[c.start : c.end] == c.text
        assert c.text.strip()
        if stripped:  # whole sentences and clauses carry no edge whitespace
            assert c.text == c.text.strip()
        assert c.n_tokens == count(c.text)
        assert c.n_tokens <= limit
    # every character of content is in some chunk, and chunks move forward
    assert chunks[0].start == split_sentences(article.body)[0].start
    assert chunks[-1].end == len(article.body.rstrip())
    for prev, cur in zip(chunks, chunks[1:], strict=False):
        assert cur.start > prev.start
        assert cur.start <= prev.end + 1  # no gap: at most the newline between sentences
        assert not article.body[prev.end : cur.start].strip()


ARTICLE_IDS = [a.article_id for a in corpus_articles()]


@pytest.mark.parametrize("limit", [160, 64, 40])
@pytest.mark.parametrize("article_id", ARTICLE_IDS)
def test_chunks_within_limit_and_exact(article_id: str, limit: int) -> None:
    [article] = [a for a in corpus_articles() if a.article_id == article_id]
    check_exact(article, chunk_article(article, limit, tokens, 1), limit)


@pytest.mark.parametrize("overlap", [0, 1, 2])
@pytest.mark.parametrize("article_id", ARTICLE_IDS)
def test_chunks_end_on_sentence_boundaries(article_id: str, overlap: int) -> None:
    [article] = [a for a in corpus_articles() if a.article_id == article_id]
    spans = split_sentences(article.body)
    assert max(tokens(s.text) for s in spans) <= 160  # no sentence needs splitting at 160
    starts, ends = {s.start for s in spans}, {s.end for s in spans}
    for c in chunk_article(article, 160, tokens, overlap):
        assert c.start in starts and c.end in ends, c
        after = article.body[c.end : c.end + 1]
        assert c.text.endswith(("。", "！", "？", "；")) or after in ("\n", "")


def test_default_settings_chunk_the_corpus_into_several_chunks_each() -> None:
    s = Settings()
    for article in corpus_articles():
        chunks = chunk_article(article, s.chunk_tokens, tokens, s.chunk_overlap_sentences)
        assert 3 <= len(chunks) <= 15


@pytest.mark.parametrize(("limit", "overlap"), [(160, 1), (160, 2), (160, 3), (64, 1), (64, 2),
                                               (52, 1)])
def test_overlap_is_whole_sentences(limit: int, overlap: int) -> None:
    """Consecutive chunks share exactly `overlap` whole sentences when that leaves room for at
    least one new sentence; they never share a partial sentence."""
    tested = 0
    for article in corpus_articles():
        spans = split_sentences(article.body)
        if max(tokens(s.text) for s in spans) > limit:
            continue  # sentences cut into pieces: covered by the long-sentence tests
        chunks = chunk_article(article, limit, tokens, overlap)
        check_exact(article, chunks, limit)
        for prev, cur in zip(chunks, chunks[1:], strict=False):
            a, b = units_in(prev, spans), units_in(cur, spans)
            shared = [s for s in a if s in b]
            assert shared == b[: len(shared)] == a[len(a) - len(shared) :]
            tail = a[-overlap:] if overlap and len(a) > overlap else []
            nxt = spans[spans.index(a[-1]) + 1]
            if tail and tokens(article.body[tail[0].start : nxt.end]) <= limit:
                assert len(shared) == overlap, (article.article_id, prev.index)
            else:
                assert len(shared) <= overlap
        tested += 1
    assert tested >= 2


def test_overlap_zero_gives_disjoint_chunks() -> None:
    for article in corpus_articles():
        chunks = chunk_article(article, 64, tokens, 0)
        for prev, cur in zip(chunks, chunks[1:], strict=False):
            assert cur.start >= prev.end


@pytest.mark.parametrize(("limit", "overlap"), [(160, 1), (160, 2), (64, 1), (40, 2)])
def test_every_chunk_adds_new_text(limit: int, overlap: int) -> None:
    """A chunk that lies wholly inside the previous one is a wasted embedding and a duplicate
    passage at retrieval time: the overlap must shrink instead (BUG: see the report)."""
    for article in corpus_articles():
        chunks = chunk_article(article, limit, tokens, overlap)
        for prev, cur in zip(chunks, chunks[1:], strict=False):
            assert cur.end > prev.end, (
                f"{article.article_id} {limit}/{overlap}: chunk {cur.index} "
                f"[{cur.start}:{cur.end}] lies inside chunk {prev.index} [{prev.start}:{prev.end}]")


def _body_with_long_sentence() -> tuple[Article, Span]:
    clause = "高雄市政府持續推動智慧城市建設與數位治理創新"
    long_sentence = "，".join(f"{clause}第{i}項" for i in range(40)) + "。"
    nocomma = "智慧交通" * 150 + "。"  # no clause marks at all: must be cut by tokens
    body = "\n".join(["開場的一句話。", long_sentence, "中間一句。", nocomma, "結尾的一句話。"])
    article = Article(article_id="long", title="長句測試", body=body)
    [span] = [s for s in split_sentences(body) if s.text == long_sentence]
    return article, span


@pytest.mark.parametrize("limit", [160, 48, 16])
def test_over_long_sentence_is_split_within_limit(limit: int) -> None:
    article, span = _body_with_long_sentence()
    assert tokens(span.text) > 160
    chunks = chunk_article(article, limit, tokens, 1)
    check_exact(article, chunks, limit)
    # the sentence was cut (check_exact already showed that nothing is lost or misplaced)
    cuts = [c.end for c in chunks if span.start < c.end < span.end]
    assert cuts
    if limit >= 48:  # a whole clause fits: cuts fall after clause marks, not mid-clause
        assert all(article.body[cut - 1] == "，" for cut in cuts)


def test_sentence_without_clause_marks_is_cut_by_tokens() -> None:
    body = "智慧交通" * 150 + "。"
    article = Article(article_id="nocomma", title="t", body=body)
    chunks = chunk_article(article, 32, tokens, 1)
    check_exact(article, chunks, 32)
    assert "".join(c.text for c in chunks) == body  # hard pieces do not overlap
    assert all(c.n_tokens >= 16 for c in chunks[:-1])  # longest prefixes, not tiny slivers


def test_tiny_limit_is_rejected() -> None:
    with pytest.raises(ValueError):
        chunk_article(Article(article_id="a", title="t", body="一句話。"), 4, tokens)


def test_empty_body_gives_no_chunks() -> None:
    assert chunk_article(Article(article_id="a", title="t", body=""), 160, tokens) == []


@pytest.mark.parametrize("max_chars", [50, 20])
def test_fits_callback_is_respected(max_chars: int) -> None:
    for article in corpus_articles()[:2]:
        chunks = chunk_article(article, 160, tokens, 1, fits=lambda t: len(t) <= max_chars)
        # a clause over the limit is cut by characters, which may leave a space at an edge
        check_exact(article, chunks, 160, stripped=False)
        assert all(len(c.text) <= max_chars for c in chunks)


def test_model_limit_with_real_token_counter(embedder: object) -> None:
    """A token budget far above the model's 512: the embedder's own `fits` keeps every chunk,
    with the title prefix the embedder reads, within the model's limit."""
    from rag.embed import Embedder

    assert isinstance(embedder, Embedder)
    body = "\n".join(a.body for a in corpus_articles())
    article = Article(article_id="all", title=corpus_articles()[0].title, body=body)
    chunks = chunk_article(article, 4000, tokens, 1,
                           fits=lambda t: embedder.fits(passage_text(article.title, t)))
    check_exact(article, chunks, 4000)
    assert len(chunks) >= 3
    sizes = [embedder.count_tokens(passage_text(article.title, c.text)) for c in chunks]
    assert max(sizes) <= embedder.max_tokens == 512
    assert max(sizes) > 400  # the model limit, not the token budget, was the binding one


def test_stored_chunks_fit_the_model(indexed: Settings, embedder: object) -> None:
    from rag.embed import Embedder

    assert isinstance(embedder, Embedder)
    manifest = Manifest(indexed.manifest_path)
    try:
        entries = manifest.entries()
        rows = list(manifest.chunk_rows())
        stored = [(c.chunk_id, c.n_tokens) for c in manifest.all_chunks()]
    finally:
        manifest.close()
    assert len(rows) >= 5 * 3
    limit = indexed.chunk_tokens
    n_tokens = dict(stored)
    for chunk_id, article_id, _date, text in rows:
        article = entries[article_id].article
        assert embedder.count_tokens(passage_text(article.title, text)) <= 512
        assert n_tokens[chunk_id] == tokens(text) <= limit
        assert article.body.count(text) >= 1


def test_run_on_text_is_cut_with_linear_work() -> None:
    """100,000 characters without any sentence or clause mark: the characters tokenized to cut
    them stay a small multiple of the length. Cutting by a binary search over the whole clause
    tokenized about L/400 times the length (quadratic: 150 s for 1 MB, bench/big_article.py)."""
    body = ("智慧交通高雄市政府推動數位治理" * 7000)[:100_000] + "。"
    tokenized = 0

    def counting(text: str) -> int:
        nonlocal tokenized
        tokenized += len(text)
        return tokens(text)

    article = Article(article_id="runon", title="t", body=body)
    chunks = chunk_article(article, 160, counting, 1)
    check_exact(article, chunks, 160)
    assert all(c.n_tokens >= 80 for c in chunks[:-1])  # still the longest pieces that fit
    assert tokenized <= 60 * len(body), tokenized / len(body)
