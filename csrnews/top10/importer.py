"""Start a list from the top-10 items the crawler recognised in a published list story."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from csrnews.top10.archive import ArchivedStory
from csrnews.top10.model import Top10Error

logger = logging.getLogger(__name__)


def top10_items(story: ArchivedStory) -> list[dict[str, object]]:
    """The story's Top10_items (JSON on one line), or [] when absent or unreadable."""
    raw = story.story.get("Top10_items")
    if not raw:
        return []
    try:
        items = json.loads(raw)
    except json.JSONDecodeError as exc:
        logger.warning("%s: Top10_items is not JSON: %s", story.path, exc)
        return []
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def find_list_story(archive: dict[str, ArchivedStory], year: int, source: str) -> ArchivedStory:
    """The source's list story for a year: Top10_items, the year in its title (else published
    the next January-to-March, as such lists usually are); the latest one if several."""
    wanted = source.strip().lower()
    from_source = [
        s
        for s in archive.values()
        if s.story.get("Source").strip().lower() == wanted and top10_items(s)
    ]
    if not from_source:
        names = sorted({s.story.get("Source") for s in archive.values() if top10_items(s)})
        hint = f" (sources with lists: {', '.join(names)})" if names else ""
        raise Top10Error(f"no story from source {source!r} has top-10 items{hint}")
    titled = [s for s in from_source if str(year) in s.title]
    if not titled:
        early = ("01", "02", "03")
        titled = [s for s in from_source if s.year == year + 1 and s.date[5:7] in early]
    if not titled:
        raise Top10Error(
            f"no top-10 list story for {year} from {source!r} "
            f"(found: {', '.join(s.slug for s in from_source)})"
        )
    return max(titled, key=lambda s: (s.date, s.slug))


def entries_from_story(story: ArchivedStory) -> list[dict[str, object]]:
    """Entries (rank, headline, url, reason) from the story's items, in rank order."""
    entries: list[dict[str, object]] = []
    url = story.story.get("Source_url")
    items = sorted(top10_items(story), key=lambda i: i.get("rank") or 0)  # type: ignore[arg-type,return-value]
    for item in items:
        entry: dict[str, object] = {
            "rank": int(item.get("rank") or 0),  # type: ignore[call-overload]
            "headline": str(item.get("headline") or "").strip(),
        }
        if url:
            entry["url"] = url
        reason = str(item.get("reason") or "").strip()
        if reason:
            entry["reason"] = reason
        entries.append(entry)
    return entries


def list_path_for(folder: Path, year: int, name: str | None) -> Path:
    return folder / f"{(name or str(year)).removesuffix('.yaml')}.yaml"
