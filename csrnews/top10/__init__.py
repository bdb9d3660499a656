"""Editors' annual top-10 lists: the data files, their validation, and the API the site uses."""

from __future__ import annotations

import os
from pathlib import Path

from csrnews.top10.archive import ArchivedStory, load_archive
from csrnews.top10.io import list_files, read_list, top10_dir
from csrnews.top10.model import Entry, Problem, Top10Error, Top10List
from csrnews.top10.validate import validate_list

__all__ = [
    "ArchivedStory",
    "Entry",
    "Problem",
    "Top10Error",
    "Top10List",
    "badge_text",
    "badges",
    "check_lists",
    "find_list",
    "load_lists",
]


def check_lists(content_dir: str | os.PathLike[str]) -> tuple[list[Top10List], list[Problem]]:
    """Read and validate every list; syntax errors and rule breaks come back as problems."""
    archive = load_archive(content_dir)
    lists: list[Top10List] = []
    problems: list[Problem] = []
    for path in list_files(content_dir):
        try:
            lst = read_list(path)
        except Top10Error as exc:
            problems += exc.problems
            continue
        lists.append(lst)
        problems += validate_list(lst, archive)
    return lists, problems


def load_lists(content_dir: str | os.PathLike[str], *, check: bool = True) -> list[Top10List]:
    """Every list in <content>/top10, published and draft, sorted by year then name.

    Raises Top10Error ("path:line: message" lines) for a file that does not parse or is not a
    list; with ``check`` also for any rule broken by a published list (a draft's rule breaks
    do not stop the build: drafts are not published).
    """
    archive = load_archive(content_dir) if check else {}
    lists: list[Top10List] = []
    problems: list[Problem] = []
    for path in list_files(content_dir):
        lst = read_list(path)
        lists.append(lst)
        if check and lst.published:
            problems += validate_list(lst, archive)
    if problems:
        raise Top10Error(problems)
    return sorted(lists, key=lambda item: (item.year, item.name))


def badge_text(lst: Top10List, rank: int) -> str:
    """The badge on a listed story's page: "No. 2 in Top 10 CSR Events of 2018"."""
    return f"No. {rank} in {lst.title}"


def badges(lists: list[Top10List]) -> dict[str, list[str]]:
    """slug -> badge texts, for the stories linked from published lists only."""
    found: dict[str, list[str]] = {}
    for lst in sorted(lists, key=lambda item: (item.year, item.name)):
        if not lst.published:
            continue
        for slug, rank in lst.story_ranks().items():
            found.setdefault(slug, []).append(badge_text(lst, rank))
    return found


def find_list(content_dir: str | os.PathLike[str], year: int, name: str | None = None) -> Path:
    """The list file for a year: --list NAME|FILE, else <year>.yaml, else the year's only list.

    Raises Top10Error when there is none or the choice is ambiguous.
    """
    folder = top10_dir(content_dir)
    if name:
        candidate = Path(name)
        if candidate.exists():
            return candidate
        stem = candidate.name.removesuffix(".yaml")
        path = folder / f"{stem}.yaml"
        if path.exists():
            return path
        raise Top10Error(f"no list {name!r}: neither {candidate} nor {path} exists")
    default = folder / f"{year}.yaml"
    if default.exists():
        return default
    same_year = [p for p in list_files(content_dir) if p.stem.split("-")[0] == str(year)]
    if len(same_year) == 1:
        return same_year[0]
    if not same_year:
        raise Top10Error(
            f"no list for {year} in {folder} (start one with `csrnews top10 new {year}`)"
        )
    names = ", ".join(p.stem for p in same_year)
    raise Top10Error(f"{year} has several lists ({names}): choose one with --list NAME")
