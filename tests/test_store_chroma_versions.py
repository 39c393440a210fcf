"""The server store's version choice: each article's latest version from version ids alone."""

from __future__ import annotations

from rag.store_chroma import _version_id, latest_versions


def test_latest_version_per_article_by_generation_not_by_digits() -> None:
    ids = [_version_id(9, "a"), _version_id(10, "a"), _version_id(2, "b/1"),
           _version_id(100, "b"), _version_id(3, "b")]
    # 10 > 9 although "10" < "9" as text: the generation is zero-padded in the id
    assert latest_versions(ids) == sorted([_version_id(10, "a"), _version_id(2, "b/1"),
                                           _version_id(100, "b")])


def test_article_ids_with_slashes_stay_whole() -> None:
    assert latest_versions([_version_id(1, "x/y/z"), _version_id(2, "x/y")]) == [
        _version_id(1, "x/y/z"), _version_id(2, "x/y")]


def test_no_versions() -> None:
    assert latest_versions([]) == []
