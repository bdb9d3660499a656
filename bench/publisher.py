"""A synthetic publisher on loopback: M seeded stories in the demo's format (csrnews.demo)."""

from __future__ import annotations

import logging
from pathlib import Path

import yaml

from bench.corpus import SEED, make_story
from csrnews.story.vocabulary import event_type_id

logger = logging.getLogger(__name__)

# Spread the pages over the four demo publishers: two feeds, paginated listings, a sitemap.
PUBLISHERS: tuple[str, ...] = ("herald", "review", "weekly", "esn")


def write_publisher_stories(folder: str | Path, pages: int, *, seed: int = SEED) -> int:
    """Write ``pages`` stories as ``<folder>/<publisher>/<id>.md``; returns how many.

    Story ``i`` uses the corpus generator's story ``i`` (a different seed offset, so the crawl
    does not fetch copies of the build corpus) and goes to publisher ``i % 4``.
    """
    root = Path(folder)
    for index in range(pages):
        story = make_story(index, seed + 1).story
        publisher = PUBLISHERS[index % len(PUBLISHERS)]
        meta = {
            "id": f"bench-{index:06d}",
            "publisher": publisher,
            "title": story.title,
            "date": story.get("Date"),
            "lang": story.get("Lang"),
            "author": "Bench Reporter",
            "summary": story.get("Summary"),
            "labels": {
                "type": event_type_id(story.get("Category")),
                "organisations": story.get_list("Organisations"),
                "standards": story.get_list("Standards"),
                "locations": story.get_list("Locations"),
            },
        }
        front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
        path = root / publisher / f"{meta['id']}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\n{front}---\n{story.body}\n", encoding="utf-8")
    logger.debug("wrote %d publisher stories to %s", pages, root)
    return pages
