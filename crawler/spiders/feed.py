"""The feed spider: RSS 0.9x/1.0/2.0 and Atom via feedparser; each entry's link is fetched."""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import feedparser
import scrapy
from csrnews.crawler.context import CrawlContext
from csrnews.crawler.items import FeedEntry
from csrnews.crawler.sources import Source
from csrnews.crawler.spiders.base import StoryMixin, content_type, request_url
from scrapy.http import Response

logger = logging.getLogger(__name__)


def _entry_html(entry: Any) -> str:
    for item in entry.get("content") or []:
        if item.get("value"):
            return str(item["value"])
    return str(entry.get("summary") or entry.get("description") or "")


def _entry_date(entry: Any) -> str | None:
    """The entry's date as YYYY-MM-DD, when the feed gives a real one (feeds give "0000-00-00")."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = dict.get(entry, key)  # plain dict access: no feedparser fallback warnings
        if value:
            try:
                day = datetime.date(int(value[0]), int(value[1]), int(value[2]))
            except (ValueError, TypeError, IndexError):
                continue
            if day.year >= 1000:
                return day.isoformat()
    return None


def feed_entries(body: bytes, content_type: str | None = None) -> tuple[list[dict[str, Any]], str]:
    """Parse a feed into entries ({url, hash, title, date, html}); the second value is a problem."""
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(body, response_headers=headers)
    entries: list[dict[str, Any]] = []
    for entry in parsed.entries:
        link = entry.get("link") or ""
        if not link.startswith(("http://", "https://")):
            links = [x.get("href", "") for x in entry.get("links") or []]
            link = next((x for x in links if x.startswith(("http://", "https://"))), "")
        if not link:
            continue
        html = _entry_html(entry)
        title = str(entry.get("title") or "")
        date = _entry_date(entry)
        stamp = str(dict.get(entry, "updated") or dict.get(entry, "published") or "")
        digest = hashlib.sha1(
            "\x00".join((link, title, stamp, html)).encode("utf-8", "replace")
        ).hexdigest()[:16]
        entries.append({"url": link, "hash": digest, "title": title, "date": date, "html": html})
    problem = ""
    if not entries:
        if parsed.bozo:
            problem = f"malformed feed: {parsed.get('bozo_exception')}"
        elif not parsed.get("version"):
            problem = "not a feed"
    return entries, problem


class FeedSpider(StoryMixin, scrapy.Spider):
    """Fetch a source's feed (conditionally) and then every entry's page not stored yet."""

    name = "feed"

    def __init__(
        self, source: Source | None = None, ctx: CrawlContext | None = None, **kw: Any
    ) -> None:
        source, ctx = self.given(source, ctx)
        name = self.name if self.name != "feed" else f"feed:{source.name}"
        super().__init__(name=name, **kw)
        self.setup(source, ctx)

    async def start(self) -> AsyncIterator[Any]:
        for url in self.source.urls:
            yield self.index_request(url, self.parse_feed)

    def parse_feed(self, response: Response) -> Iterator[Any]:
        self.index_response(response)
        if response.status == 304:
            entries = self.ctx.state.children(request_url(response)) or []
        else:
            entries, problem = feed_entries(response.body, content_type(response))
            if problem:
                self.report.index_ok -= 1
                self.index_failed(response.url, problem)
                return
            self.save_index(response, entries)
        for entry in entries:
            fallback = FeedEntry(entry["title"], entry["date"], entry["html"])
            request = self.story_request(entry["url"], entry["hash"], fallback)
            if request is not None:
                yield request
