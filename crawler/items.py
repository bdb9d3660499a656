"""The typed crawl item: a fetched story page as the spiders yield it and the pipeline fills it.

Spiders set the first fields; each pipeline step (extract -> enrich -> dedupe -> write) fills
its own. Scrapy handles dataclass items as it handles dicts (itemadapter).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from csrnews.crawler.enrichment import Enrichment
from csrnews.crawler.extraction import Extracted


@dataclass
class FeedEntry:
    """A feed entry's own title, date and text: the story when its page cannot be had."""

    title: str = ""
    date: str | None = None
    html: str = field(default="", repr=False)

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any] | None) -> FeedEntry | None:
        """The entry a request's meta carries (a plain mapping: requests may go through JSON)."""
        if not meta:
            return None
        return cls(
            title=str(meta.get("title") or ""),
            date=str(meta["date"]) if meta.get("date") else None,
            html=str(meta.get("html") or ""),
        )

    def as_meta(self) -> dict[str, Any]:
        """The entry as a request's meta value."""
        return {"title": self.title, "date": self.date, "html": self.html}


@dataclass
class StoryItem:
    """One story page of one source, from its fetch to its story file."""

    # The spider's: what was fetched.
    source: str
    url: str  # the story's URL as listed (the key it is stored under)
    final_url: str  # after redirects
    body: bytes | None = field(default=None, repr=False)  # None: the feed entry is the story
    content_type: str | None = None
    entry_hash: str | None = None  # the feed entry's or sitemap's version of the story
    fallback: FeedEntry | None = field(default=None, repr=False)
    # ExtractPipeline's.
    extracted: Extracted | None = field(default=None, repr=False)
    from_fallback: bool = False
    # EnrichPipeline's.
    enrichment: Enrichment | None = field(default=None, repr=False)
    # DedupePipeline's.
    keys: list[str] = field(default_factory=list)  # every URL key of the story
    signature: list[int] | None = field(default=None, repr=False)
    path: str | None = None  # the stored story's file (relative to the content folder)
    duplicate: bool = False  # a reprint of the stored story
    original: bool = False  # ... of which this page is the original
    # WritePipeline's.
    superseded: bool = False
    outcome: str = ""  # new | updated | unchanged | merged | kept (a worker's: queued)

    @property
    def page(self) -> Extracted:
        """The extracted page (after ExtractPipeline)."""
        if self.extracted is None:
            raise ValueError(f"{self.url}: the item was not extracted yet")
        return self.extracted

    @property
    def found(self) -> Enrichment:
        """What enrichment found (after EnrichPipeline)."""
        if self.enrichment is None:
            raise ValueError(f"{self.url}: the item was not enriched yet")
        return self.enrichment

    @property
    def stored(self) -> str:
        """The stored story's path (when DedupePipeline found one)."""
        if self.path is None:
            raise ValueError(f"{self.url}: no stored story")
        return self.path
