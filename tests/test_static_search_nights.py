"""The static search over many nights: new, changed, hidden and deleted stories every night,
each night within its budget of stories given to Pagefind, and readers finding what a fresh
full build of the same files gives."""

from __future__ import annotations

import math
from pathlib import Path

from csrnews.search.staticsearch import NIGHT_SHARE, RECENT, build_static_search

from tests.test_static_search_delta import _listing, _what_readers_find

TARGET = 40  # a nightly builds at most 20 stories a night beside the recent shard
ROOM = math.floor(TARGET * NIGHT_SHARE)
TYPES = ("Summit & forum", "MoU & partnership", "Report", "Training")


def _write(content: Path, number: int, year: int, extra: str = "", status: str = "") -> Path:
    folder = content / "news" / str(year)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"story-{number:03d}.md"
    words = ("supply chain", "worker training", "water stewardship", "carbon disclosure")
    path.write_text(
        f"Title: Story {number} on {words[number % 4]}\nDate: {year}-0{1 + number % 9}-1"
        f"{number % 10}T09:00:00+08:00\nSlug: story-{number:03d}\nLang: en\n"
        f"Summary: Story {number}.\nCategory: {TYPES[number % 4]}\n"
        f"Organisations: {'amfori' if number % 3 else 'ISO'}\n{status}"
        f"Source: CSR Daily\nSource_url: https://news.example.com/{number}\n\n"
        f"Story {number} tells of {words[number % 4]} in {year}.{extra}\n",
        encoding="utf-8",
    )
    return path


def test_every_night_stays_within_its_budget_and_answers_as_a_fresh_build(
    tmp_path: Path,
) -> None:
    content, site, cache = tmp_path / "content", tmp_path / "site", tmp_path / "cache"
    site.mkdir()
    files = {n: _write(content, n, 2021 + n % 5) for n in range(150)}  # 30 a year
    first = build_static_search(content, site, cache_dir=cache, target=TARGET)
    assert first.shards == 5 and first.recent == 0
    number, folded, waiting, nights = 150, 0, 0, 16
    for night in range(1, nights + 1):
        touched = set()
        for _ in range(2):  # new stories of the year
            files[number] = _write(content, number, 2026)
            touched.add(number)
            number += 1
        for changed in (night * 7 % 150, night * 11 % 150 + 1):  # updated by their source
            if changed in files:
                year = 2021 + changed % 5 if changed < 150 else 2026
                _write(content, changed, year, extra=f" Update of night {night}.")
                touched.add(changed)
        if night % 4 == 0:
            files.pop(night * 5 % 150).unlink()
        if night % 5 == 0:  # an editor hides one
            hidden = night * 3 % 150 + 2
            _write(content, hidden, 2021 + hidden % 5, status="Status: hidden\n")
            touched.add(hidden)
        stats = build_static_search(content, site, cache_dir=cache, target=TARGET)
        # Pagefind indexes the recent shard, the night's new and changed stories and those
        # that waited in the recent shard, and at most half the target of other stories
        assert stats.indexed - stats.recent <= ROOM + len(touched) + waiting, (night, stats)
        assert stats.recent <= ROOM, (night, stats)
        waiting = stats.recent
        folded += stats.folded
        listing = _listing(site)
        assert all(s["stories"] <= TARGET for s in listing.values())
        # shards of half the target, and what is left of the full build's shards they split
        assert len(listing) <= math.ceil(len(files) / ROOM) + first.shards, (night, list(listing))
        fresh = tmp_path / f"fresh-{night}"
        fresh.mkdir()
        build_static_search(content, fresh, target=10_000)
        assert _what_readers_find(site) == _what_readers_find(fresh), night
    assert folded >= 3  # shards were built again along the way, not only new ones
    assert RECENT not in listing or listing[RECENT]["stories"] <= ROOM
