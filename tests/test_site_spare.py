"""The spare site: the site a build replaced seeds the next build, which ends up the same."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pelican import signals

from csrnews.site import seeding, sparewalk
from csrnews.site.build import SiteBuildError, SiteStats, build_site
from csrnews.site.folders import spare_of
from csrnews.site.incremental import MANIFEST
from tests.test_site_incremental import (
    NEW_STORY,
    NEWS,
    content,
    digest_tree,
    edit,
    nightly_changes,
)

__all__ = ["content"]  # the fixture, shared with the incremental build tests


def snapshot(site: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) of a site, by relative path, manifest included."""
    found: dict[str, bytes | None] = {}
    for path in sorted(site.rglob("*")):
        name = path.relative_to(site).as_posix()
        found[name] = None if path.is_dir() and not path.is_symlink() else path.read_bytes()
    return found


def mismatches(a: dict[str, bytes | None], b: dict[str, bytes | None]) -> list[str]:
    problems = [f"only in the spare-based site: {n}" for n in sorted(a.keys() - b.keys())]
    problems += [f"only in the seeded site: {n}" for n in sorted(b.keys() - a.keys())]
    problems += [f"differs: {n}" for n in sorted(a.keys() & b.keys()) if a[n] != b[n]]
    return problems


class Twins:
    """One site built with its spare, one (seeded from the live site) without, same content."""

    def __init__(self, content: Path, root: Path, settings: dict[str, object]) -> None:
        self.content, self.settings = content, settings
        self.spared, self.seeded = root / "spared", root / "seeded"
        self.root = root

    def build(self) -> tuple[SiteStats, bool]:
        """Build both; True when the spare-based build used the spare as its staging folder."""
        spare = spare_of(self.spared)
        spare_ino = spare.stat().st_ino if spare.is_dir() else None
        stats = build_site(
            self.content,
            self.spared,
            quiet=True,
            extra_settings=self.settings,
            cache_dir=self.root / "cache-spared",
        )
        shutil.rmtree(spare_of(self.seeded), ignore_errors=True)  # always seed from the live site
        build_site(
            self.content,
            self.seeded,
            quiet=True,
            extra_settings=self.settings,
            cache_dir=self.root / "cache-seeded",
        )
        assert mismatches(snapshot(self.spared), snapshot(self.seeded)) == []
        return stats, self.spared.stat().st_ino == spare_ino

    def write_extras(self) -> None:
        """Files written into both live sites after the build (as a status page is)."""
        for site in (self.spared, self.seeded):
            (site / "status").mkdir(exist_ok=True)
            (site / "status" / "index.html").write_text("status", encoding="utf-8")
            (site / "about" / "notes.txt").write_text("not a page", encoding="utf-8")


def test_successive_nights_with_the_spare_make_the_seeded_site(
    content: Path, tmp_path: Path
) -> None:
    news = content / NEWS / "2025"
    twins = Twins(content, tmp_path, {})
    stats, used = twins.build()
    assert not used and stats.unchanged == 0  # the first build: nothing to reuse
    twins.write_extras()
    (news / "water-stewardship-forum-in-kunming.md").write_text(NEW_STORY, encoding="utf-8")
    stats, used = twins.build()
    assert not used and stats.unchanged > 0  # no spare yet: the old site becomes one
    assert spare_of(twins.spared).is_dir()
    edit(news / "iso-26000-forum-in-shanghai.md", "Speakers will discuss", "Speakers discuss")
    edit(news / "csr-award-for-community-projects.md", "Lang: en", "Lang: en\nStatus: hidden")
    (news / "supply-chain-due-diligence-report.md").unlink()
    stats, used = twins.build()  # the spare has the extras, the added story's page is new
    assert used and stats.unchanged > 0 and stats.removed > 0
    edit(news / "water-stewardship-forum-in-kunming.md", "Title: ", "Title: Revised: ")
    (news / "iso-26000-forum-in-shanghai.md").unlink()
    stats, used = twins.build()
    assert used and stats.rendered > 0
    twins.settings = {"DEFAULT_PAGINATION": 3}  # another fingerprint: every page rendered
    stats, used = twins.build()
    assert stats.unchanged == 0 and not used  # nothing to reuse: the spare is discarded
    edit(news / "csr-award-for-community-projects.md", "Status: hidden\n", "")
    stats, used = twins.build()  # a spare of the other fingerprint: every name linked again
    assert used and stats.unchanged > 0


def test_the_live_site_is_never_written_to_by_a_spare_based_build(
    content: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    build_site(content, site, quiet=True)
    build_site(content, site, quiet=True)  # the first site is the spare now
    edit(
        content / NEWS / "2025" / "iso-26000-forum-in-shanghai.md",
        "Title: ",
        "Title: Revised: ",  # every list that shows it is rendered again
    )
    before = digest_tree(site)
    seen: list[dict[str, tuple[str, int]]] = []

    def check(stats: SiteStats) -> None:
        seen.append(digest_tree(site))

    stats = build_site(content, site, quiet=True, before_swap=check)
    assert stats.rendered > 10 and stats.unchanged > 0
    assert seen == [before]
    assert digest_tree(spare_of(site)) == before  # the old live site, untouched, is the spare


def test_a_failed_build_drops_the_spare_and_keeps_the_site(content: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    build_site(content, site, quiet=True)
    build_site(content, site, quiet=True)
    before = digest_tree(site)
    edit(content / NEWS / "2025" / "iso-26000-forum-in-shanghai.md", "Title: ", "Title: New: ")

    def index_fails(stats: SiteStats) -> None:
        raise SiteBuildError("the search index update failed")

    with pytest.raises(SiteBuildError):
        build_site(content, site, quiet=True, before_swap=index_fails)
    assert digest_tree(site) == before
    assert not spare_of(site).exists()  # it was the failed build's staging folder
    assert not list(tmp_path.glob(".site.building-*"))
    edit(content / NEWS / "2025" / "iso-26000-forum-in-shanghai.md", "Title: New: ", "Title: ")
    stats = build_site(content, site, quiet=True)
    assert stats.rendered == 0 and spare_of(site).is_dir()


SPOILS: dict[str, Callable[[Path], object]] = {
    "garbled manifest": lambda spare: (spare / MANIFEST).write_text("{not", encoding="utf-8"),
    "no manifest": lambda spare: (spare / MANIFEST).unlink(),
    "a page missing": lambda spare: (spare / "about" / "index.html").unlink(),
    "a page renamed": lambda spare: (spare / "about" / "index.html").rename(
        spare / "about" / "old.html"
    ),
    "a page a symlink": lambda spare: (
        (spare / "about" / "index.html").unlink(),
        (spare / "about" / "index.html").symlink_to(spare.parent / "away" / "keep.txt"),
    ),
    "a file": lambda spare: (shutil.rmtree(spare), spare.write_text("a file")),
    "a symlink": lambda spare: (shutil.rmtree(spare), spare.symlink_to(spare.parent / "away")),
}


def test_a_spoilt_spare_still_makes_the_same_site(content: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (tmp_path / "away").mkdir()
    (tmp_path / "away" / "keep.txt").write_text("kept", encoding="utf-8")
    build_site(content, site, quiet=True)
    build_site(content, site, quiet=True)
    for spoilt, spoil in SPOILS.items():
        before = snapshot(site)  # nothing changed: the next site is this one again
        spoil(spare_of(site))
        build_site(content, site, quiet=True)
        assert mismatches(snapshot(site), before) == [], spoilt
        assert spare_of(site).is_dir() and not spare_of(site).is_symlink()
    assert (tmp_path / "away" / "keep.txt").read_text(encoding="utf-8") == "kept"


def test_full_builds_other_previous_sites_and_leftovers(content: Path, tmp_path: Path) -> None:
    site, other = tmp_path / "site", tmp_path / "other"
    build_site(content, site, quiet=True)
    build_site(content, site, quiet=True)
    spare_ino = spare_of(site).stat().st_ino
    full = build_site(content, site, quiet=True, incremental=False)
    assert full.unchanged == 0 and site.stat().st_ino != spare_ino  # not built in the spare
    spare_ino = spare_of(site).stat().st_ino  # the site the full build replaced
    build_site(content, other, quiet=True)
    (other / "extra.txt").write_text("only in other", encoding="utf-8")
    stats = build_site(content, site, quiet=True, previous=other)
    # built in the spare (another lineage: the nightly's pruned release), brought up to `other`
    assert stats.unchanged > 0 and site.stat().st_ino == spare_ino
    fresh = tmp_path / "fresh"
    build_site(content, fresh, quiet=True, previous=other)  # no spare: seeded from `other`
    assert mismatches(snapshot(site), snapshot(fresh)) == []
    # a killed build's leftovers beside the site
    leftover = tmp_path / f".site.old-{os.getpid()}-1"
    shutil.copytree(site, leftover)
    spare_ino = spare_of(site).stat().st_ino
    stats = build_site(content, site, quiet=True)
    assert stats.rendered == 0 and site.stat().st_ino == spare_ino  # built in the spare
    deadline = time.monotonic() + 10
    while leftover.exists() and time.monotonic() < deadline:  # removed in a background `rm`
        time.sleep(0.05)
    assert not leftover.exists()


def test_the_nightly_builds_in_the_site_of_the_release_it_prunes(
    content: Path, tmp_path: Path
) -> None:
    """`csrnews nightly` with three releases kept: the fourth run's build starts from the
    site of the release it prunes (same folder), and ends with the site a seed would give."""
    root = tmp_path / "root"
    options = ["--root", str(root), "--content", str(content), "--keep-releases", "3"]

    def nightly() -> Path:
        done = subprocess.run(
            [sys.executable, "-m", "csrnews", "nightly", "--no-crawl", "--quiet", *options],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return (root / "current").resolve()

    first = nightly()
    first_inode = (first / "site").stat().st_ino
    nightly()
    nightly_changes(content)
    third = nightly()
    fourth = nightly()
    assert not first.exists()  # pruned
    assert (fourth / "site").stat().st_ino == first_inode  # built in the pruned release's site
    status = {"status/index.html", "status/status.json"}  # the run's own page, new each run
    a, b = snapshot(fourth / "site"), snapshot(third / "site")
    assert [m for m in mismatches(a, b) if m.split(": ")[-1] not in status] == []


def test_the_spare_is_walked_while_pelican_reads_the_stories(
    content: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seeding waits in a thread of its own for Pelican to have read the stories (it
    would wait in vain, and time out, if it ran before Pelican as it did): a cold walk of the
    spare is hidden behind the reading. The site is the same as ever."""
    site = tmp_path / "site"
    build_site(content, site, quiet=True)
    build_site(content, site, quiet=True)
    before = snapshot(site)
    read = threading.Event()
    seen: list[tuple[str, bool]] = []
    real_seed = seeding.seed_in_child

    def slow_seed(*args: Any, **kwargs: Any) -> set[str]:
        seen.append((threading.current_thread().name, read.wait(timeout=20)))
        return real_seed(*args, **kwargs)

    def stories_read(generator: Any) -> None:
        read.set()

    monkeypatch.setattr(seeding, "seed_in_child", slow_seed)
    signals.article_generator_finalized.connect(stories_read)
    try:
        stats = build_site(content, site, quiet=True)
    finally:
        signals.article_generator_finalized.disconnect(stories_read)
    assert seen == [("csrnews-seed", True)]
    assert stats.rendered == 0 and mismatches(snapshot(site), before) == []


def test_a_build_failing_while_the_spare_is_walked_keeps_the_site(
    content: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A story Pelican cannot read fails the build while the seeding still runs: the staging
    folder goes once the seeding has ended, the live site stays as it was."""
    site = tmp_path / "site"
    build_site(content, site, quiet=True)
    build_site(content, site, quiet=True)
    before = snapshot(site)
    release = threading.Event()
    real_seed = seeding.seed_in_child

    def held_seed(*args: Any, **kwargs: Any) -> set[str]:
        release.wait(timeout=20)
        return real_seed(*args, **kwargs)

    def fail(generator: Any) -> None:
        release.set()  # the walk goes on while the build fails
        raise RuntimeError("a plugin failed")

    monkeypatch.setattr(seeding, "seed_in_child", held_seed)
    signals.article_generator_finalized.connect(fail)
    try:
        with pytest.raises(SiteBuildError, match="a plugin failed"):
            build_site(content, site, quiet=True)
    finally:
        signals.article_generator_finalized.disconnect(fail)
    assert mismatches(snapshot(site), before) == []
    assert not list(tmp_path.glob(".site.building-*"))
    assert not [t for t in threading.enumerate() if t.name == "csrnews-seed"]


def test_a_site_whose_files_cannot_be_counted_is_live_with_a_warning(
    content: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The count runs after the swap: failing it must not fail a build whose site is live."""
    site = tmp_path / "site"

    def unreadable(root: str, threads: int = 8) -> int:
        raise PermissionError(13, "Permission denied", root)

    monkeypatch.setattr(sparewalk, "count_files", unreadable)
    with caplog.at_level(logging.WARNING, logger="csrnews.site.build"):
        stats = build_site(content, site, quiet=True)
    assert stats.files == -1 and stats.articles > 0
    assert (site / "index.html").is_file()
    assert "the site's files could not be counted" in caplog.text
