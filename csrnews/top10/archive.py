"""The story archive as the top-10 code sees it: slug -> date, title, source and metadata."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from csrnews.story.storyfile import Story, iter_story_files, read_story
from csrnews.story.urls import title_slug

logger = logging.getLogger(__name__)

HIDDEN_STATUSES = frozenset({"hidden", "draft"})


@dataclass
class ArchivedStory:
    """What the lists need to know about one story file."""

    slug: str
    year: int
    date: str
    title: str
    path: Path
    story: Story

    @property
    def hidden(self) -> bool:
        return self.story.get("Status").lower() in HIDDEN_STATUSES


def story_slug(story: Story) -> str:
    """A story's slug as Pelican gives it: its Slug key, else made from its title (the
    settings' SLUGIFY_SOURCE), else (no usable title) its file name."""
    return (
        story.get("Slug")
        or title_slug(story.title).strip("-_")
        or (story.path.stem if story.path else "")
    )


def load_archive(content_dir: str | os.PathLike[str]) -> dict[str, ArchivedStory]:
    """Every story under <content>/news by slug (a slug seen twice keeps the first file)."""
    found: dict[str, ArchivedStory] = {}
    for path in iter_story_files(content_dir):
        if path.name.endswith(".fulltext.txt"):
            continue
        try:
            story = read_story(path)
        except (OSError, UnicodeDecodeError) as exc:
            logger.warning("cannot read story %s: %s", path, exc)
            continue
        slug = story_slug(story)
        date = story.get("Date")
        year = int(date[:4]) if date[:4].isdigit() else 0
        if slug and slug not in found:
            found[slug] = ArchivedStory(slug, year, date, story.title, path, story)
    return found
