"""The static search's shard keys follow the story files' bytes, not their stat."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from csrnews.search.filemap import scan_story_files
from csrnews.search.staticsearch import plan_shards

SAMPLES = Path(__file__).parent / "samples" / "content"


def _keys(content: Path) -> dict[str, str]:
    return {shard.id: shard.key() for shard in plan_shards(scan_story_files(content))}


def test_a_copy_or_a_touch_keeps_every_key(tmp_path: Path) -> None:
    copy = tmp_path / "content"
    shutil.copytree(SAMPLES, copy)  # new inodes and (without copy2 of dirs) other times
    for path in (copy / "news").rglob("*.md"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    assert _keys(copy) == _keys(SAMPLES)


def test_a_changed_byte_changes_its_shards_key(tmp_path: Path) -> None:
    copy = tmp_path / "content"
    shutil.copytree(SAMPLES, copy)
    before = _keys(copy)
    story = sorted((copy / "news").rglob("*.md"))[0]
    story.write_text(story.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    after = _keys(copy)
    assert after.keys() == before.keys()
    assert sum(before[k] != after[k] for k in before) == 1
