"""The top-10 lists on the desk: csrnews.top10's own reading, candidates, edits and rules,
each edit checked against the version the editor saw and recorded in the history."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csrnews.desk.objects import text_sha
from csrnews.desk.service import Desk
from csrnews.desk.storyedit import diff_lines, who_changed
from csrnews.story.storyfile import write_text_atomic
from csrnews.top10 import Top10Error, Top10List
from csrnews.top10.candidates import Candidate, load_weights, rank_candidates
from csrnews.top10.create import create_list, default_title, list_name, list_text
from csrnews.top10.edit import ListEditor, add_story, set_status
from csrnews.top10.io import build_list, list_files, parse_yaml, read_list, top10_dir
from csrnews.top10.model import Problem
from csrnews.top10.validate import validate_list

logger = logging.getLogger(__name__)

NAME_RE = re.compile(r"^\d{4}(?:-[a-z0-9][a-z0-9-]{0,60})?$")


class ListNotFound(LookupError):
    """No list of that name (or a name that is not one)."""


class ListConflict(Exception):
    """The list file changed since the editor loaded it."""

    def __init__(self, user: str, diff: list[str]) -> None:
        super().__init__(f"the list was changed by {user} since you loaded it")
        self.user = user
        self.diff = diff


def list_path(desk: Desk, name: str, *, exists: bool = True) -> Path:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ListNotFound(f"not a list name: {name!r}")
    path = top10_dir(desk.content) / f"{name}.yaml"
    if exists and not path.is_file():
        raise ListNotFound(f"no list {name!r}")
    return path


def all_lists(desk: Desk) -> list[tuple[str, Top10List | None, str]]:
    """(name, list or None when unreadable, problem text) for every list file."""
    found: list[tuple[str, Top10List | None, str]] = []
    for path in list_files(desk.content):
        try:
            found.append((path.stem, read_list(path), ""))
        except Top10Error as exc:
            found.append((path.stem, None, str(exc)))
    return found


@dataclass
class ListView:
    """One list with what its page shows."""

    name: str
    lst: Top10List
    text: str
    sha: str
    problems: list[Problem]
    publish_problems: list[Problem]
    candidates: list[Candidate]
    titles: dict[str, str]
    ids: dict[str, str]  # slug -> story id, for links to the stories


def view(desk: Desk, name: str) -> ListView:
    path = list_path(desk, name)
    text = path.read_text(encoding="utf-8")
    desk.bases.put(text)
    lst = read_list(path)
    archive = desk.catalogue.archive()
    problems = validate_list(lst, archive)
    as_published = validate_list(dataclasses.replace(lst, status="published"), archive)
    listed = lst.story_ranks()
    candidates = rank_candidates(archive, lst.year, load_weights(desk.content), listed)
    titles = {slug: story.title for slug, story in archive.items()}
    shown = {c.story.slug for c in candidates} | set(listed)
    ids = {s: desk.catalogue.id_of_path(archive[s].path) for s in shown if s in archive}
    return ListView(
        name, lst, text, text_sha(text), problems, as_published, candidates, titles, ids
    )


def _change(
    desk: Desk, name: str, base_sha: str, user: str, message: str, edit: Callable[[Path], Any]
) -> Any:
    """Run one edit of a list file under the write lock, if it is still the version seen."""
    with desk.writing():
        path = list_path(desk, name)
        current = path.read_text(encoding="utf-8")
        if text_sha(current) != base_sha:
            base = desk.bases.get(base_sha)
            who, _ = who_changed(desk, f"top10/{name}.yaml", current)
            raise ListConflict(who, diff_lines(base or "", current, "when you loaded it", "now"))
        result: list[Any] = []

        def write() -> str:
            result.append(edit(path))
            return path.read_text(encoding="utf-8")

        desk.history.record(f"top10/{name}.yaml", current, user, message, write)
    return result[0] if result else None


def add(
    desk: Desk,
    name: str,
    base_sha: str,
    user: str,
    *,
    slug: str,
    reason: str,
    rank: int | None,
    headline: str = "",
    out_of_year_reason: str = "",
) -> int:
    lst = read_list(list_path(desk, name))
    archive = desk.catalogue.archive()
    title = archive[slug].title if slug in archive else slug
    return int(
        _change(
            desk,
            name,
            base_sha,
            user,
            f"{lst.title}: added {title}",
            lambda path: add_story(
                path,
                archive,
                lst.year,
                slug,
                reason,
                rank=rank,
                headline=headline,
                out_of_year_reason=out_of_year_reason,
                out_of_year_hint="an out-of-year reason",
            ),
        )
    )


def move(desk: Desk, name: str, base_sha: str, user: str, src: int, dst: int) -> str:
    editor = ListEditor(list_path(desk, name))
    headline = editor.headlines()[src - 1] if 1 <= src <= editor.count else ""
    _change(
        desk,
        name,
        base_sha,
        user,
        f"{editor.lst.title}: moved No. {src} to No. {dst}",
        lambda path: ListEditor(path).move(src, dst),
    )
    return headline


def update(
    desk: Desk, name: str, base_sha: str, user: str, rank: int, values: dict[str, str]
) -> None:
    """Change an entry's headline, reason or account."""
    editor = ListEditor(list_path(desk, name))
    headline = editor.headlines()[rank - 1] if 1 <= rank <= editor.count else ""
    _change(
        desk,
        name,
        base_sha,
        user,
        f"{editor.lst.title}: No. {rank} ({headline}) changed",
        lambda path: ListEditor(path).update(rank, values),
    )


def remove(desk: Desk, name: str, base_sha: str, user: str, rank: int) -> str:
    editor = ListEditor(list_path(desk, name))
    headline = editor.headlines()[rank - 1] if 1 <= rank <= editor.count else ""
    _change(
        desk,
        name,
        base_sha,
        user,
        f"{editor.lst.title}: removed No. {rank} ({headline})",
        lambda path: ListEditor(path).remove(rank),
    )
    return headline


def publish(desk: Desk, name: str, base_sha: str, user: str, status: str) -> None:
    """Publish (only when the list passes every rule) or unpublish a list."""
    path = list_path(desk, name)
    lst = read_list(path)
    if status == "published":
        problems = validate_list(
            dataclasses.replace(lst, status="published"), desk.catalogue.archive()
        )
        if problems:
            raise Top10Error(problems)
    verb = "published" if status == "published" else "unpublished (draft)"
    _change(desk, name, base_sha, user, f"{lst.title}: {verb}", lambda p: set_status(p, status))


def new(desk: Desk, year: int, user: str, topic: str = "", title: str = "") -> str:
    """Start a draft list for a year; returns its name."""
    name = list_name(year, topic)
    path = list_path(desk, name, exists=False)
    text = list_text(year, title or default_title(year, "", topic), topic=topic)

    def write() -> str:
        if path.exists():  # said the desk's way (create_list names the file and a CLI option)
            raise Top10Error(
                f"There is already a list for {year}"
                + (f" on “{topic}”" if topic else "")
                + ": open it from the table below, or give a topic or region to start "
                "another list for that year."
            )
        create_list(path, text)
        return text

    with desk.writing():
        desk.history.record(
            f"top10/{name}.yaml",
            None,
            user,
            f"{title or default_title(year, '', topic)}: started on the desk",
            write,
        )
    return name


def restore(desk: Desk, name: str, version_id: str, user: str) -> None:
    """Make an earlier version of a list the current one, if it reads as a list."""
    rel = f"top10/{name}.yaml"
    with desk.writing():
        path = list_path(desk, name)
        old = desk.history.text(rel, version_id)
        if old is None:
            raise ListNotFound(f"no version {version_id!r} of list {name!r}")
        build_list(parse_yaml(old, path), path)
        current = path.read_text(encoding="utf-8")

        def write() -> str:
            write_text_atomic(path, old)
            return old

        desk.history.record(
            rel,
            current,
            user,
            f"{name}: restored the version {version_id[:10]}",
            write,
        )
