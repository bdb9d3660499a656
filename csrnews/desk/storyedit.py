"""Fix, hide, write and restore stories: every write through csrnews.story.storyfile, recorded, and
refused with a conflict when the file changed since the editor opened it."""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from csrnews.desk.objects import text_sha
from csrnews.desk.service import Desk
from csrnews.desk.stories import StoryNotFound, id_of, resolve_id
from csrnews.story.storyfile import (
    Story,
    parse_story,
    render_story,
    slugify,
    story_path,
    write_edited_story,
)
from csrnews.story.vocabulary import event_type_id, event_type_label

logger = logging.getLogger(__name__)

# Form field -> (story key, label); list fields are comma-separated in the form.
FIELDS: dict[str, tuple[str, str]] = {
    "title": ("Title", "title"),
    "summary": ("Summary", "summary"),
    "category": ("Category", "event type"),
    "tags": ("Tags", "topics"),
    "organisations": ("Organisations", "organisations"),
    "standards": ("Standards", "standards"),
    "locations": ("Locations", "places"),
    "event_date": ("Event_date", "event date"),
    "body": ("", "text"),
}
LIST_FIELDS = frozenset({"tags", "organisations", "standards", "locations"})
# What separates a list field's items as editors type them: commas, Chinese ones too (，、；).
LIST_SEPARATORS = re.compile(r"[,，、;；]")
NEW_FIELDS: dict[str, tuple[str, str]] = {"date": ("Date", "date"), "lang": ("Lang", "language")}


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


def shown_date(raw: str) -> str:
    """An Event_date as the form's date field can show it: the date of an ISO date or
    datetime ("2019-03-01 10:00" as 2019-03-01, as the site reads it); anything else as
    written (the form then shows it as text, and asks for a date only if it is saved)."""
    text = (raw or "").strip()
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return text


def form_values(story: Story) -> dict[str, str]:
    """A story as the edit form shows it."""
    values = {}
    for name, (key, _) in FIELDS.items():
        if name == "body":
            values[name] = story.body.strip("\n")
        elif name == "event_date":
            values[name] = shown_date(story.get(key))
        elif name == "category":
            values[name] = event_type_id(story.get("Category") or "other")
        elif name in LIST_FIELDS:
            values[name] = ", ".join(story.get_list(key))
        else:
            values[name] = story.get(key)
    return values


def apply_values(story: Story, values: dict[str, str]) -> list[str]:
    """Set the form's values on a story; returns the labels of the fields that changed."""
    before = form_values(story)
    for name, (key, _) in FIELDS.items():
        if name not in values:
            continue
        value = values[name] or ""
        if name == "body":
            story.body = value.replace("\r\n", "\n")
        elif name == "category":
            story.set("Category", event_type_label(value))
        elif name in LIST_FIELDS:
            story.set_list(key, LIST_SEPARATORS.split(value))
        elif value != before[name]:  # unchanged: the file keeps its own form ("… 10:00")
            story.set(key, value)
    after = form_values(story)
    return [FIELDS[n][1] for n in FIELDS if before[n] != after[n]]


@dataclass
class Conflict:
    """The file changed since the editor opened it: what the other change was."""

    current_sha: str
    other_user: str
    other_time: float
    other_diff: list[str]
    merged: dict[str, str]  # their version with my changes where they did not touch
    both_changed: list[str]  # labels of fields both changed differently
    known_base: bool
    yours: dict[str, str] = field(default_factory=dict)  # label -> my text, of those fields


@dataclass
class Outcome:
    """What a save did."""

    saved: bool
    story_id: str
    message: str
    conflict: Conflict | None = None
    changed: list[str] = field(default_factory=list)


def diff_lines(old: str, new: str, old_name: str = "before", new_name: str = "after") -> list[str]:
    return list(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), old_name, new_name, lineterm="", n=2
        )
    )


def _conflict(desk: Desk, rel: str, base_sha: str, current: str, mine: dict[str, str]) -> Conflict:
    base_text = desk.bases.get(base_sha)
    theirs = form_values(parse_story(current))
    merged, both = dict(theirs), []
    if base_text is not None:
        base = form_values(parse_story(base_text))
        for name in FIELDS:
            if name not in mine:
                continue
            if mine[name] != base[name]:
                if theirs[name] != base[name] and theirs[name] != mine[name]:
                    both.append(FIELDS[name][1])
                merged[name] = mine[name] if theirs[name] == base[name] else theirs[name]
    else:
        both = [FIELDS[n][1] for n in FIELDS if n in mine and mine[n] != theirs[n]]
    user, when = who_changed(desk, rel, current)
    labels = {label: name for name, (_, label) in FIELDS.items()}
    yours = {label: mine[labels[label]] for label in both}  # the form shows theirs: keep mine
    return Conflict(
        current_sha=text_sha(current),
        other_user=user,
        other_time=when,
        other_diff=diff_lines(base_text, current, "when you opened it", "now")
        if base_text is not None
        else diff_lines("", current, "", "now"),
        merged=merged,
        both_changed=both,
        known_base=base_text is not None,
        yours=yours,
    )


OUTSIDE = "someone outside the desk (the crawler, or by hand)"


def who_changed(desk: Desk, rel: str, current: str) -> tuple[str, float]:
    """Who made a file what it is now: the desk user whose version it is, else outside."""
    versions = desk.history.versions(rel)
    if versions and not versions[0].outside:
        text = desk.history.text(rel, versions[0].id)
        if text is not None and text_sha(text) == text_sha(current):
            return versions[0].user, versions[0].time
    return OUTSIDE, 0.0


def open_for_edit(desk: Desk, story_id: str) -> tuple[Path, Story, str]:
    """The story's file, parsed, and the SHA of the text the editor starts from (kept, so a
    later conflict can show what changed since)."""
    path = resolve_id(desk.content, story_id)
    text = path.read_text(encoding="utf-8")
    return path, parse_story(text, path), desk.bases.put(text)


def _rel(desk: Desk, path: Path) -> str:
    return f"news/{id_of(desk.content, path)}.md"


def save(desk: Desk, story_id: str, values: dict[str, str], base_sha: str, user: str) -> Outcome:
    """Save the edit form; a conflict (nothing written) when the file changed since base."""
    with desk.writing():
        path = resolve_id(desk.content, story_id)
        rel = _rel(desk, path)
        current = path.read_text(encoding="utf-8")
        if text_sha(current) != base_sha:
            return Outcome(
                False,
                story_id,
                "Not saved: this story was changed since you opened it.",
                _conflict(desk, rel, base_sha, current, values),
            )
        story = parse_story(current, path)
        changed = apply_values(story, values)
        if not changed:
            return Outcome(False, story_id, "Nothing to save: no field was changed.")
        story.set("Modified", now_iso())
        desk.history.record(
            rel,
            current,
            user,
            f"{story.title}: {', '.join(changed)} changed on the desk",
            lambda: write_edited_story(path, story),
        )
    logger.info("desk: %s saved %s (%s)", user, rel, ", ".join(changed))
    return Outcome(True, story_id, f"Saved: {', '.join(changed)} changed.", changed=changed)


def set_visibility(desk: Desk, story_id: str, hidden: bool, base_sha: str, user: str) -> Outcome:
    """Hide a story (Status: hidden) or show it again."""
    with desk.writing():
        path = resolve_id(desk.content, story_id)
        rel = _rel(desk, path)
        current = path.read_text(encoding="utf-8")
        if text_sha(current) != base_sha:
            return Outcome(
                False,
                story_id,
                "Not changed: this story was changed since you opened it; look again first.",
            )
        story = parse_story(current, path)
        story.set("Status", "hidden" if hidden else None)
        story.set("Modified", now_iso())
        what = "hidden" if hidden else "shown again"
        desk.history.record(
            rel, current, user, f"{story.title}: {what}", lambda: write_edited_story(path, story)
        )
    return Outcome(True, story_id, f"The story is {what} (live after the next rebuild).")


def restore(desk: Desk, story_id: str, version_id: str, user: str) -> Outcome:
    """Make an earlier version the current one (a new version; nothing is lost)."""
    with desk.writing():
        path = resolve_id(desk.content, story_id)
        rel = _rel(desk, path)
        old = desk.history.text(rel, version_id)
        if old is None:
            raise StoryNotFound(f"no version {version_id!r} of {story_id!r}")
        current = path.read_text(encoding="utf-8")
        story = parse_story(old, path)
        story.set("Modified", now_iso())
        desk.history.record(
            rel,
            current,
            user,
            f"{story.title}: restored the version {version_id[:10]}",
            lambda: write_edited_story(path, story),
        )
    return Outcome(True, story_id, f"Restored the version {version_id[:10]}.")


def create(desk: Desk, values: dict[str, str], user: str) -> Outcome:
    """Write a new story from the form (it is the editors' own: never crawled over)."""
    date = values["date"]
    story = Story()
    story.set("Title", values["title"])
    story.set("Date", date)
    story.set("Lang", values.get("lang") or "en")
    apply_values(story, values)
    base = slugify(values["title"], key=f"{values['title']}|{date}")
    with desk.writing():
        slug, n = base, 1
        path = story_path(desk.content, date[:4], slug)
        while path.exists():
            n += 1
            slug = f"{base}-{n}"
            path = story_path(desk.content, date[:4], slug)
        story.set("Slug", slug)
        story.set("Modified", None)
        # Keys in the file's usual order: render once to lay them out.
        story = parse_story(render_story(story, fingerprint=False), path)
        rel = f"news/{date[:4]}/{slug}.md"
        desk.history.record(
            rel,
            None,
            user,
            f"{story.title}: written on the desk",
            lambda: write_edited_story(path, story),
        )
    story_id = f"{date[:4]}/{slug}"
    return Outcome(True, story_id, "The story was written (live after the next rebuild).")
