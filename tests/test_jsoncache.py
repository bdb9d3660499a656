"""The stamped JSON caches of the story checks and the static search (story/jsoncache.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from csrnews.story.jsoncache import load_cache, save_cache


def test_a_cache_is_read_back_only_with_its_stamp(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "cache.json"
    save_cache(path, ("version", 2), "files", {"a.md": [1, "x"]}, "the test cache")
    assert load_cache(path, ("version", 2), "files") == {"a.md": [1, "x"]}
    assert load_cache(path, ("version", 3), "files") == {}  # other code: start again
    assert load_cache(path, ("version", 2), "other") == {}
    assert not [p for p in path.parent.iterdir() if p.name != "cache.json"]  # no temp left


@pytest.mark.parametrize("text", ["", "{not json", "[1, 2]", '{"version": 2, "files": [1]}'])
def test_a_garbled_or_missing_cache_is_empty(tmp_path: Path, text: str) -> None:
    path = tmp_path / "cache.json"
    assert load_cache(path, ("version", 2), "files") == {}
    path.write_text(text, encoding="utf-8")
    assert load_cache(path, ("version", 2), "files") == {}
    assert load_cache(None, ("version", 2), "files") == {}


def test_a_cache_that_cannot_be_saved_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        save_cache(blocker / "cache.json", ("code", "k"), "shards", {}, "the test manifest")
    assert "cannot save the test manifest" in caplog.text
