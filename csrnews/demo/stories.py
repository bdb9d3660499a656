"""Load the demo publisher's story files and work out each story's URL and dates."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

logger = logging.getLogger(__name__)

STORIES_DIR = Path(__file__).resolve().parent / "stories"
PUBLISHER_KEYS: tuple[str, ...] = ("herald", "review", "weekly", "esn")
DEFAULT_DATE_STYLE: dict[str, str] = {
    "herald": "meta",
    "review": "time",
    "weekly": "byline",
    "esn": "jsonld",
}
DATE_STYLES: frozenset[str] = frozenset({"meta", "time", "byline", "jsonld", "url"})
ENCODINGS: frozenset[str] = frozenset({"utf-8", "gbk", "gb2312", "big5"})
CHARSET_PLACES: frozenset[str] = frozenset({"header", "meta", "none"})
CHINA = dt.timezone(dt.timedelta(hours=8))
# What url-style pages send as Last-Modified: a site rebuild, so the date is only in the URL.
SITE_REBUILT = dt.datetime(2020, 1, 6, 3, 0, tzinfo=dt.UTC)

_FRONT_RE = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", re.DOTALL)


class StoryError(ValueError):
    """A story file or a story added at run time is not in the demo format."""


@dataclass
class DemoStory:
    """One demo story as its publisher serves it (and, if reprinted, as a second one does)."""

    id: str
    publisher: str
    title: str
    date: dt.date  # the publication day
    published: dt.datetime  # the publication moment (noon UTC when only a day is given)
    has_time: bool
    lang: str
    body: str = field(repr=False)
    summary: str = ""
    author: str = ""
    date_style: str = "meta"
    encoding: str = "utf-8"
    charset_in: str = "header"
    flags: list[str] = field(default_factory=list)
    reprinted_by: str | None = None
    labels: dict[str, Any] = field(default_factory=dict, repr=False)
    meta: dict[str, Any] = field(default_factory=dict, repr=False)
    source_file: Path | None = None
    added_at: dt.datetime | None = None  # set for stories added at run time
    base_url: str = ""

    @property
    def path(self) -> str:
        """The story's path on its own publisher."""
        return story_path(self, self.publisher, self.date_style)

    @property
    def url(self) -> str:
        """The story's absolute URL on its own publisher."""
        return self.base_url + self.path

    @property
    def reprint_path(self) -> str | None:
        """The path of the reprint on the second publisher, if any."""
        if not self.reprinted_by:
            return None
        return story_path(self, self.reprinted_by, reprint_date_style(self))

    @property
    def reprint_url(self) -> str | None:
        """The absolute URL of the reprint, if any."""
        path = self.reprint_path
        return self.base_url + path if path else None

    @property
    def date_iso(self) -> str:
        """The date as machine-readable markup carries it: a day, or a full ISO 8601 moment."""
        if self.has_time:
            return self.published.isoformat()
        return self.date.isoformat()

    @property
    def changed(self) -> dt.datetime:
        """When this story last changed what a listing shows (for listings' Last-Modified)."""
        return max(self.published, self.added_at) if self.added_at else self.published


def reprint_date_style(story: DemoStory) -> str:
    """A reprint uses its publisher's house style (url style is kept: the date stays in the URL)."""
    if story.date_style == "url":
        return "url"
    return DEFAULT_DATE_STYLE[story.reprinted_by or story.publisher]


def story_path(story: DemoStory, publisher: str, date_style: str) -> str:
    """The path of a story on a publisher, following that publisher's URL scheme."""
    d = story.date
    if "robots_disallowed" in story.flags:
        return f"/{publisher}/members/{story.id}.html"
    if publisher == "herald":
        if date_style == "url":
            return f"/herald/news/{d:%Y/%m/%d}/{story.id}.html"
        return f"/herald/news/{d:%Y/%m}/{story.id}.html"
    if publisher == "review":
        if date_style == "url":
            return f"/review/articles/{d:%Y/%m/%d}/{story.id}/"
        return f"/review/articles/{story.id}/"
    if publisher == "weekly":
        if date_style == "url":
            return f"/weekly/story/{d:%Y-%m-%d}-{story.id}.html"
        return f"/weekly/story/{story.id}.html"
    if date_style == "url":
        return f"/esn/{d:%Y/%m/%d}/{story.id}"
    return f"/esn/{d:%Y}/{story.id}"


def _parse_date(value: Any) -> tuple[dt.date, dt.datetime, bool]:
    """Return (day, moment, has_time) for a front-matter date (YAML date, datetime or string)."""
    if isinstance(value, str):
        try:
            value = (
                dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
            )
        except ValueError as exc:
            raise StoryError(f"bad date {value!r}") from exc
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=CHINA)
        return moment.date(), moment, True
    if isinstance(value, dt.date):
        return value, dt.datetime(value.year, value.month, value.day, 12, tzinfo=dt.UTC), False
    raise StoryError(f"bad date {value!r}")


def story_from_meta(meta: dict[str, Any], body: str, source_file: Path | None = None) -> DemoStory:
    """Build a story from its front matter and Markdown body, checking the demo format."""
    missing = [key for key in ("id", "publisher", "title", "date") if not meta.get(key)]
    if missing:
        raise StoryError(f"{source_file or 'story'}: missing {', '.join(missing)}")
    publisher = str(meta["publisher"])
    if publisher not in PUBLISHER_KEYS:
        raise StoryError(f"{source_file or meta['id']}: unknown publisher {publisher!r}")
    day, moment, has_time = _parse_date(meta["date"])
    style = str(meta.get("date_style") or DEFAULT_DATE_STYLE[publisher])
    encoding = str(meta.get("encoding") or "utf-8").lower()
    charset_in = str(meta.get("charset_in") or "header")
    reprinted_by = meta.get("reprinted_by") or None
    problems = []
    if style not in DATE_STYLES:
        problems.append(f"date_style {style!r}")
    if encoding not in ENCODINGS:
        problems.append(f"encoding {encoding!r}")
    if charset_in not in CHARSET_PLACES:
        problems.append(f"charset_in {charset_in!r}")
    if reprinted_by is not None and (
        reprinted_by not in PUBLISHER_KEYS or reprinted_by == publisher
    ):
        problems.append(f"reprinted_by {reprinted_by!r}")
    if problems:
        raise StoryError(f"{source_file or meta['id']}: bad {', '.join(problems)}")
    return DemoStory(
        id=str(meta["id"]),
        publisher=publisher,
        title=str(meta["title"]),
        date=day,
        published=moment,
        has_time=has_time,
        lang=str(meta.get("lang") or "en"),
        body=body.strip() + "\n",
        summary=str(meta.get("summary") or ""),
        author=str(meta.get("author") or ""),
        date_style=style,
        encoding=encoding,
        charset_in=charset_in,
        flags=[str(f) for f in meta.get("flags") or []],
        reprinted_by=reprinted_by,
        labels=dict(meta.get("labels") or {}),
        meta=dict(meta),
        source_file=source_file,
    )


def read_story_file(path: Path) -> DemoStory:
    """Read one story file: YAML front matter between `---` lines, then Markdown."""
    text = path.read_text(encoding="utf-8")
    match = _FRONT_RE.match(text)
    if not match:
        raise StoryError(f"{path}: no YAML front matter")
    meta = yaml.safe_load(match.group(1)) or {}
    if not isinstance(meta, dict):
        raise StoryError(f"{path}: front matter is not a mapping")
    return story_from_meta(meta, match.group(2), source_file=path)


def load_stories(stories_dir: Path | str | None = None) -> list[DemoStory]:
    """Load every story under stories_dir/<publisher>/*.md; a broken file is logged and skipped."""
    root = Path(stories_dir) if stories_dir else STORIES_DIR
    stories: list[DemoStory] = []
    seen: set[str] = set()
    for path in sorted(root.glob("*/*.md")):
        try:
            story = read_story_file(path)
        except (StoryError, yaml.YAMLError, UnicodeDecodeError) as exc:
            logger.warning("skipping demo story %s: %s", path, exc)
            continue
        if story.id in seen:
            logger.warning("skipping demo story %s: duplicate id %s", path, story.id)
            continue
        seen.add(story.id)
        stories.append(story)
    logger.debug("loaded %d demo stories from %s", len(stories), root)
    return stories
