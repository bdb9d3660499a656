"""A static search shard built again keeps the fragments of its unchanged stories.

Pagefind does not write a fragment file that is there already (its name is a hash of its
content), so the fragments of stories that did not change are linked in from the previous
bundle before a shard is built again: the bundle must come out as a fresh build makes it.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from csrnews.search import filemap
from csrnews.search.filemap import scan_story_files
from csrnews.search.staticsearch import (
    DIGESTS_FILE,
    MANIFEST_FILE,
    Digests,
    StaticSearchError,
    _written,
    build_static_search,
    fragment_url,
    main,
    plan_shards,
)

from tests.conftest import run_cli
from tests.golden_site import SAMPLES

STORIES = 12  # published stories in the samples (one is hidden)


def _files(site: Path, kind: str) -> dict[str, bytes]:
    """The fragment (or index) files of every shard, by shard and name, with their bytes."""
    found = {}
    for path in (site / "pagefind").glob(f"*/{kind}/*"):
        found[f"{path.parent.parent.name}/{path.name}"] = path.read_bytes()
    return found


def _same_as_a_fresh_build(content: Path, site: Path, tmp_path: Path, target: int) -> None:
    fresh = tmp_path / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir()
    build_static_search(content, fresh, target=target)
    for kind in ("fragment", "index"):
        assert _files(site, kind) == _files(fresh, kind), kind
    assert (
        json.loads((site / "pagefind" / "shards.json").read_text())["shards"]
        == json.loads((fresh / "pagefind" / "shards.json").read_text())["shards"]
    )


def _content(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    shutil.copytree(SAMPLES, content)
    return content


def _edit_one(content: Path) -> None:
    story = sorted((content / "news").rglob("*.md"))[0]
    story.write_text(story.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")


def test_a_changed_story_builds_its_shard_with_the_others_fragments_kept(tmp_path: Path) -> None:
    content, site, cache = _content(tmp_path), tmp_path / "site", tmp_path / "cache"
    site.mkdir()
    first = build_static_search(content, site, cache_dir=cache)
    assert first.built == 1 and first.fragments_kept == 0
    assert (cache / MANIFEST_FILE).is_file() and not (site / "pagefind" / MANIFEST_FILE).exists()
    _edit_one(content)
    # laid out again (no fold share): the changed shard is built again, not linked
    again = build_static_search(content, site, cache_dir=cache, fold_share=0)
    assert (again.built, again.stories, again.fragments_kept) == (1, STORIES, STORIES - 1)
    _same_as_a_fresh_build(content, site, tmp_path, target=4000)


def test_stories_moved_to_other_shards_keep_their_fragments(tmp_path: Path) -> None:
    content, site, cache = _content(tmp_path), tmp_path / "site", tmp_path / "cache"
    site.mkdir()
    build_static_search(content, site, cache_dir=cache)  # one shard
    split = build_static_search(content, site, cache_dir=cache, target=5)  # laid out again
    assert split.shards > 1 and split.built == split.shards
    assert split.fragments_kept == STORIES
    _same_as_a_fresh_build(content, site, tmp_path, target=5)


def test_nothing_is_kept_without_the_cache_or_after_a_change_of_code(tmp_path: Path) -> None:
    content, site, cache = _content(tmp_path), tmp_path / "site", tmp_path / "cache"
    site.mkdir()
    build_static_search(content, site, cache_dir=cache)
    _edit_one(content)
    assert build_static_search(content, site).fragments_kept == 0  # no cache folder
    manifest = json.loads((cache / MANIFEST_FILE).read_text())
    manifest["code"] = "another version"
    (cache / MANIFEST_FILE).write_text(json.dumps(manifest))
    _edit_one(content)
    assert build_static_search(content, site, cache_dir=cache).fragments_kept == 0
    manifest = json.loads((cache / MANIFEST_FILE).read_text())  # written again, right code
    for shard in manifest["shards"].values():
        shard["stories"] = {doc: "garbled" for doc in shard["stories"]}
    (cache / MANIFEST_FILE).write_text(json.dumps(manifest))
    _edit_one(content)
    assert build_static_search(content, site, cache_dir=cache).fragments_kept == 0
    (cache / MANIFEST_FILE).write_text("{not json")
    _edit_one(content)
    assert build_static_search(content, site, cache_dir=cache).fragments_kept == 0
    _same_as_a_fresh_build(content, site, tmp_path, target=4000)


def test_a_kept_fragment_pagefind_made_again_differently_is_removed(tmp_path: Path) -> None:
    # Should a record come out different although its story file did not change (a change of
    # code outside the static search), Pagefind writes a new fragment: the old one goes.
    content, site, cache = _content(tmp_path), tmp_path / "site", tmp_path / "cache"
    site.mkdir()
    build_static_search(content, site, cache_dir=cache)
    story = sorted((content / "news").rglob("*.md"))[0]
    doc_id = story.relative_to(content).as_posix()
    _edit_one(content)
    manifest = json.loads((cache / MANIFEST_FILE).read_text())
    (shard,) = manifest["shards"].values()
    (now,) = plan_shards(scan_story_files(content))
    now.key()
    shard["stories"][doc_id][0] = now.digests[doc_id]  # claims the story did not change
    (cache / MANIFEST_FILE).write_text(json.dumps(manifest))
    again = build_static_search(content, site, cache_dir=cache)
    assert again.fragments_kept == STORIES
    _same_as_a_fresh_build(content, site, tmp_path, target=4000)


def test_csrnews_build_caches_the_static_search_beside_the_site(tmp_path: Path) -> None:
    content = _content(tmp_path)
    out, index = tmp_path / "out", tmp_path / "index"
    args = ("build", "--content", str(content), "--output", str(out), "--index", str(index))
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    cache = tmp_path / ".pelican-cache" / "static-search"
    assert (cache / MANIFEST_FILE).is_file() and (cache / "story-checks.json").is_file()
    _edit_one(content)
    again = run_cli(*args)
    assert again.returncode == 0, again.stderr
    # linked as it was, the changed story in a new shard
    assert (
        "static search: 12 stories in 2 shards (1 built, 1 kept; 1 stale entries hidden; 1 story "
        "indexed)" in again.stdout
    )
    assert not list((out / "pagefind").rglob(MANIFEST_FILE))


def test_a_fragments_url_is_read_from_its_start_or_from_the_whole(tmp_path: Path) -> None:
    def fragment(url: str) -> Path:
        path = tmp_path / f"{len(url)}.pf_fragment"
        data = {"url": url, "content": "words " * 500, "meta": {"title": "A title"}}
        path.write_bytes(gzip.compress(b"pagefind_dcd" + json.dumps(data).encode()))
        return path

    assert fragment_url(fragment("news/2025/a-story/")) == "news/2025/a-story/"
    assert fragment_url(fragment('news/2025/"quoted"/')) == 'news/2025/"quoted"/'
    long = "news/2025/" + "a" * 3000 + "/"
    assert fragment_url(fragment(long)) == long  # past the start: the whole file is read
    broken = tmp_path / "broken.pf_fragment"
    broken.write_bytes(b"not gzip")
    assert fragment_url(broken) is None


def _story_files(content: Path) -> list[Path]:
    return sorted((content / "news").rglob("*.md"))


def test_digests_are_kept_by_stat_and_read_again_only_for_changed_files(tmp_path: Path) -> None:
    content, cache = _content(tmp_path), tmp_path / "cache" / DIGESTS_FILE
    later = time.time_ns() + 10**10  # a scan long after the files were written: none racy

    def keys() -> tuple[dict[str, str], int]:
        digests = Digests(cache, later)
        found = {shard.id: shard.key(digests) for shard in plan_shards(scan_story_files(content))}
        digests.save()
        return found, digests.read

    first, read = keys()
    assert read == len(_story_files(content))
    assert keys() == (first, 0)
    # a rewrite that keeps the size and the mtime: the ctime tells
    story = _story_files(content)[0]
    st = story.stat()
    text = story.read_text(encoding="utf-8")
    story.write_text(text.replace("a", "b", 1) if "a" in text else text.upper(), encoding="utf-8")
    os.utime(story, ns=(st.st_atime_ns, st.st_mtime_ns))
    changed, read = keys()
    assert read == 1 and changed != first
    story.with_name(story.name[:-3] + ".fulltext.txt").write_text("Full text.", encoding="utf-8")
    with_sidecar, read = keys()
    assert read == 1 and with_sidecar != changed
    assert keys() == (with_sidecar, 0)


def test_digests_of_files_changed_just_before_the_scan_are_read_again(tmp_path: Path) -> None:
    content, cache = _content(tmp_path), tmp_path / "cache" / DIGESTS_FILE
    for _ in range(2):  # written just now: within the racy window of the scan each time
        digests = Digests(cache, time.time_ns())
        for shard in plan_shards(scan_story_files(content)):
            shard.key(digests)
        digests.save()
        assert digests.read == len(_story_files(content))


def test_a_nightly_reads_only_the_new_and_changed_story_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filemap, "RACY_NS", 0)  # files written by the test a moment ago count
    content, site, cache = _content(tmp_path), tmp_path / "site", tmp_path / "cache"
    site.mkdir()
    assert build_static_search(content, site, cache_dir=cache).files_read == len(
        _story_files(content)
    )
    _edit_one(content)
    again = build_static_search(content, site, cache_dir=cache, fold_share=0)
    assert again.files_read == 1
    _same_as_a_fresh_build(content, site, tmp_path, target=4000)


def test_a_malformed_digests_cache_is_read_around(tmp_path: Path) -> None:
    content, cache = _content(tmp_path), tmp_path / "cache" / DIGESTS_FILE
    later = time.time_ns() + 10**10
    digests = Digests(cache, later)
    first = [shard.key(digests) for shard in plan_shards(scan_story_files(content))]
    digests.save()
    data = json.loads(cache.read_text())
    entries = iter(data["files"])
    data["files"][next(entries)][8] = "not hex"
    data["files"][next(entries)] = "not a list"
    cache.write_text(json.dumps(data))
    digests = Digests(cache, later)
    assert [shard.key(digests) for shard in plan_shards(scan_story_files(content))] == first
    assert digests.read == 2
    cache.write_text("{not json")
    assert Digests(cache, later).known == {}


def test_the_command_line_takes_a_shard_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content, site = _content(tmp_path), tmp_path / "site"
    site.mkdir()
    assert main([str(content), str(site), "--shard-target", "8"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["stories"] == STORIES and stats["shards"] == len(
        plan_shards(scan_story_files(content), 8)
    ) > len(plan_shards(scan_story_files(content)))
    with pytest.raises(SystemExit):
        main([str(content), str(site), "--shard-target", "0"])


def test_a_bundle_is_waited_for_until_pagefind_wrote_it_whole(tmp_path: Path) -> None:
    # Pagefind answers before its last writes end and is then stopped: a loaded machine was
    # left with an empty pagefind-entry.json. The build waits for the whole bundle.
    content, site = _content(tmp_path), tmp_path / "site"
    site.mkdir()
    build_static_search(content, site)
    (shard,) = (p for p in (site / "pagefind").iterdir() if p.is_dir())
    _written(shard, wait=5)
    entry = shard / "pagefind-entry.json"
    whole = entry.read_bytes()
    entry.write_bytes(b"")
    with pytest.raises(StaticSearchError, match="empty"):
        _written(shard, wait=0.3)
    threading.Timer(0.3, entry.write_bytes, (whole,)).start()
    started = time.monotonic()
    _written(shard, wait=10)
    assert time.monotonic() - started >= 0.3
    entry.write_text('{"languages": {"zh": {"hash": "zh_missing"}}}')
    with pytest.raises(StaticSearchError, match="zh_missing"):
        _written(shard, wait=0.2)
