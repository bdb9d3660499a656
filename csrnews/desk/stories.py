"""The stories the desk knows: ids resolved inside the content folder, a catalogue, and finding.

A story's id is its file's path under ``<content>/news`` without ``.md`` (``2019/zh-d2f2``).
Ids come from requests, so they are checked against a strict pattern and the resolved path
must stay inside the news folder: nothing else on disk can be named.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csrnews.search.query import IndexMissingError, QueryError, SearchRequest
from csrnews.story.storyfile import Story, is_edited, iter_story_files, parse_story
from csrnews.story.urls import story_url
from csrnews.story.vocabulary import EVENT_TYPES, event_type_id
from csrnews.top10.archive import ArchivedStory, story_slug

logger = logging.getLogger(__name__)

_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}"
ID_RE = re.compile(rf"^{_SEGMENT}(?:/{_SEGMENT}){{0,3}}$")
PER_PAGE = 50
SEARCH_DEPTH = 200  # best index matches the desk looks at for one search
RESCAN_SECONDS = 5.0  # a rescan stats every story file (about 0.6 s at 20,000 stories)
SORTS = {
    "date": "newest first",
    "date-asc": "oldest first",
    "title": "title",
    "crawled": "crawled, newest first",
    "relevance": "best match",
}


class StoryNotFound(LookupError):
    """No story with this id (or an id that is not one at all)."""


def news_dir(content: Path) -> Path:
    return Path(content) / "news"


def resolve_id(content: Path, story_id: str) -> Path:
    """The story file of an id, which must exist inside ``<content>/news``."""
    if not isinstance(story_id, str) or not ID_RE.match(story_id) or ".." in story_id:
        raise StoryNotFound(f"not a story id: {story_id!r}")
    root = Path(os.path.realpath(news_dir(content)))
    path = Path(os.path.realpath(root / f"{story_id}.md"))
    if root not in path.parents or not path.is_file():
        raise StoryNotFound(f"no story {story_id!r}")
    return path


def id_of(content: Path, path: Path) -> str:
    rel = Path(os.path.realpath(path)).relative_to(os.path.realpath(news_dir(content)))
    return rel.with_suffix("").as_posix()


@dataclass(frozen=True)
class StoryRecord:
    """What the story list shows and filters on, read from one file."""

    id: str
    rel: str  # path relative to the content folder (news/2019/x.md), as history names it
    title: str
    date: str
    year: int
    slug: str
    lang: str
    category: str  # event-type id
    source: str
    status: str  # "" (visible), "hidden" or "draft"
    edited: bool
    crawled: str
    modified: str
    url: str
    summary: str

    @property
    def hidden(self) -> bool:
        return self.status in ("hidden", "draft")


def _record(content: Path, path: Path, text: str) -> tuple[StoryRecord, Story]:
    story = parse_story(text, path)
    date = story.get("Date")
    year = int(date[:4]) if date[:4].isdigit() else 0
    slug = story_slug(story) or path.stem
    sid = id_of(content, path)
    record = StoryRecord(
        id=sid,
        rel=f"news/{sid}.md",
        title=story.title or path.stem,
        date=date,
        year=year,
        slug=slug,
        lang=(story.get("Lang") or "en").lower(),
        category=event_type_id(story.get("Category") or "other"),
        source=story.get("Source"),
        status=story.get("Status").lower(),
        edited=is_edited(text),
        crawled=story.get("Crawled"),
        modified=story.get("Modified"),
        url=story_url(year or "undated", slug),
        summary=story.get("Summary"),
    )
    return record, Story(meta=story.meta, path=path)  # the metadata only: no body kept


class Catalogue:
    """Every story file's record and metadata, re-read only for files whose size or mtime
    changed; also the archive the top-10 code needs, without reading every file again."""

    def __init__(self, content: Path) -> None:
        self.content = Path(content)
        self._lock = threading.Lock()
        self._files: dict[Path, tuple[tuple[int, int], StoryRecord, Story]] = {}
        self._scanned = 0.0
        self._records: list[StoryRecord] = []
        self._archive: dict[str, ArchivedStory] | None = None

    def invalidate(self) -> None:
        self._scanned = 0.0

    def records(self) -> list[StoryRecord]:
        with self._lock:
            if time.monotonic() - self._scanned > RESCAN_SECONDS:
                self._rescan()
            return self._records

    def _rescan(self) -> None:
        files: dict[Path, tuple[tuple[int, int], StoryRecord, Story]] = {}
        changed = False
        for path in iter_story_files(self.content):
            try:
                stat = path.stat()
            except OSError:
                continue
            stamp = (stat.st_mtime_ns, stat.st_size)
            known = self._files.get(path)
            if known is not None and known[0] == stamp:
                files[path] = known
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                logger.warning("desk: cannot read %s: %s", path, exc)
                continue
            files[path] = (stamp, *_record(self.content, path, text))
            changed = True
        if changed or files.keys() != self._files.keys():
            self._archive = None
        self._files = files
        self._records = [record for _, record, _ in files.values()]
        self._scanned = time.monotonic()

    def id_of_path(self, path: Path) -> str:
        """The id of a story file the catalogue knows (as found under the news folder)."""
        known = self._files.get(path)
        return known[1].id if known is not None else id_of(self.content, path)

    def archive(self) -> dict[str, ArchivedStory]:
        """slug -> ArchivedStory, as csrnews.top10.archive.load_archive gives (first file by
        path wins), from what the catalogue already read."""
        self.records()
        with self._lock:
            if self._archive is None:
                found: dict[str, ArchivedStory] = {}
                for path in sorted(self._files):
                    _, record, story = self._files[path]
                    slug = story_slug(story)
                    if slug and slug not in found:
                        date = story.get("Date")
                        found[slug] = ArchivedStory(
                            slug, record.year, date, story.title, path, story
                        )
                self._archive = found
            return self._archive

    def get(self, story_id: str) -> StoryRecord | None:
        return next((r for r in self.records() if r.id == story_id), None)

    def by_slug(self) -> dict[str, StoryRecord]:
        found: dict[str, StoryRecord] = {}
        for record in sorted(self.records(), key=lambda r: r.id):
            found.setdefault(record.slug, record)
        return found


@dataclass
class StoryQuery:
    """The story list's search box, filters, sort and page (from the query string)."""

    q: str = ""
    source: str = ""
    type: str = ""
    year: str = ""
    lang: str = ""
    status: str = ""  # "", "visible", "hidden"
    edited: str = ""  # "", "yes", "no"
    crawled_since: str = ""  # YYYY-MM-DD
    sort: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> StoryQuery:
        def one(name: str, limit: int = 200) -> str:
            return str(args.get(name, "") or "").strip()[:limit]

        page = one("page")
        return cls(
            q=one("q", 300),
            source=one("source"),
            type=one("type") if one("type") in EVENT_TYPES else "",
            year=one("year") if one("year").isdigit() else "",
            lang=one("lang", 10),
            status=one("status") if one("status") in ("visible", "hidden") else "",
            edited=one("edited") if one("edited") in ("yes", "no") else "",
            crawled_since=one("crawled_since", 10)
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", one("crawled_since", 10))
            else "",
            sort=one("sort") if one("sort") in SORTS else "",
            page=int(page) if page.isdigit() and 0 < int(page) < 100000 else 1,
        )

    def args(self, **changes: Any) -> dict[str, Any]:
        """The query string of this query with some values changed (for links)."""
        values = {**self.__dict__, **changes}
        return {k: v for k, v in values.items() if v and not (k == "page" and v == 1)}


@dataclass
class Found:
    """One page of the story list."""

    records: list[StoryRecord]
    total: int
    page: int
    pages: int
    sort: str
    notes: list[str] = field(default_factory=list)


def _matches(record: StoryRecord, query: StoryQuery) -> bool:
    if query.source and record.source != query.source:
        return False
    if query.type and record.category != query.type:
        return False
    if query.year and record.year != int(query.year):
        return False
    if query.lang and record.lang != query.lang:
        return False
    if query.status == "visible" and record.hidden:
        return False
    if query.status == "hidden" and not record.hidden:
        return False
    if query.edited and record.edited != (query.edited == "yes"):
        return False
    return not (query.crawled_since and record.crawled[:10] < query.crawled_since)


def _index_ranking(search: Any, q: str, notes: list[str]) -> dict[str, int]:
    """url -> rank of the index's best matches for q (empty when the index cannot answer)."""
    try:
        answer = search.search(SearchRequest(q=q, per_page=SEARCH_DEPTH))
    except QueryError as exc:
        notes.append(f"The search index did not understand the query: {exc}")
        return {}
    except IndexMissingError as exc:
        notes.append(f"The search index cannot be used ({exc}); titles were searched instead.")
        return {}
    if answer["total"] > SEARCH_DEPTH:
        notes.append(f"The best {SEARCH_DEPTH} of {answer['total']} index matches are shown.")
    return {hit["url"]: rank for rank, hit in enumerate(answer["hits"])}


def find(catalogue: Catalogue, search: Any, query: StoryQuery) -> Found:
    """Filter, search (the Whoosh index, plus titles and ids for what it does not hold: hidden
    stories and stories not built yet), sort and page the stories."""
    notes: list[str] = []
    records = [r for r in catalogue.records() if _matches(r, query)]
    sort = query.sort or ("relevance" if query.q else "date")
    ranking: dict[str, int] = {}
    if query.q:
        ranking = _index_ranking(search, query.q, notes)
        words = query.q.casefold().split()  # each word in the title or the id, in any order
        late = len(ranking)
        kept = []
        for record in records:
            if record.url in ranking and not record.hidden:
                kept.append(record)
            elif words and all(
                w in record.title.casefold() or w in record.id.casefold() for w in words
            ):
                ranking.setdefault(record.url + "#" + record.id, late)
                kept.append(record)
        records = kept
    if sort == "relevance":
        records.sort(key=lambda r: ranking.get(r.url, ranking.get(r.url + "#" + r.id, 1 << 30)))
    elif sort == "date-asc":
        records.sort(key=lambda r: (r.date, r.id))
    elif sort == "title":
        records.sort(key=lambda r: r.title.casefold())
    elif sort == "crawled":
        records.sort(key=lambda r: (r.crawled, r.id), reverse=True)
    else:
        records.sort(key=lambda r: (r.date, r.id), reverse=True)
    total = len(records)
    pages = max(1, -(-total // PER_PAGE))
    page = min(query.page, pages)
    start = (page - 1) * PER_PAGE
    return Found(records[start : start + PER_PAGE], total, page, pages, sort, notes)
