"""The story-check cache of csrnews.story.storycheck: unchanged files are not read again, and a
file whose contents changed is always checked again, whatever its size and mtime say.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from csrnews.site.build import build_site
from csrnews.story import storycheck
from csrnews.story.storycheck import CACHE_FILE, find_quarantine

GOOD = "Title: Story {n}\nDate: 2018-05-0{n}T09:00:00+08:00\nSlug: story-{n}\n\nBody of {n}.\n"
# The same size as GOOD.format(n=2), and with no Date: quarantined.
BAD = "Title: Story 2\nDote: 2018-05-02T09:00:00+08:00\nSlug: story-2\n\nBody of 2.\n"


@pytest.fixture
def short_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files changed 0.1 s before a check count as settled (2 s by default)."""
    monkeypatch.setattr(storycheck, "RACY_NS", 100_000_000)


def _settle() -> None:
    """Wait until the files just written are out of the (short) racy window."""
    time.sleep(0.2)


def _content(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    (content / "news" / "2018").mkdir(parents=True)
    for n in (1, 2, 3):
        (content / "news" / "2018" / f"story-{n}.md").write_text(GOOD.format(n=n))
    return content


def _rewrite_keeping_mtime(path: Path, text: str) -> None:
    """Write ``text`` in place (same inode) and set the file's mtime back to what it was."""
    before = path.stat()
    with open(path, "r+", encoding="utf-8") as handle:
        handle.write(text)
        handle.truncate()
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )


def _paths(content: Path, cache: Path) -> list[str]:
    _settle()
    return [q.path for q in find_quarantine(content, cache_dir=cache)]


def _tamper(cache: Path, rel: str, reason: str) -> None:
    """Put ``reason`` in the cache for ``rel``, as if its last check had found it."""
    data = json.loads((cache / CACHE_FILE).read_text(encoding="utf-8"))
    data["files"][rel][4] = reason
    (cache / CACHE_FILE).write_text(json.dumps(data), encoding="utf-8")


def test_an_unchanged_file_is_not_read_again(tmp_path: Path, short_racy_window: None) -> None:
    content, cache = _content(tmp_path), tmp_path / "cache"
    assert _paths(content, cache) == []
    # What the cache says of an unchanged file is taken as it is: the file is not read.
    _tamper(cache, "news/2018/story-1.md", "from the cache")
    found = find_quarantine(content, cache_dir=cache)
    assert [(q.path, q.reason) for q in found] == [("news/2018/story-1.md", "from the cache")]
    assert find_quarantine(content) == []  # without the cache every file is read


def test_a_file_changed_just_before_a_check_is_read_again_next_time(tmp_path: Path) -> None:
    """Within RACY_NS of its last change a file could change again with the same ctime."""
    content, cache = _content(tmp_path), tmp_path / "cache"
    assert find_quarantine(content, cache_dir=cache) == []
    _tamper(cache, "news/2018/story-1.md", "from the cache")
    assert find_quarantine(content, cache_dir=cache) == []


def test_an_edited_file_that_became_invalid_is_quarantined_and_comes_back_when_fixed(
    tmp_path: Path, short_racy_window: None
) -> None:
    content, cache = _content(tmp_path), tmp_path / "cache"
    story = content / "news" / "2018" / "story-2.md"
    assert len(BAD) == len(GOOD.format(n=2))
    assert _paths(content, cache) == []
    # The same size, a new mtime (an ordinary edit).
    stamp = story.stat().st_mtime_ns
    story.write_text(BAD)
    os.utime(story, ns=(stamp + 1_000_000_000, stamp + 1_000_000_000))
    assert _paths(content, cache) == ["news/2018/story-2.md"]
    story.write_text(GOOD.format(n=2))
    os.utime(story, ns=(stamp + 2_000_000_000, stamp + 2_000_000_000))
    assert _paths(content, cache) == []


def test_a_rewrite_with_the_old_size_and_mtime_is_checked_again(
    tmp_path: Path, short_racy_window: None
) -> None:
    """The ctime (which no program can set back) tells the cache a file changed."""
    content, cache = _content(tmp_path), tmp_path / "cache"
    story = content / "news" / "2018" / "story-2.md"
    assert _paths(content, cache) == []
    _rewrite_keeping_mtime(story, BAD)
    assert _paths(content, cache) == ["news/2018/story-2.md"]
    _rewrite_keeping_mtime(story, GOOD.format(n=2))
    assert _paths(content, cache) == []


def test_a_file_replaced_by_a_rename_is_checked_again(
    tmp_path: Path, short_racy_window: None
) -> None:
    content, cache = _content(tmp_path), tmp_path / "cache"
    story = content / "news" / "2018" / "story-2.md"
    assert _paths(content, cache) == []
    before = story.stat()
    new = story.with_name(".story-2.md.tmp")
    new.write_text(BAD)
    os.utime(new, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(new, story)
    assert _paths(content, cache) == ["news/2018/story-2.md"]


def test_the_first_by_path_parts_keeps_a_shared_address(tmp_path: Path) -> None:
    """As pathlib sorts: news/a/x.md comes before news/a-b/x.md (a string sort says otherwise)."""
    content = tmp_path / "content"
    for folder in ("a", "a-b"):
        (content / "news" / folder).mkdir(parents=True)
        (content / "news" / folder / "x.md").write_text("Title: Same\nDate: 2018-01-01\n\nB.\n")
    (content / "news" / ".hidden").mkdir()
    (content / "news" / ".hidden" / "junk.md").write_text("junk")
    for cache in (None, tmp_path / "cache", tmp_path / "cache"):
        found = find_quarantine(content, cache_dir=cache)
        assert [(q.path, q.reason) for q in found] == [
            ("news/a-b/x.md", "the same address as news/a/x.md (give it its own Slug)")
        ]


def test_the_site_build_quarantines_an_edit_with_the_old_mtime_and_publishes_the_fix(
    tmp_path: Path, short_racy_window: None
) -> None:
    content, cache, site = _content(tmp_path), tmp_path / "cache", tmp_path / "site"
    story = content / "news" / "2018" / "story-2.md"
    page = site / "news" / "2018" / "story-2" / "index.html"
    _settle()
    first = build_site(content, site, quiet=True, cache_dir=cache)
    assert first.quarantined == [] and page.exists()
    _rewrite_keeping_mtime(story, BAD)
    _settle()
    second = build_site(content, site, quiet=True, cache_dir=cache)
    assert [q.path for q in second.quarantined] == ["news/2018/story-2.md"]
    assert not page.exists()
    _rewrite_keeping_mtime(story, GOOD.format(n=2))
    _settle()
    third = build_site(content, site, quiet=True, cache_dir=cache)
    assert third.quarantined == [] and page.exists()


def test_another_processs_cache_seeds_the_checks_and_this_cache_is_written(
    tmp_path: Path, short_racy_window: None
) -> None:
    """In a full build the static search checks every file before the index starts: the index
    takes its entries (under the same test of size, mtime, ctime and inode) instead of
    reading every file again, and writes its own cache."""
    content, seed, mine = _content(tmp_path), tmp_path / "seed", tmp_path / "mine"
    story = content / "news" / "2018" / "story-2.md"
    assert _paths(content, seed) == []
    _tamper(seed, "news/2018/story-1.md", "from the seed")  # not read: the seed's word is taken
    _rewrite_keeping_mtime(story, BAD)  # changed since the seed's check: read again
    _settle()
    found = find_quarantine(content, cache_dir=mine, seeds=[seed, tmp_path / "missing"])
    assert [(q.path, q.reason) for q in found] == [
        ("news/2018/story-1.md", "from the seed"),
        ("news/2018/story-2.md", found[1].reason),
    ]
    assert "Date" in found[1].reason
    written = json.loads((mine / CACHE_FILE).read_text(encoding="utf-8"))["files"]
    assert sorted(written) == [f"news/2018/story-{n}.md" for n in (1, 2, 3)]
    assert written["news/2018/story-1.md"][4] == "from the seed"


def test_the_index_step_takes_its_checks_from_the_folders_it_is_given(
    tmp_path: Path, short_racy_window: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m csrnews.nightly.indexstep CONTENT INDEX --checks-from FOLDER` (what
    `csrnews build` starts beside the site, seeded with the static search's cache)."""
    from csrnews.nightly import indexstep

    content, seed = _content(tmp_path), tmp_path / "seed"
    assert _paths(content, seed) == []
    _tamper(seed, "news/2018/story-3.md", "from the seed")
    index = tmp_path / "index"
    assert indexstep.main([str(content), str(index), "--checks-from", str(seed)]) == 0
    stats = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert stats["added"] == 2  # story-3 left out, on the seed's word
    assert indexstep.main([str(content), str(tmp_path / "index2")]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["added"] == 3


def test_an_entry_to_be_read_again_gives_way_to_a_seeds_settled_one(
    tmp_path: Path, short_racy_window: None
) -> None:
    """A seed's entry marked to be read again (checked while the file could still change)
    does not hide another seed's settled entry for the same file."""
    content, racy, settled = _content(tmp_path), tmp_path / "racy", tmp_path / "settled"
    assert _paths(content, settled) == []
    _tamper(settled, "news/2018/story-1.md", "from the settled seed")
    assert _paths(content, racy) == []
    data = json.loads((racy / CACHE_FILE).read_text(encoding="utf-8"))
    data["files"]["news/2018/story-1.md"][2] = -1
    data["files"]["news/2018/story-1.md"][4] = "from the racy seed"
    (racy / CACHE_FILE).write_text(json.dumps(data), encoding="utf-8")
    found = find_quarantine(content, cache_dir=tmp_path / "own", seeds=[racy, settled])
    assert [(q.path, q.reason) for q in found] == [
        ("news/2018/story-1.md", "from the settled seed")
    ]
