"""The spare site's walk: what it keeps, removes and hands over, with one thread or several."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from csrnews.site import sparewalk
from csrnews.site.sparewalk import link_all, prune


def _tree(root: Path, stories: int) -> tuple[set[str], set[str]]:
    """A small site: story pages in folders of their own, a feed, an unlisted bundle."""
    files: set[str] = set()
    for number in range(stories):
        page = root / "news" / str(2020 + number % 3) / f"story-{number}" / "index.html"
        page.parent.mkdir(parents=True)
        page.write_text(f"story {number}", encoding="utf-8")
        files.add(str(page.relative_to(root)))
        (page.parent / "stray.tmp").write_text("not listed", encoding="utf-8")
    (root / "feeds").mkdir()
    (root / "feeds" / "all.atom.xml").write_text("feed", encoding="utf-8")
    files.add(os.path.join("feeds", "all.atom.xml"))
    (root / "index.html").write_text("home", encoding="utf-8")
    files.add("index.html")
    bundle = root / "pagefind" / "fragment"
    bundle.mkdir(parents=True)
    (bundle / "a.pf_fragment").write_text("x", encoding="utf-8")
    (root / "old.html").write_text("a page of a story gone", encoding="utf-8")
    folders: set[str] = set()
    for name in files:
        folder = os.path.dirname(name)
        while folder:
            folders.add(folder)
            folder = os.path.dirname(folder)
    return files, folders


def _listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir()}


@pytest.mark.parametrize("threads", [1, 8])
def test_the_walk_keeps_the_listed_files_and_nothing_else(tmp_path: Path, threads: int) -> None:
    # 60 story folders: levels wide enough for the threads (at least 2 * threads folders)
    files, folders = _tree(tmp_path, 60)
    listed_but_gone = os.path.join("news", "2020", "story-0", "gone.html")
    link = tmp_path / "news" / "2021" / "story-1" / "link.html"
    link.symlink_to(tmp_path / "index.html")
    discarded: list[str] = []

    present = prune(
        str(tmp_path),
        files | {listed_but_gone, str(link.relative_to(tmp_path))},
        folders,
        discarded.append,
        threads=threads,
    )

    assert present == files  # a listed name that is not there is not found; a link is no file
    # the stray files, the old page and the link are gone; the unlisted folder is handed over
    # whole (discard here leaves it where it is), not read
    bundle = os.path.join("pagefind", "fragment", "a.pf_fragment")
    assert _listing(tmp_path) == files | {bundle}
    assert discarded == [str(tmp_path / "pagefind")]


def test_a_folder_that_cannot_be_read_is_an_error_after_the_other_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files, folders = _tree(tmp_path, 60)
    bad = str(tmp_path / "news" / "2022" / "story-2")
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if path == bad:
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(sparewalk.os, "scandir", scandir)
    with pytest.raises(PermissionError):
        prune(str(tmp_path), files, folders, lambda path: None, threads=8)


@pytest.mark.parametrize("threads", [1, 8])
def test_link_all_links_every_listed_file_into_new_folders(tmp_path: Path, threads: int) -> None:
    source, target = tmp_path / "site", tmp_path / "staging"
    files, _folders = _tree(source, 60)
    target.mkdir()
    gone = os.path.join("news", "2020", "story-99", "index.html")  # listed, not in the site
    outside = [os.path.join("..", "site", "index.html"), str(source / "index.html")]

    linked = link_all(str(source), str(target), [*sorted(files), gone, *outside], threads=threads)

    assert linked == files
    assert _listing(target) == files
    for name in files:  # the same file, not a copy
        assert os.path.samefile(source / name, target / name)


@pytest.mark.parametrize("threads", [1, 8])
def test_count_files_counts_every_file_and_link_not_folders(tmp_path: Path, threads: int) -> None:
    root = tmp_path / "site"
    files, _folders = _tree(root, 40)  # 40 pages, 40 strays, a bundle file, a stray page
    (root / "empty" / "deeper").mkdir(parents=True)
    (root / "link.html").symlink_to(root / "index.html")
    (root / "dangling").symlink_to(root / "gone")
    (root / "folder-link").symlink_to(root / "feeds")  # a link to a folder is not entered
    expected = sum(1 for p in root.rglob("*") if p.is_symlink() or not p.is_dir())
    assert expected == len(files) + 40 + 2 + 3
    assert sparewalk.count_files(str(root), threads=threads) == expected


def test_count_files_raises_on_a_folder_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        sparewalk.count_files(str(tmp_path / "missing"))


def test_count_files_counts_a_folder_removed_under_it_as_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A concurrent build may remove a folder between its parent's read and its own: the
    count goes on (that folder counts nothing); the root itself missing is still an error."""
    root = tmp_path / "site"
    for name in ("a/1.html", "a/2.html", "b/c/3.html", "b/4.html", "index.html"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x", encoding="utf-8")
    real_scandir = os.scandir

    def scandir_after_removal(path: str) -> Any:
        if path == str(root / "b"):
            shutil.rmtree(path)  # removed after the root was read, before it is
        return real_scandir(path)

    monkeypatch.setattr(sparewalk.os, "scandir", scandir_after_removal)
    assert sparewalk.count_files(str(root), threads=1) == 3  # a/1, a/2, index.html
